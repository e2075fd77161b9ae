/**
 * @module store/sqlite/exclusive
 * `Store.exclusive` on SQLite: a named lock is a row in `locks` (migration 0005)
 * with a holder and a lease, so processes on one file exclude each other as well
 * as calls within one. Taking, renewing and releasing join the group commit: the
 * row is durable, and seen by every process, before `fn` starts.
 *
 * The rows ({@link LockRows}) and the holding ({@link createExclusive}: renewal,
 * loss, release) are apart, so that a store run in a worker thread keeps `fn` and
 * its timer on the caller's thread and sends only the row operations across.
 */
import { randomUUID } from 'node:crypto';
import { errors } from '../../core/errors.ts';
import type { Store } from '../store.ts';
import type { Access } from './dead-letters.ts';

/** How long a lock outlives its holder's last renewal, unless the store is told otherwise (`lockLeaseMs`). */
export const DEFAULT_LOCK_LEASE_MS = 30_000;

/** The lock rows; each resolves after commit, true when the row was the holder's to take or renew. */
export interface LockRows {
  take(name: string, holder: string): Promise<boolean>;
  renew(name: string, holder: string): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}

/** @param leaseMs how long a lock outlives its last renewal */
export function createLocks(write: Access, leaseMs: number): LockRows {
  const leaseUntil = (now: number): number => Math.round(now + leaseMs);
  return {
    take: (name, holder) => write(`take lock ${name}`, (st, now) => Number(st.takeLock.run({ name, holder, now, leaseUntil: leaseUntil(now) }).changes) > 0),
    renew: (name, holder) => write(`renew lock ${name}`, (st, now) => Number(st.renewLock.run({ name, holder, leaseUntil: leaseUntil(now) }).changes) > 0),
    release: (name, holder) =>
      write(`release lock ${name}`, (st) => {
        st.releaseLock.run({ name, holder });
      }),
  };
}

/** @param leaseMs as given to the rows: renewed every third of it while `fn` runs */
export function createExclusive(locks: LockRows, leaseMs: number): Store['exclusive'] {
  return async function exclusive(name, fn) {
    if (typeof name !== 'string' || name === '') throw errors.INPUT_INVALID.create(['a lock name must be a non-empty string']);
    // One holder id per call, not per store: two calls on one store exclude each other like two processes.
    const holder = randomUUID();
    if (!(await locks.take(name, holder))) return false;

    const lost = new AbortController();
    const renewal = setInterval(() => {
      locks.renew(name, holder).then(
        (still) => {
          if (!still) lost.abort(errors.LOCK_LOST.create([name]));
        },
        // The store did not answer this time; the next renewal tries again, and the lease covers the gap.
        () => undefined,
      );
    }, leaseMs / 3);
    renewal.unref();
    try {
      await fn(lost.signal);
    } finally {
      clearInterval(renewal);
      // A release that fails (the store closed under fn) leaves a row whose lease runs out on its own.
      await locks.release(name, holder).catch(() => undefined);
    }
    return true;
  };
}
