/**
 * @module runtime/retention
 * The sweeper that keeps state bounded (DESIGN.md "Bounded state"): every
 * `sweepEvery`, done messages older than `retention.done` and dead letters
 * older than `retention.dead` are deleted, oldest first, in batches of
 * {@link SWEEP_BATCH}, with a pause between batches so that a large backlog
 * of old rows never holds the store's write lock for long: ingest and claims
 * interleave with the deletes. One node at a time sweeps (`store.exclusive`).
 */
import type { Clock } from '../core/clock.ts';
import { sleep } from '../core/sleep.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store, SweepResult } from '../store/store.ts';

/** Rows of each kind per statement: small enough that one batch is a short transaction. */
export const SWEEP_BATCH = 500;
/** Between two batches of one pass: the store serves ingest and claims meanwhile. */
const PAUSE_MS = 20;

export interface RetentionOptions {
  /** Milliseconds a done message is kept after it was done. */
  done: number;
  /** Milliseconds a dead letter is kept after it died. */
  dead: number;
  /** Milliseconds between two passes. */
  sweepEvery: number;
}

export interface Sweeper {
  /** One pass now, every batch until none comes back full; resolves with what it deleted. */
  sweep(): Promise<SweepResult>;
  stop(): Promise<void>;
}

export function startSweeper(store: Store, retention: RetentionOptions, deps: { clock: Clock; logger: Logger }): Sweeper {
  const stopping = new AbortController();
  let pass: Promise<SweepResult> | undefined;

  async function sweepAll(signal: AbortSignal): Promise<SweepResult> {
    const total: SweepResult = { done: 0, dead: 0 };
    while (!signal.aborted) {
      const now = deps.clock.now();
      const r = await store.sweep({ doneBefore: now - retention.done, deadBefore: now - retention.dead, limit: SWEEP_BATCH });
      total.done += r.done;
      total.dead += r.dead;
      if (r.done < SWEEP_BATCH && r.dead < SWEEP_BATCH) break;
      await sleep(PAUSE_MS, signal);
    }
    return total;
  }

  function sweep(): Promise<SweepResult> {
    pass ??= (async () => {
      const total: SweepResult = { done: 0, dead: 0 };
      try {
        await store.exclusive('junction:retention', async (lost) => {
          Object.assign(total, await sweepAll(AbortSignal.any([stopping.signal, lost])));
        });
        if (total.done + total.dead > 0) deps.logger.info({ deleted: total }, 'retention: deleted done messages and dead letters past their retention');
      } catch (e) {
        // The store is down or closing: the next pass tries again, and nothing is lost by waiting.
        if (!stopping.signal.aborted) deps.logger.warn({ err: e }, 'retention: a sweep failed; the next one tries again');
      } finally {
        pass = undefined;
      }
      return total;
    })();
    return pass;
  }

  const timer = setInterval(() => void sweep(), retention.sweepEvery);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await pass;
    },
  };
}
