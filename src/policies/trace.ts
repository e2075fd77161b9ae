/**
 * @module policies/trace
 * The outermost policy: publishes `junction:call:start` and `junction:call:end`
 * around every call of a connector, so that one timing covers what the caller
 * waited for (cache, breaker and rate limit included). With no subscriber it
 * passes the call straight through: no clock is read.
 */
import type { Classification, OutboundResponse, Policy } from '../core/call.ts';
import { isJunctionError } from '../core/errors.ts';
import { listening, publish } from '../observability/channels.ts';

export function tracePolicy(connector: string, classify: (res: OutboundResponse) => Classification): Policy {
  return function traceLayer(next) {
    return async function trace(req, ctx) {
      if (!listening('call:start') && !listening('call:end')) return next(req, ctx);
      const base = { connector, method: req.method, path: req.path };
      publish('call:start', base);
      const started = performance.now();
      try {
        const res = await next(req, ctx);
        publish('call:end', { ...base, status: res.status, classification: classify(res), durationMs: performance.now() - started });
        return res;
      } catch (e) {
        const err = isJunctionError(e) ? e : undefined;
        publish('call:end', {
          ...base,
          code: err?.code ?? 'JNC_INTERNAL',
          ...(err?.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
          durationMs: performance.now() - started,
        });
        throw e;
      }
    };
  };
}
