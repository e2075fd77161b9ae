/**
 * @module auth/inbound/inbound
 * Who may send messages to a trigger. An authenticator looks at a request (its
 * headers, and its raw bytes for signatures) and names the caller, or refuses:
 * 401 (JNC_AUTH_DENIED) when the credentials are missing or wrong, 403
 * (JNC_AUTH_FORBIDDEN) when they are right but not allowed here. A refusal says
 * what was wrong and never what the secret is.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../observability/logger.ts';

export interface InboundRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received, for signatures; undefined for a streamed body. */
  rawBody: Buffer | undefined;
  ip: string;
}

export interface Caller {
  /** Names the caller in logs, metrics and rate limits: a key's name, a JWT subject, a signing scheme. */
  consumer: string;
  /** Which authenticator admitted it: `apiKeys`, `jwt`, `signature`, or `none`. */
  via: string;
  /** A message id the sender signed (webhook-id), to accept a replay once. */
  messageId?: string;
}

/**
 * A consumer name as configured for an authenticator: letters, digits and
 * `. _ - @ :`, at most 100 characters. Each authenticator says what it defaults to.
 */
export const consumerName = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9][\w.@:-]*$/, 'letters, digits and . _ - @ :, starting with a letter or digit');

export const ANONYMOUS: Caller = { consumer: 'anonymous', via: 'none' };

/** Authenticators whose consumer names come from the config: few, and known in advance. */
const CONFIGURED_NAMES = new Set(['apiKeys', 'signature', 'none']);

/**
 * The caller as a metric label, which must take few values: a configured
 * consumer name, `anonymous`, or the authenticator's kind where the name comes
 * from the request (a JWT's subject: one per user); `unauthenticated` when the
 * caller was refused before it was named.
 */
export function consumerLabel(caller: Caller | undefined): string {
  if (caller === undefined) return 'unauthenticated';
  return CONFIGURED_NAMES.has(caller.via) ? caller.consumer : caller.via;
}

export type Authenticator = (req: InboundRequest) => Promise<Caller>;

export interface AuthenticatorDeps {
  clock: Clock;
  logger: Logger;
}

/** One kind of inbound credential: its key under `http.auth`, its options schema and its factory. */
export interface AuthenticatorDefinition<O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly summary: string;
  readonly options: O;
  create(options: z.output<O>, deps: AuthenticatorDeps): Authenticator | Promise<Authenticator>;
}

export function defineAuthenticator<O extends z.ZodType>(def: AuthenticatorDefinition<O>): AuthenticatorDefinition<O> {
  return def;
}

/** The credential in `Authorization: Bearer <credential>`; undefined when there is none. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
}

/**
 * SHA-256 of a credential, for comparing with timingSafeEqual: digests have one
 * length whatever the credential's, and leave no plain copy of it in memory.
 */
export function credentialDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
