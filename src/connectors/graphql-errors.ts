/**
 * @module connectors/graphql-errors
 * How a GraphQL answer is read: a server answers 200 with `errors` for a
 * failure as often as with a status, so the status alone cannot decide.
 *
 * | answer (2xx) | outcome |
 * |---|---|
 * | `errors` and no `data` (or `data: null`) | permanent; retry when an error's `extensions.code` is in `retryableCodes` |
 * | `errors` and `data` (partial data) | ok with `partialData: accept`; otherwise as above |
 * | a coercion or validation error (`GRAPHQL_VALIDATION_FAILED`, `BAD_USER_INPUT`, `GRAPHQL_PARSE_FAILED`) | permanent, always: the same document fails again |
 * | no `errors` | ok |
 *
 * Any other status follows the status table (a 400 with a validation error is
 * permanent, a 503 retries); the errors it carries still make the reason.
 */
import type { AnswerDetail, Classification, OutboundResponse } from '../core/call.ts';

/** Codes that say the request itself is wrong: sending it again gives the same answer. */
const NEVER_RETRIED = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST']);
/** The reason is kept with every attempt and the dead letter: bounded. */
const MAX_REASON_CHARS = 600;
const MAX_ERRORS_NAMED = 5;

/** One entry of `errors`, as far as Junction reads it. */
export interface GraphqlError {
  message: string;
  code?: string | undefined;
  path?: string | undefined;
  /** `extensions.retryAfter` (seconds), in ms. */
  retryAfterMs?: number | undefined;
}

/** A GraphQL response body: `data` (absent: undefined) and its `errors`. */
export interface GraphqlAnswer {
  data: unknown;
  errors: GraphqlError[];
}

// classify, explain and read each look at the same answer: it is parsed once.
const parsed = new WeakMap<OutboundResponse, GraphqlAnswer | null>();

/** The answer as a GraphQL response, or undefined when its body is not one (not JSON, or neither data nor errors). */
export function graphqlAnswer(res: OutboundResponse): GraphqlAnswer | undefined {
  let answer = parsed.get(res);
  if (answer === undefined) {
    answer = parseAnswer(res.body.toString('utf8'));
    parsed.set(res, answer);
  }
  return answer ?? undefined;
}

function parseAnswer(text: string): GraphqlAnswer | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(body) || (!('data' in body) && !('errors' in body))) return null;
  const list = Array.isArray(body.errors) ? body.errors : [];
  return { data: body.data, errors: list.map(readError) };
}

function readError(e: unknown): GraphqlError {
  if (!isObject(e)) return { message: String(e) };
  const ext = isObject(e.extensions) ? e.extensions : {};
  const retryAfter = typeof ext.retryAfter === 'number' ? ext.retryAfter : typeof ext.retryAfter === 'string' ? Number(ext.retryAfter) : NaN;
  return {
    message: typeof e.message === 'string' ? e.message : JSON.stringify(e.message),
    code: typeof ext.code === 'string' ? ext.code : undefined,
    path: Array.isArray(e.path) ? e.path.join('.') : undefined,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
  };
}

export interface GraphqlClassifyOptions {
  retryableCodes: ReadonlySet<string>;
  partialData: 'accept' | 'error';
}

/** What the answer means (see the table above). */
export function classifyGraphql(res: OutboundResponse, byStatus: (status: number) => Classification, opts: GraphqlClassifyOptions): Classification {
  const byCode = byStatus(res.status);
  if (res.status < 200 || res.status > 299) return byCode;
  const answer = graphqlAnswer(res);
  if (answer === undefined || answer.errors.length === 0) return byCode;
  const partial = answer.data !== undefined && answer.data !== null;
  if (partial && opts.partialData === 'accept') return byCode;
  if (answer.errors.some((e) => e.code !== undefined && NEVER_RETRIED.has(e.code))) return 'permanent';
  return answer.errors.some((e) => e.code !== undefined && opts.retryableCodes.has(e.code)) ? 'retry' : 'permanent';
}

/** The errors of a failed answer as a reason (messages, codes and paths, bounded), and the longest `extensions.retryAfter`. */
export function explainGraphql(res: OutboundResponse): AnswerDetail | undefined {
  const answer = graphqlAnswer(res);
  if (answer === undefined || answer.errors.length === 0) return undefined;
  const named = answer.errors.slice(0, MAX_ERRORS_NAMED).map((e) => {
    const tags = [e.code, e.path === undefined ? undefined : `at ${e.path}`].filter((t) => t !== undefined);
    return `${JSON.stringify(e.message)}${tags.length > 0 ? ` (${tags.join(', ')})` : ''}`;
  });
  const more = answer.errors.length - named.length;
  let reason = `GraphQL ${answer.errors.length === 1 ? 'error' : 'errors'}: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  if (reason.length > MAX_REASON_CHARS) reason = `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;
  const waits = answer.errors.map((e) => e.retryAfterMs).filter((ms) => ms !== undefined);
  return waits.length === 0 ? { reason } : { reason, retryAfterMs: Math.max(...waits) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
