/**
 * @module policies/concurrency
 * A bulkhead: at most `limit` calls of one connector in flight, so one slow
 * target cannot take every worker from the others.
 *
 * - A call beyond the limit waits for a slot, first come first served. The wait
 *   sits outside the `timeout` policy, so it is not part of the call's
 *   deadline; the call's signal (shutdown) ends it with JNC_SHUTDOWN.
 * - At most `limit` calls wait. One more fails fast with the paused
 *   JNC_CONN_BUSY and its message goes back to the queue: a waiting call holds
 *   a worker, and a queue without bound would let the slow connector hold them
 *   all (cockatiel's bulkhead bounds its queue for the same reason). The
 *   message comes back after about the time a slot takes to free up, measured
 *   from recent calls; successive ones are spread like the rate limit's turns.
 */
import { z } from 'zod';
import { abortError } from '../core/abort.ts';
import type { Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import type { Policy } from '../core/call.ts';

export const concurrencyOptions = z
  .int()
  .min(1)
  .max(10_000)
  .describe(
    'Most calls of this connector in flight at once (a bulkhead). As many more wait for a slot, outside the call deadline; beyond that a message is paused (JNC_CONN_BUSY) without spending an attempt, so it does not hold a worker.',
  );

export interface ConcurrencyState {
  limit: number;
  inFlight: number;
  waiting: number;
}

export interface ConcurrencyLayer {
  policy: Policy;
  state(): ConcurrencyState;
  /** Ends every wait with JNC_SHUTDOWN (the connector is closing). */
  close(): void;
}

/** Bounds on the estimate of how long a call holds its slot. */
const MIN_HOLD_MS = 10;
const MAX_HOLD_MS = 30_000;
/** The estimate before any call has finished. */
const FIRST_HOLD_MS = 100;

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export function concurrencyPolicy(connector: string, limit: number, clock: Clock): ConcurrencyLayer {
  let inFlight = 0;
  const waiters: Waiter[] = [];
  // Exponentially weighted mean of how long a call holds its slot: when one frees up.
  let holdMs = FIRST_HOLD_MS;
  let lastTurn = -Infinity;

  function acquire(signal: AbortSignal): Promise<void> | undefined {
    if (inFlight < limit) {
      inFlight++;
      return undefined;
    }
    if (waiters.length >= limit) {
      const now = clock.now();
      const turn = Math.max(now + holdMs, lastTurn + holdMs / limit);
      lastTurn = turn;
      const waitMs = Math.max(1, Math.ceil(turn - now));
      throw errors.CONN_BUSY.create([connector, limit, waiters.length, waitMs], { retryAfterMs: waitMs });
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        resolve() {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject(e) {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release(): void {
    // The slot passes straight to the first waiter, so a newcomer cannot jump the queue.
    const next = waiters.shift();
    if (next) next.resolve();
    else inFlight--;
  }

  const policy: Policy = function concurrencyLayer(next) {
    return async function concurrency(req, ctx) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      const wait = acquire(ctx.signal);
      if (wait) await wait;
      const started = clock.now();
      try {
        return await next(req, ctx);
      } finally {
        const heldMs = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, clock.now() - started));
        holdMs = holdMs * 0.8 + heldMs * 0.2;
        release();
      }
    };
  };

  return {
    policy,
    state: () => ({ limit, inFlight, waiting: waiters.length }),
    close() {
      for (const waiter of waiters.splice(0)) waiter.reject(errors.SHUTDOWN.create());
    },
  };
}
