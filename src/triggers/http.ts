/**
 * @module triggers/http
 * Turns an HTTP request into a new message: the dedupe key (the trigger's
 * expression, or the `Idempotency-Key` header), the headers worth keeping (never
 * credentials), the path and its query apart (never a credential's value), and
 * the W3C trace context. An XML body must be well-formed to be let in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpTriggerConfig } from '../config/schema.ts';
import { coerceError, errors, JunctionError } from '../core/errors.ts';
import { compileExpression, type Expression } from '../core/expression.ts';
import { checkKey, keyFromExpression } from './dedupe-key.ts';
import type { Json, NewMessage } from '../core/message.ts';
import type { Readable } from 'node:stream';
import { ingestRecords, type RecordsResult } from './records.ts';
import type { Ingest } from './trigger.ts';
import { ANONYMOUS, type Authenticator, type Caller, type InboundRequest } from '../auth/inbound/inbound.ts';
import { createInboundRateLimiter } from './rate-limit.ts';
import { isSensitiveQueryName, SENSITIVE_HEADERS } from '../observability/redact.ts';
import { mediaKind } from '../core/media.ts';
import { xmlSyntaxError } from '../steps/convert/xml.ts';

/** Credentials (the one list the logs redact too) and hop-by-hop headers are not kept with the message, nor in dead letters. */
const DROPPED_HEADERS = new Set([...SENSITIVE_HEADERS, 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export interface HttpRequestLike {
  headers: IncomingHttpHeaders;
  body: unknown;
  url: string;
}

/** A request let in: who sent it, and headers its answer carries whatever it turns out to be (RateLimit). */
export interface Admission {
  caller: Caller;
  headers: Record<string, string>;
}

/** Runs the flow's ingress steps on a message before it is stored; rejects to refuse it. */
export type IngressCheck = (msg: NewMessage) => Promise<void>;

export interface HttpTrigger {
  readonly flow: string;
  readonly config: HttpTriggerConfig;
  /**
   * Names the caller, or throws 401/403; then counts the request against the
   * caller's `rateLimit`, or throws 429. Called before the request becomes a
   * message; a trigger without `auth` admits anyone, without `rateLimit` any number.
   */
  admit(req: InboundRequest): Promise<Admission>;
  /** Set when the flow answers synchronously (respond step): how long to wait. */
  readonly respondTimeoutMs: number | undefined;
  /**
   * Throws an input error (4xx) when the request cannot become a message: XML
   * that is not well-formed (400), an unusable key, or a body the flow's ingress
   * steps refuse (422).
   */
  toMessage(req: HttpRequestLike, caller: Caller, now: number): Promise<NewMessage>;
  /** For a trigger with `records`: streams the upload into one message per record. */
  ingestRecords(req: { headers: IncomingHttpHeaders; url: string; body: Readable }, caller: Caller, now: number, ingest: Ingest): Promise<RecordsResult>;
}

export interface HttpTriggerOptions {
  check?: IngressCheck | undefined;
  respondTimeoutMs?: number | undefined;
  authenticate?: Authenticator | undefined;
}

export function createHttpTrigger(flow: string, config: HttpTriggerConfig, opts: HttpTriggerOptions = {}): HttpTrigger {
  const { check, authenticate } = opts;
  const keyExpr: Expression | undefined = config.idempotencyKey === undefined ? undefined : compileExpression(config.idempotencyKey);
  const limiter = config.rateLimit && createInboundRateLimiter(flow, config.rateLimit);

  return {
    flow,
    config,
    respondTimeoutMs: opts.respondTimeoutMs,
    async admit(req) {
      // Authentication first: a refused request spends no one's allowance, and the allowance is the caller's.
      const caller = authenticate ? await authenticate(req) : ANONYMOUS;
      return { caller, headers: limiter ? await limiter.take(caller, req.ip) : {} };
    },
    ingestRecords(req, caller, now, ingest) {
      if (!config.records) throw errors.INTERNAL.create([`flow ${flow} does not take records`]);
      const headers = keptHeaders(req.headers);
      return ingestRecords({
        source: req.body,
        options: config.records,
        base: { flow, headers, meta: metaFor(req.url, caller, now), traceparent: headers.traceparent },
        uploadKey: headers['idempotency-key'],
        keyExpression: keyExpr,
        ingest,
        check: check && ((msg) => check(msg).catch(refusal)),
      });
    },
    async toMessage(req, caller, now) {
      const headers = keptHeaders(req.headers);
      if (mediaKind(headers['content-type']) === 'xml') checkXml(req.body);
      const body = req.body as Json;
      // A signed webhook id is the sender's own idempotency key, and it wins over the
      // Idempotency-Key header: that header is not signed, so a captured request resent
      // with a new one would otherwise pass as a new message.
      const dedupeKey = keyExpr ? await keyFromExpression(keyExpr, body, headers) : (caller.messageId ?? headers['idempotency-key']);
      if (dedupeKey !== undefined) checkKey(dedupeKey);
      const msg: NewMessage = {
        flow,
        body,
        headers,
        meta: metaFor(req.url, caller, now),
        dedupeKey,
        traceparent: headers.traceparent,
      };
      if (check) await check(msg).catch(refusal);
      return msg;
    },
  };
}

/** `path` is the URL's path as sent; `query` (only when there is one) its parameters, less credentials. */
function metaFor(url: string, caller: Caller, now: number): Record<string, Json> {
  const q = url.indexOf('?');
  const query = q < 0 ? undefined : keptQuery(url.slice(q + 1));
  return {
    receivedAt: new Date(now).toISOString(),
    path: q < 0 ? url : url.slice(0, q),
    ...(query === undefined ? {} : { query }),
    consumer: caller.consumer,
    auth: caller.via,
  };
}

/**
 * The query's parameters, a repeated name as an array of its values. A name on
 * the redaction list is left out, value and all: a webhook sender's token in the
 * URL is not the message's, and what is not stored cannot be shown.
 */
function keptQuery(search: string): Record<string, Json> | undefined {
  const kept = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(search)) {
    if (isSensitiveQueryName(name)) continue;
    const seen = kept.get(name);
    kept.set(name, seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value]);
  }
  // fromEntries defines own keys, so a parameter named __proto__ is data, not a prototype.
  return kept.size === 0 ? undefined : Object.fromEntries(kept);
}

/**
 * The fast-xml-parser that steps use is lenient, so XML that is not well-formed
 * would be accepted here and dead-lettered later with a puzzling reason; the
 * sender is told now, where it can fix it. An empty body has no element.
 */
function checkXml(body: unknown): void {
  const bad = xmlSyntaxError(typeof body === 'string' ? body : '', { oneRoot: true });
  if (bad) {
    throw errors.INPUT_MALFORMED_XML.create([`line ${bad.line}, column ${bad.column}: ${bad.message}`], { details: { line: bad.line, column: bad.column } });
  }
}

/** What an ingress step threw, as the caller's refusal: its own status, else 422. */
function refusal(e: unknown): never {
  const err = coerceError(e);
  if (err.status !== undefined && err.status < 500) throw err;
  if (err.family === 'permanent' || err.family === 'input') {
    throw new JunctionError(errors.INPUT_REFUSED, err.message, { cause: err, status: 422, details: err.details });
  }
  throw err;
}

function keptHeaders(raw: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || DROPPED_HEADERS.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
