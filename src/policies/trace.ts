/**
 * @module policies/trace
 * The outermost policy: publishes `junction:call:start` and `junction:call:end`
 * around every call of a connector, so that one timing covers what the caller
 * waited for (cache, breaker and rate limit included). With no subscriber it
 * passes the call straight through: no clock is read.
 *
 * The start event carries the request's headers, a copy made for this call, so
 * that a subscriber can add its own (tracing's `traceparent`) before anything
 * below sees the request.
 */
import type { Classification, OutboundResponse, Policy } from '../core/call.ts';
import { isJunctionError } from '../core/errors.ts';
import { listening, publish, type JunctionEvents } from '../observability/channels.ts';

/**
 * @param urlOf the URL a request path goes to (the connector's base joined with it), for the start event;
 *   absent when the connector cannot tell before sending (a SOAP port read from its WSDL)
 */
export function tracePolicy(connector: string, classify: (res: OutboundResponse) => Classification, urlOf?: (path: string) => string): Policy {
  return function traceLayer(next) {
    return async function trace(req, ctx) {
      const starts = listening('call:start');
      if (!starts && !listening('call:end')) return next(req, ctx);
      const base = { connector, method: req.method, path: req.path };
      let start: JunctionEvents['call:start'] | undefined;
      if (starts) {
        const headers = { ...req.headers };
        start = { ...base, headers };
        if (urlOf) start.url = urlOf(req.path);
        if (ctx.scope) start.scope = ctx.scope;
        req = { ...req, headers };
        publish('call:start', start);
      }
      const started = performance.now();
      try {
        const res = await next(req, ctx);
        publish('call:end', { ...base, status: res.status, classification: classify(res), durationMs: performance.now() - started, ...(start ? { start } : {}) });
        return res;
      } catch (e) {
        const err = isJunctionError(e) ? e : undefined;
        publish('call:end', {
          ...base,
          code: err?.code ?? 'JNC_INTERNAL',
          ...(err?.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
          durationMs: performance.now() - started,
          ...(start ? { start } : {}),
        });
        throw e;
      }
    };
  };
}
