/**
 * @module core/errors
 * The one error catalog. Every error Junction raises is a {@link JunctionError}
 * made from a definition in {@link errors}; codes (`JNC_*`) never change and are
 * never reused, and `docs/errors.md` lists each one (a test checks the two agree).
 */
import { format } from 'node:util';
import type { ResponseSnapshot } from './call.ts';

const BRAND = Symbol.for('junction.error');

/** What the runtime does with an error; see the taxonomy in STYLE.md §3. */
export type ErrorFamily = 'config' | 'input' | 'transient' | 'permanent' | 'paused' | 'store';

export interface ErrorDefinition {
  readonly code: string;
  readonly family: ErrorFamily;
  readonly template: string;
  /** HTTP status used when the error leaves through an HTTP answer. */
  readonly status?: number;
}

export interface JunctionErrorOptions {
  cause?: unknown;
  /** Structured details that are safe to show (never secrets). */
  details?: Record<string, unknown>;
  /** A server's Retry-After, already converted to milliseconds. */
  retryAfterMs?: number | undefined;
  status?: number;
  /** The response that caused the error, kept with the attempt and the dead letter. */
  response?: ResponseSnapshot | undefined;
  /** Headers an HTTP answer carrying this error sends too (RateLimit on a 429). */
  headers?: Record<string, string> | undefined;
}

