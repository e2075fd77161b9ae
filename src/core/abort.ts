/**
 * @module core/abort
 * Waiting on a promise that an abort may cut short, without cancelling the work
 * behind it: the call deadline (policies/timeout) and callers of a shared token
 * request (auth/outbound/oauth2-tokens) stop waiting this way.
 */

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
