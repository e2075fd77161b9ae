/**
 * @module policies/timeout
 * The whole-call deadline: from handing the request to the next policy until the
 * last byte of the answer. Socket-level limits (connect, headers, body silence)
 * are the transport's; this one bounds the sum of them, and of any waiting done by
 * inner policies.
 */
import { abortError, untilAborted } from '../core/abort.ts';
import { errors, type JunctionError } from '../core/errors.ts';
import type { CallContext, Policy } from '../core/call.ts';

/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Aborts the inner call after `timeoutMs` and rejects with JNC_CONN_TIMEOUT
 * (`[connector, 'call', timeoutMs]`). An abort of `ctx.signal` (shutdown) wins over
 * the deadline and rejects with JNC_SHUTDOWN, so the attempt is given back.
 *
 * The inner call receives a signal combining both; the deadline's abort reason is
 * the JNC_CONN_TIMEOUT error itself, so an inner layer may rethrow it as is.
 */
export function timeoutPolicy(connector: string, timeoutMs: number): Policy {
  return function timeoutLayer(next) {
    return async function timeout(req, ctx) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      // One controller that either the deadline or the caller's signal aborts, with the reason of whichever came
      // first. Not AbortSignal.any: every call would add a composite to the worker's long-lived signal, whose
      // bookkeeping (weak references, finalizers) cost more per delivery than the call's own abort handling.
      const deadline = new AbortController();
      const shutdown = (): void => deadline.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', shutdown, { once: true });
      // setTimeout fires at once beyond 2^31-1 ms; such a deadline means "never" anyway.
      const timer = setTimeout(() => deadline.abort(errors.CONN_TIMEOUT.create([connector, 'call', timeoutMs])), Math.min(timeoutMs, MAX_TIMER_MS));
      const signal = deadline.signal;
      const inner: CallContext = { ...ctx, signal };
      try {
        // An inner layer that ignores the signal must not hold the caller past the deadline.
        return await untilAborted(next(req, inner), signal);
      } catch (e) {
        if (ctx.signal.aborted) throw abortError(ctx.signal, e);
        if (deadline.signal.aborted) throw deadline.signal.reason as JunctionError;
        throw e;
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', shutdown);
      }
    };
  };
}