export class JunctionError extends Error {
  readonly code: string;
  readonly family: ErrorFamily;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly response: ResponseSnapshot | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(def: ErrorDefinition, message: string, opts: JunctionErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'JunctionError';
    this.code = def.code;
    this.family = def.family;
    this.status = opts.status ?? def.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.details = opts.details;
    this.response = opts.response;
    this.headers = opts.headers;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True when trying again later may succeed (transient or paused). */
  get retryable(): boolean {
    return this.family === 'transient' || this.family === 'paused';
  }
}

/** A definition that can be thrown: `errors.HTTP_REJECTED.create(args, opts)`. */
export interface ErrorFactory extends ErrorDefinition {
  create(args?: readonly unknown[], opts?: JunctionErrorOptions): JunctionError;
}

export function defineError(
  code: string,
  template: string,
  meta: { family: ErrorFamily; status?: number },
): ErrorFactory {
  const def: ErrorDefinition = { code, template, family: meta.family, ...(meta.status === undefined ? {} : { status: meta.status }) };
  return {
    ...def,
    create(args = [], opts = {}) {
      return new JunctionError(def, format(template, ...args), opts);
    },
  };
}

/** Checked by brand, not `instanceof`, so errors survive duplicated module copies. */
export function isJunctionError(e: unknown): e is JunctionError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** The catalog. Add new codes at the end of their family; never rename or reuse one. */
export const errors = {
  // config: start-up stops, every issue listed
  CONFIG_INVALID: defineError('JNC_CONFIG_INVALID', 'Configuration is invalid: %s', { family: 'config' }),
  CONFIG_UNREADABLE: defineError('JNC_CONFIG_UNREADABLE', 'Cannot read configuration file %s', { family: 'config' }),
  OPTION_INVALID: defineError('JNC_OPTION_INVALID', 'Invalid option %s: %s', { family: 'config' }),
  LISTEN_FAILED: defineError('JNC_LISTEN_FAILED', 'Cannot listen on %s: %s', { family: 'config' }),
  CODE_NOT_FOUND: defineError('JNC_CODE_NOT_FOUND', 'Code module %s not found: no file at %s', { family: 'config' }),
  CODE_IMPORT_FAILED: defineError('JNC_CODE_IMPORT_FAILED', 'Code module %s failed to load: %s', { family: 'config' }),
  CODE_NOT_FUNCTION: defineError('JNC_CODE_NOT_FUNCTION', 'The default export of %s is not a function (it is %s); export default (message, ctx) => { … }', { family: 'config' }),
  INIT_EXISTS: defineError('JNC_INIT_EXISTS', 'Not overwriting %s in %s; run again with --force to replace them', { family: 'config' }),

  // input: refused at the edge with a 4xx and a problem body; nothing stored
  INPUT_MALFORMED: defineError('JNC_INPUT_MALFORMED', 'Body is not valid JSON: %s', { family: 'input', status: 400 }),
  INPUT_UNSUPPORTED_TYPE: defineError('JNC_INPUT_UNSUPPORTED_TYPE', 'Content type %s is not accepted here; send %s', { family: 'input', status: 415 }),
  INPUT_TOO_LARGE: defineError('JNC_INPUT_TOO_LARGE', 'Body is larger than the limit of %d bytes', { family: 'input', status: 413 }),
  INPUT_IDEMPOTENCY_KEY: defineError('JNC_INPUT_IDEMPOTENCY_KEY', 'Idempotency key is unusable: %s', { family: 'input', status: 400 }),
  NOT_FOUND: defineError('JNC_NOT_FOUND', 'No route for %s %s', { family: 'input', status: 404 }),
  METHOD_NOT_ALLOWED: defineError('JNC_METHOD_NOT_ALLOWED', 'Method %s is not allowed on %s; use %s', { family: 'input', status: 405 }),
  INPUT_INVALID: defineError('JNC_INPUT_INVALID', 'Request is invalid: %s', { family: 'input', status: 400 }),
  AUTH_DENIED: defineError('JNC_AUTH_DENIED', 'Not authorised: %s', { family: 'input', status: 401 }),
  AUTH_FORBIDDEN: defineError('JNC_AUTH_FORBIDDEN', 'Forbidden: %s', { family: 'input', status: 403 }),
  UNAVAILABLE: defineError('JNC_UNAVAILABLE', 'Service is not accepting messages: %s', { family: 'input', status: 503 }),
  RESPOND_TIMEOUT: defineError('JNC_RESPOND_TIMEOUT', 'The flow did not answer within %dms; the message is stored and still being processed', { family: 'input', status: 504 }),
  FLOW_FAILED: defineError('JNC_FLOW_FAILED', 'The flow failed before it could answer: %s', { family: 'input', status: 502 }),
  INPUT_REFUSED: defineError('JNC_INPUT_REFUSED', 'The flow refused the message at ingress: %s', { family: 'input', status: 422 }),
  INPUT_SCHEMA: defineError('JNC_INPUT_SCHEMA', 'Body does not match the schema: %s', { family: 'input', status: 422 }),
  ADMIN_DISABLED: defineError('JNC_ADMIN_DISABLED', 'The admin API is disabled: %s', { family: 'input', status: 404 }),
  MESSAGE_UNKNOWN: defineError('JNC_MESSAGE_UNKNOWN', 'No message with id %s', { family: 'input', status: 404 }),
  RATE_LIMITED: defineError('JNC_RATE_LIMITED', 'Too many requests from %s: the limit is %d per %s; retry in %ds', { family: 'input', status: 429 }),
  AUTH_KEYS_UNAVAILABLE: defineError('JNC_AUTH_KEYS_UNAVAILABLE', 'Cannot check the token now: %s', { family: 'input', status: 503 }),
  INPUT_MALFORMED_XML: defineError('JNC_INPUT_MALFORMED_XML', 'Body is not well-formed XML: %s', { family: 'input', status: 400 }),
  IDEMPOTENCY_KEY_REUSED: defineError('JNC_IDEMPOTENCY_KEY_REUSED', 'Idempotency key %s was already used in flow %s for a different body; a new message needs a new key', { family: 'input', status: 422 }),
  CACHE_UNKNOWN: defineError('JNC_CACHE_UNKNOWN', 'Connector %s has no cache to purge; connectors with a cache: %s', { family: 'input', status: 404 }),
  ENABLE_UNKNOWN: defineError('JNC_ENABLE_UNKNOWN', 'Connector %s cannot be enabled: it is not configured, or its type has nothing to enable; connectors that can be: %s', { family: 'input', status: 404 }),
  SERIES_UNKNOWN: defineError('JNC_SERIES_UNKNOWN', 'No %s named %s to chart; %ss: %s', { family: 'input', status: 404 }),

  // transient: retried with backoff; Retry-After honoured (capped)
  CONN_TIMEOUT: defineError('JNC_CONN_TIMEOUT', 'Connector %s: %s timed out after %dms', { family: 'transient' }),
  CONN_NETWORK: defineError('JNC_CONN_NETWORK', 'Connector %s: network error: %s', { family: 'transient' }),
  HTTP_RETRYABLE: defineError('JNC_HTTP_RETRYABLE', 'Connector %s answered %d', { family: 'transient' }),
  REMOTE_RETRYABLE: defineError('JNC_REMOTE_RETRYABLE', 'Connector %s answered %d with an error: %s', { family: 'transient' }),
  STEP_FAILED: defineError('JNC_STEP_FAILED', 'Step %s failed: %s', { family: 'transient' }),
  INTERNAL: defineError('JNC_INTERNAL', 'Internal error: %s', { family: 'transient', status: 500 }),
  STEP_RETRY_LATER: defineError('JNC_STEP_RETRY_LATER', 'Retry later: %s', { family: 'transient' }),
  OAUTH_UNAVAILABLE: defineError('JNC_OAUTH_UNAVAILABLE', 'Connector %s: the token endpoint is unavailable: %s', { family: 'transient' }),
  SOAP_WSDL: defineError('JNC_SOAP_WSDL', 'Connector %s: the WSDL cannot be loaded: %s', { family: 'transient' }),

  // permanent: dead letter, no retry
  REMOTE_REJECTED: defineError('JNC_REMOTE_REJECTED', 'Connector %s answered %d with an error: %s', { family: 'permanent' }),
  HTTP_REJECTED: defineError('JNC_HTTP_REJECTED', 'Connector %s rejected the request with %d', { family: 'permanent' }),
  AUTH_REFUSED: defineError('JNC_AUTH_REFUSED', 'Connector %s refused the credentials (%d)', { family: 'permanent' }),
  STEP_INVALID: defineError('JNC_STEP_INVALID', 'Step %s cannot process this message: %s', { family: 'permanent' }),
  ATTEMPTS_EXHAUSTED: defineError('JNC_ATTEMPTS_EXHAUSTED', 'Gave up after %d attempts: %s', { family: 'permanent' }),
  FLOW_UNKNOWN: defineError('JNC_FLOW_UNKNOWN', 'Flow %s is not in the configuration', { family: 'permanent' }),
  STEP_REJECTED: defineError('JNC_STEP_REJECTED', 'Rejected: %s', { family: 'permanent' }),
  CODE_RESULT_INVALID: defineError('JNC_CODE_RESULT_INVALID', '%s returned %s', { family: 'permanent' }),
  MAP_TYPE: defineError('JNC_MAP_TYPE', 'Step %s: field %s must be %s; %s', { family: 'permanent' }),
  MAP_REQUIRED: defineError('JNC_MAP_REQUIRED', 'Step %s: required field %s is missing (%s yielded nothing)', { family: 'permanent' }),
  HTTP_MALFORMED: defineError('JNC_HTTP_MALFORMED', 'Connector %s answered %d with a body that is not valid JSON: %s', { family: 'permanent' }),
  CONVERT_XML: defineError('JNC_CONVERT_XML', 'Step %s: the body is not well-formed XML: %s', { family: 'permanent' }),
  CONVERT_CSV: defineError('JNC_CONVERT_CSV', 'Step %s: the body is not valid CSV: %s', { family: 'permanent' }),
  CONVERT_SHAPE: defineError('JNC_CONVERT_SHAPE', 'Step %s cannot convert this body from %s to %s: %s', { family: 'permanent' }),
  OAUTH_REFUSED: defineError('JNC_OAUTH_REFUSED', 'Connector %s: the token endpoint refused the credentials: %s', { family: 'permanent' }),
  TEMPLATE_VALUE: defineError('JNC_TEMPLATE_VALUE', 'Template %s: {{ %s }} gave %s; a part must give a non-empty string, a number or a boolean', { family: 'permanent' }),
  BODY_NOT_JSON: defineError('JNC_BODY_NOT_JSON', 'Step %s needs a JSON body; this one is %s (content-type %s)', { family: 'permanent' }),
  SOAP_REQUEST: defineError('JNC_SOAP_REQUEST', 'Connector %s cannot build the SOAP request: %s', { family: 'permanent' }),
  SOAP_ANSWER: defineError('JNC_SOAP_ANSWER', 'Connector %s answered %d with a body that is not a SOAP envelope: %s', { family: 'permanent' }),
  PAGE_INVALID: defineError('JNC_PAGE_INVALID', 'Connector %s: page %d cannot be read: %s', { family: 'permanent' }),
  WEBHOOK_DISABLED: defineError('JNC_WEBHOOK_DISABLED', 'Connector %s: the webhook endpoint is disabled since %s, after %s; enable it with POST /admin/connectors/%s/enable, then replay its dead letters', { family: 'permanent' }),

  // paused: rescheduled without spending an attempt
  SHUTDOWN: defineError('JNC_SHUTDOWN', 'Shutting down; message returned to the queue', { family: 'paused' }),
  CIRCUIT_OPEN: defineError('JNC_CIRCUIT_OPEN', 'Connector %s: the circuit is %s; trying again in %dms', { family: 'paused' }),
  CONN_RATE_LIMITED: defineError('JNC_CONN_RATE_LIMITED', 'Connector %s: no token left in its rate limit; this call waits its turn in %dms', { family: 'paused' }),
  CONN_THROTTLED: defineError('JNC_CONN_THROTTLED', 'Connector %s answered %d Too Many Requests; its calls are paused and this one waits %dms', { family: 'paused' }),
  CONN_BUSY: defineError('JNC_CONN_BUSY', 'Connector %s: all %d slots are in use and %d calls wait for one; this call waits %dms', { family: 'paused' }),

  // store: internal; the claim loop backs off
  LEASE_LOST: defineError('JNC_LEASE_LOST', 'Lease on message %s was lost', { family: 'store' }),
  STORE_UNAVAILABLE: defineError('JNC_STORE_UNAVAILABLE', 'Store is unavailable: %s', { family: 'store', status: 503 }),
  STORE_URL: defineError('JNC_STORE_URL', 'Unsupported store URL %s; use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE', { family: 'config' }),
  DEAD_LETTER_UNKNOWN: defineError('JNC_DEAD_LETTER_UNKNOWN', 'No dead letter with id %s', { family: 'input', status: 404 }),
  DLQ_FLOW_UNKNOWN: defineError('JNC_DLQ_FLOW_UNKNOWN', 'No flow %s in the configuration, and no dead letters of it in the store; flows: %s', { family: 'input', status: 404 }),
  SEND_FLOW_UNKNOWN: defineError('JNC_SEND_FLOW_UNKNOWN', 'No flow %s in the configuration; flows: %s', { family: 'input', status: 404 }),
  SEND_INPUT_UNREADABLE: defineError('JNC_SEND_INPUT_UNREADABLE', 'Cannot read %s (%s)', { family: 'input', status: 400 }),
  LOCK_LOST: defineError('JNC_LOCK_LOST', 'Lock %s was lost: its lease ran out before it was renewed, so another holder may have it', { family: 'store' }),
} as const satisfies Record<string, ErrorFactory>;

/**
 * Wraps anything thrown into a JunctionError; a foreign error becomes the cause.
 * @param args the template's leading arguments; the foreign error's message is the last one
 */
export function coerceError(e: unknown, fallback: ErrorFactory = errors.STEP_FAILED, args: readonly unknown[] = ['(unknown)']): JunctionError {
  if (isJunctionError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return fallback.create([...args, message], { cause: e });
}

/** The messages of an error and its causes, outermost first, for dead letters and logs. */
export function causeChain(e: unknown, depth = 5): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  while (cur !== undefined && cur !== null && out.length < depth) {
    if (cur instanceof Error) {
      const code = (cur as { code?: unknown }).code;
      out.push(typeof code === 'string' ? `${code}: ${cur.message}` : cur.message);
      cur = cur.cause;
    } else {
      out.push(String(cur));
      break;
    }
  }
  return out;
}

/**
 * The same error told differently: a new message, with every other field (code,
 * family and so retryable, status, retryAfterMs, response, details, headers,
 * cause) kept, unless `overrides` replaces it. For a layer that adds to a message
 * or cuts secrets out of it without changing what the error means.
 */
export function withMessage(e: JunctionError, message: string, overrides: JunctionErrorOptions = {}): JunctionError {
  return new JunctionError({ code: e.code, family: e.family, template: message }, message, {
    cause: e.cause,
    details: e.details,
    retryAfterMs: e.retryAfterMs,
    status: e.status,
    response: e.response,
    headers: e.headers,
    ...overrides,
  });
}
