/**
 * @module store/sqlite/exclusive
 * `Store.exclusive` on SQLite: a named lock is a row in `locks` (migration 0005)
 * with a holder and a lease, so processes on one file exclude each other as well
 * as calls within one. Taking, renewing and releasing join the group commit: the
 * row is durable, and seen by every process, before `fn` starts.
 */
import { randomUUID } from 'node:crypto';
import { errors } from '../../core/errors.ts';
import type { Store } from '../store.ts';
import type { Access } from './dead-letters.ts';

export interface ExclusiveDeps {
  /** Joins the next group commit. */
  write: Access;
  /** How long a lock outlives its last renewal; renewed every third of it while `fn` runs. */
  leaseMs: number;
}

export function createExclusive({ write, leaseMs }: ExclusiveDeps): Store['exclusive'] {
  const leaseUntil = (now: number): number => Math.round(now + leaseMs);

  return async function exclusive(name, fn) {
    if (typeof name !== 'string' || name === '') throw errors.INPUT_INVALID.create(['a lock name must be a non-empty string']);
    // One holder id per call, not per store: two calls on one store exclude each other like two processes.
    const holder = randomUUID();
    const held = { name, holder };
    const taken = await write(`take lock ${name}`, (st, now) => Number(st.takeLock.run({ ...held, now, leaseUntil: leaseUntil(now) }).changes) > 0);
    if (!taken) return false;

    const lost = new AbortController();
    const renewal = setInterval(() => {
      write(`renew lock ${name}`, (st, now) => Number(st.renewLock.run({ ...held, leaseUntil: leaseUntil(now) }).changes) > 0).then(
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
      await write(`release lock ${name}`, (st) => {
        st.releaseLock.run(held);
      }).catch(() => undefined);
    }
    return true;
  };
}
