/**
 * @module store/sqlite/thread
 * The worker thread of the threaded SQLite store (`store/sqlite/threaded.ts`):
 * it owns the database connection and runs every statement, group commit and
 * fsync, so that none of them stalls the caller's event loop (HTTP, deliveries).
 *
 * Requests and replies cross in batches (one message per turn of either event
 * loop), so a burst of calls costs one structured clone each way, not one per call.
 * A request names a member of the store by its path (`enqueue`,
 * `deadLetters.replay`, `locks.take`) with its arguments and the caller's clock
 * reading, which the store takes as the time of the call: a test's manual clock
 * works across the thread as it does in one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore, type SqliteStoreOptions } from './store.ts';
import { outcomeFromWire, toWire, type WireOutcome } from '../../core/wire-error.ts';

/** One call from the caller's thread. */
export interface StoreRequest {
  id: number;
  /** A member of the store, e.g. `claim` or `checkpoints.set`. */
  member: string;
  args: unknown[];
  /** The caller's clock, read when it made the call. */
  now: number;
}

export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ReturnType<typeof toWire> };

/** What the caller passes as `workerData`: the store's options, without the clock or callbacks. */
export type ThreadOptions = Omit<SqliteStoreOptions, 'clock' | 'onCommit'>;

if (parentPort !== null) {
  const port = parentPort;
  let now = Date.now();
  const store = createSqliteStore({ ...(workerData as ThreadOptions), clock: { now: () => now } });
  // Replies go back in batches, as requests come: a group commit settles many calls at once.
  const outbox: StoreReply[] = [];
  const reply = (r: StoreReply): void => {
    if (outbox.length === 0) queueMicrotask(() => port.postMessage(outbox.splice(0)));
    outbox.push(r);
  };
  port.on('message', (batch: StoreRequest[]) => {
    for (const req of batch) {
      now = req.now;
      if (req.member === 'settle') req.args[1] = outcomeFromWire(req.args[1] as WireOutcome);
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(memberOf(store, req.member)(...req.args));
      } catch (e) {
        result = Promise.reject(e);
      }
      result.then(
        (value) => reply({ id: req.id, ok: true, value }),
        (e: unknown) => reply({ id: req.id, ok: false, error: toWire(e) }),
      );
    }
  });
}

/** The function at `path` on the store, bound to its object. */
function memberOf(root: object, path: string): (...args: unknown[]) => unknown {
  const parts = path.split('.');
  let target = root as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  const fn = target[parts.at(-1)!];
  if (typeof fn !== 'function') throw new TypeError(`the store has no member ${path}`);
  return (fn as (...args: unknown[]) => unknown).bind(target);
}
