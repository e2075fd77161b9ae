/**
 * @module triggers/http
 * Turns an HTTP request into a new message: the dedupe key (the trigger's
 * expression, or the `Idempotency-Key` header), the headers worth keeping (never
 * credentials), the path and its query apart (never a credential's value), and
 * the W3C trace context. An XML body must be well-formed to be let in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { coerceError, errors, JunctionError } from '../core/errors.ts';
import { compileExpression, type Expression } from '../core/expression.ts';
import { checkKey, keyFromExpression } from './dedupe-key.ts';
import type { Json, NewMessage } from '../core/message.ts';
import { ingestRecords } from './records.ts';
import { defineTrigger } from './trigger.ts';
import type { IngressCheck } from './ingest.ts';
import type { HttpRoute } from './http-route.ts';
import { httpTriggerOptions, type HttpTriggerConfig } from './http-options.ts';
import { createInboundAuth } from '../auth/inbound/registry.ts';
import { ANONYMOUS, type Authenticator, type Caller } from '../auth/inbound/inbound.ts';
import { createInboundRateLimiter } from './rate-limit.ts';
import type { RateLimiterFactory } from '../core/rate-limiter.ts';
import { isSensitiveQueryName, SENSITIVE_HEADERS } from '../observability/redact.ts';
import { mediaKind } from '../core/media.ts';
import { validTraceparent } from '../core/trace-context.ts';
import { xmlSyntaxError } from '../steps/convert/xml.ts';

/** Credentials (the one list the logs redact too) and hop-by-hop headers are not kept with the message, nor in dead letters. */
const DROPPED_HEADERS = new Set([...SENSITIVE_HEADERS, 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export interface HttpTriggerOptions {
  check?: IngressCheck | undefined;
  respondTimeoutMs?: number | undefined;
  authenticate?: Authenticator | undefined;
  /** Where the rate limit counts: the store's shared counters on PostgreSQL; default this process's memory. */
  rateLimiters?: RateLimiterFactory | undefined;
}

export function createHttpTrigger(flow: string, config: HttpTriggerConfig, opts: HttpTriggerOptions = {}): HttpRoute {
  const { check, authenticate } = opts;
  const keyExpr: Expression | undefined = config.idempotencyKey === undefined ? undefined : compileExpression(config.idempotencyKey);
  const limiter = config.rateLimit && createInboundRateLimiter(flow, config.rateLimit, opts.rateLimiters);

  return {
    flow,
    config,
    respondTimeoutMs: opts.respondTimeoutMs,
    async admit(req, named) {
      // Authentication first: a refused request spends no one's allowance, and the allowance is the caller's.
      const caller = authenticate ? await authenticate(req) : ANONYMOUS;
      named?.(caller);
      return { caller, headers: limiter ? await limiter.take(caller, req.ip) : {} };
    },
    ingestRecords(req, caller, now, ingest, traceparent) {
      if (!config.records) throw errors.INTERNAL.create([`flow ${flow} does not take records`]);
      const headers = keptHeaders(req.headers);
      return ingestRecords({
        source: req.body,
        options: config.records,
        base: { flow, headers, meta: metaFor(req.url, caller, now), traceparent: traceparent ?? validTraceparent(headers.traceparent) },
        uploadKey: headers['idempotency-key'],
        keyExpression: keyExpr,
        ingest,
        check: check && ((msg) => check(msg).catch(refusal)),
      });
    },
    async toMessage(req, caller, now, traceparent) {
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
        // A malformed header is the sender's mistake in a field it may not even know it sends: ignored, not refused.
        traceparent: traceparent ?? validTraceparent(headers.traceparent),
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

/** Credential kinds configured (`apiKeys`, `jwt`…), never their values. */
function authKinds(auth: HttpTriggerConfig['auth']): string[] {
  return auth === undefined ? [] : Object.entries(auth).filter(([, v]) => v !== undefined).map(([k]) => k);
}

/**
 * `trigger: { http: {…} }`: the flow's route on the engine's HTTP server. The
 * server serves it (`server/plugins/triggers`), so starting and stopping are
 * the server's; this adds the route before the server starts.
 */
export const httpTrigger = defineTrigger({
  name: 'http',
  summary: 'Accept messages over HTTP: 202 with the message id once it is durable.',
  options: httpTriggerOptions,
  async create(options, deps) {
    const authenticate = options.auth ? await createInboundAuth(options.auth, { clock: deps.clock, logger: deps.logger }) : undefined;
    deps.routes.add(
      createHttpTrigger(deps.flow, options, { check: deps.check, respondTimeoutMs: deps.respondTimeoutMs, authenticate, rateLimiters: deps.store.rateLimiters }),
    );
    return {
      flow: deps.flow,
      type: 'http',
      start: async () => {},
      stop: async () => {},
      describe: () => ({ method: options.method, path: options.path, auth: authKinds(options.auth), accept: [...options.accept] }),
    };
  },
});
