/**
 * @module core/abort
 * Waiting on a promise that an abort may cut short, without cancelling the work
 * behind it: the call deadline (policies/timeout) and callers of a shared token
 * request (auth/outbound/oauth2-tokens) stop waiting this way. And the one rule
 * for what an aborted call rejects with ({@link abortError}).
 */
import { errors, isJunctionError, type JunctionError } from './errors.ts';

/**
 * Settles with `promise`, or rejects with `reasonOf(signal)` (by default
 * `signal.reason`) as soon as `signal` aborts, whichever comes first. The work
 * behind `promise` goes on; a layer that ignores the signal cannot hold its caller.
 *
 * Listens only for an abort still to come: a caller whose signal may already be
 * aborted checks that first.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, reasonOf: (signal: AbortSignal) => unknown = (s) => s.reason): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * What a call rejects with once `signal` has aborted, whatever the layer below
 * reported. An abort Junction made carries its own error as the reason (the
 * worker's or a closed token cache's JNC_SHUTDOWN, the deadline's
 * JNC_CONN_TIMEOUT), which is returned as is. Any other reason (a caller's own
 * controller, a DOMException) means the caller stopped: JNC_SHUTDOWN, paused, so
 * the attempt is given back.
 *
 * @param cause kept as the JNC_SHUTDOWN's cause; by default the abort's reason,
 *   or pass what the layer below threw when that says more.
 */
export function abortError(signal: AbortSignal, cause: unknown = signal.reason): JunctionError {
  const reason: unknown = signal.reason;
  if (isJunctionError(reason)) return reason;
  return errors.SHUTDOWN.create([], { cause });
}
