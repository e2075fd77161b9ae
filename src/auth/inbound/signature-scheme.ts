/**
 * @module auth/inbound/signature-scheme
 * What every webhook signing scheme shares: the request as a scheme sees it,
 * the refusal (401 JNC_AUTH_DENIED, naming what was wrong and never the secret
 * or the signature expected), the timestamp window, and a comparison whose time
 * does not depend on where two signatures differ.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Secret } from '../../core/secret.ts';
import { errors, type JunctionError } from '../../core/errors.ts';

export interface SignedRequest {
  readonly headers: IncomingHttpHeaders;
  /** The body's bytes exactly as received: what the sender signed. */
  readonly body: Buffer;
  /** The engine's clock, in whole seconds since the epoch. */
  readonly nowSec: number;
  readonly toleranceSec: number;
}

/** One way of signing webhooks: how a secret must look, and how a request is verified. */
export interface SignatureScheme {
  /** Says what is wrong with a secret's form (never its value), or undefined when it is usable. Runs at config load. */
  checkSecret(value: string): string | undefined;
  /**
   * Verifies the request against every secret (any one may have signed it;
   * each is revealed per request, so a secret that follows its file is current) and
   * returns the id the sender gave the message, when it has one, so that a
   * replay is accepted once.
   * @throws JNC_AUTH_DENIED (401) saying which header is missing or malformed, that the timestamp is stale, or that no signature matches
   */
  verify(req: SignedRequest, secrets: readonly Secret[]): string | undefined;
}

export function refuse(why: string): JunctionError {
  return errors.AUTH_DENIED.create([why]);
}

/** The header's value, or a refusal naming it; a repeated header counts as its first value. */
export function requireHeader(headers: IncomingHttpHeaders, name: string, display: string): string {
  const raw = headers[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) throw refuse(`missing the ${display} header`);
  return value;
}

export function optionalHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
}

/**
 * Parses a Unix time in seconds and refuses it outside the window, in either
 * direction: a stale one may be a captured request played again, and one from
 * the future would stay acceptable for longer than the window.
 */
export function checkTimestamp(value: string, what: string, req: SignedRequest): number {
  if (!/^\d{1,12}$/.test(value)) throw refuse(`${what} is not a Unix time in seconds`);
  const ts = Number(value);
  const age = req.nowSec - ts;
  if (age > req.toleranceSec) throw refuse(`${what} is ${age} s old, more than the ${req.toleranceSec} s allowed (stale or replayed; check the sender's clock)`);
  if (-age > req.toleranceSec) throw refuse(`${what} is ${-age} s in the future, more than the ${req.toleranceSec} s allowed (check the sender's clock)`);
  return ts;
}

/** True when the two are equal, in a time that depends only on their lengths. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when any presented signature equals any expected one. Every pair is
 * compared, even after a match, so the time taken does not tell which secret
 * signed the request.
 */
export function anyMatch(presented: readonly Buffer[], expected: readonly Buffer[]): boolean {
  let match = false;
  for (const p of presented) for (const e of expected) match = sameBytes(p, e) || match;
  return match;
}
