/**
 * @module server/problem
 * Every refusal over HTTP is an RFC 9457 problem: `application/problem+json` with
 * a stable `code` (`JNC_*`) and a `detail` that says what was wrong. Never a secret.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { errors, isJunctionError, type JunctionError } from '../core/errors.ts';
import { redactUrl } from '../observability/redact.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

/** RFC 9110's names where Node's table still has older ones (413 Payload Too Large, 422 Unprocessable Entity). */
const RFC_9110_TITLES: Readonly<Record<number, string>> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/**
 * The problem's title: the reason phrase of its status, so that a 502 reads
 * "Bad Gateway", not "Error". The code and the detail say the rest.
 */
function problemTitle(status: number): string {
  return RFC_9110_TITLES[status] ?? STATUS_CODES[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
}

export function toProblem(err: JunctionError, instance?: string): Problem {
  const status = err.status ?? 500;
  return {
    type: `urn:junction:error:${err.code}`,
    title: problemTitle(status),
    status,
    detail: err.message,
    code: err.code,
    ...(instance === undefined ? {} : { instance }),
    ...(err.details ?? {}),
  };
}

/**
 * The answer to a request that comes while the server drains (after SIGTERM):
 * in-flight work is finishing, and this node will not take more. Ask again
 * once the drain can be over, here after a restart or at another node.
 */
export function shuttingDown(retryAfterMs: number): JunctionError {
  return errors.UNAVAILABLE.create(['shutting down'], { retryAfterMs });
}

/** How long a sender refused because the store is down is asked to wait: a database restart takes seconds. */
export const STORE_RETRY_AFTER_MS = 5000;

/**
 * The answer to a request that needed the store while it could not answer or
 * commit (the database restarting, unreachable, out of connections): 503 with
 * Retry-After, so the sender sends again, with the same idempotency key, later
 * or to another node. Nothing of the request was acknowledged. The detail does
 * not name the database (its host is none of the sender's business): the log
 * line of the failure does.
 */
export function storeUnavailable(cause: JunctionError): JunctionError {
  return errors.STORE_UNAVAILABLE.create(['nothing was stored; send it again later'], { cause, retryAfterMs: STORE_RETRY_AFTER_MS });
}

export function unsupportedType(contentType: string | undefined, accepts: readonly string[]): JunctionError {
  return errors.INPUT_UNSUPPORTED_TYPE.create([contentType ? `"${contentType}"` : '(none)', accepts.join(' or ')]);
}

export function sendProblem(reply: FastifyReply, err: JunctionError): FastifyReply {
  // The caller's URL, less any credential it carried in the query (`?token=…`): answers are logged by proxies.
  const problem = toProblem(err, redactUrl(reply.request.url));
  if (err.headers) reply.headers(err.headers);
  if (err.retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/**
 * Maps what fastify or a handler threw to a problem. Errors of ours keep their
 * code (a store that is down becomes a 503 with Retry-After); fastify's body
 * errors get ours; anything else is a 500 that says no more than that (its
 * details go to the log, not to the caller).
 */
export function problemFor(err: unknown, req: { bodyLimit: number; contentType: string | undefined; accepts: readonly string[] }): JunctionError {
  if (isJunctionError(err)) return err.code === errors.STORE_UNAVAILABLE.code ? storeUnavailable(err) : err;
  const code = (err as { code?: string }).code;
  const status = (err as { statusCode?: number }).statusCode;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.INPUT_TOO_LARGE.create([req.bodyLimit]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedType(req.contentType, req.accepts);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.INPUT_INVALID.create(['Content-Length does not match the body']);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.INPUT_MALFORMED.create(['the body is empty']);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return errors.INPUT_INVALID.create([(err as Error).message], { status });
  }
  return errors.INTERNAL.create(['see the server log']);
}
