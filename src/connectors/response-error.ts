/**
 * @module connectors/response-error
 * Turns a response that is not a success into the error that decides the outcome,
 * with a bounded snapshot of the response for the attempt history and dead letter.
 */
import { errors, type JunctionError } from '../core/errors.ts';
import { RESPONSE_EXCERPT_BYTES, type ResponseSnapshot } from '../core/call.ts';
import { parseRetryAfter } from '../policies/backoff.ts';
import type { AnswerDetail, Classification, OutboundResponse } from '../core/call.ts';

/** Headers worth keeping with a failed attempt; others may carry secrets or noise. */
const KEPT_HEADERS = new Set(['content-type', 'retry-after', 'date', 'x-request-id', 'request-id', 'www-authenticate', 'location']);

export function snapshotResponse(res: OutboundResponse): ResponseSnapshot {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (KEPT_HEADERS.has(k)) headers[k] = v;
  const excerpt = res.body.subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
  return { status: res.status, headers, bodyExcerpt: excerpt };
}

/**
 * @param detail the protocol's reason (a GraphQL error, a SOAP fault): the error
 *   then says it, and a wait it asks for counts when the answer has no Retry-After.
 */
export function errorForResponse(connector: string, res: OutboundResponse, cls: Exclude<Classification, 'ok'>, now: number, detail?: AnswerDetail): JunctionError {
  const response = snapshotResponse(res);
  if (detail !== undefined && cls !== 'refresh') {
    const opts = { status: res.status, response };
    if (cls === 'permanent') return errors.REMOTE_REJECTED.create([connector, res.status, detail.reason], opts);
    return errors.REMOTE_RETRYABLE.create([connector, res.status, detail.reason], {
      ...opts,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], now) ?? detail.retryAfterMs,
    });
  }
  switch (cls) {
    case 'retry':
      return errors.HTTP_RETRYABLE.create([connector, res.status], {
        status: res.status,
        response,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], now),
      });
    case 'refresh':
      // The auth policy renewed refreshable credentials and sent once more before this: now a 401 is final.
      return errors.AUTH_REFUSED.create([connector, res.status], { status: res.status, response });
    case 'permanent':
      return errors.HTTP_REJECTED.create([connector, res.status], { status: res.status, response });
  }
}
