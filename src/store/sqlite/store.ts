/**
 * @module store/sqlite/store
 * The embedded Store on `node:sqlite`: one connection, WAL, synchronous FULL by
 * default. Writes and claims are batched by group commit (one transaction and one
 * fsync for a burst); reads run at once.
 */
import type { DatabaseSync } from 'node:sqlite';
import { systemClock } from '../../core/clock.ts';
import type { Clock } from '../../core/clock.ts';
import { errors, isJunctionError } from '../../core/errors.ts';
import type { JunctionError } from '../../core/errors.ts';
import type { MessageState, QueueStats, Store } from '../store.ts';
import { createCheckpoints, saveCheckpoint } from './checkpoints.ts';
import { openDatabase } from './connection.ts';
import { createDeadLetters } from './dead-letters.ts';
import type { Access } from './dead-letters.ts';
import { createExclusive, DEFAULT_LOCK_LEASE_MS, createLocks, type LockRows } from './exclusive.ts';
import { GroupCommit } from './group-commit.ts';
import { migrate } from './migrate.ts';
import { claimMessages, enqueueMessages, extendLeases, settleMessage } from './queue.ts';
import { int, intOrNull, toAttemptRecord, toMessageRecord } from '../rows.ts';
import { prepareStatements } from './sql.ts';
import type { Statements } from './sql.ts';
import { createTokens } from './tokens.ts';
import { updateUnderExclusive } from '../token-update.ts';

export interface SqliteStoreOptions {
  /** Database file, created with its directory when missing; `:memory:` for a throwaway store. */
  path: string;
  clock?: Clock;
  /**
   * `by-write` (default): commits that acknowledge something to a caller (an
   * enqueue's 202, a token, a replay) are fsynced; claims, leases and settles,
   * whose loss to a power cut means a redelivery, are not fsynced by themselves.
   * `full`: every commit is fsynced. `normal`: none is (a power cut may lose the
   * last acknowledged messages; never corrupts).
   */
  synchronous?: 'by-write' | 'full' | 'normal';
  /** How long a write waits for another process's lock; default 5000. */
  busyTimeoutMs?: number;
  /** Called after each group commit with the number of writes it carried (tests, metrics). */
  onCommit?: (writes: number) => void;
  /**
   * How long an `exclusive` lock outlives its holder's last renewal (renewed every
   * third of it): how soon another process takes over from one that died. Default 30000.
   */
  lockLeaseMs?: number;
}

const STATES: readonly MessageState[] = ['queued', 'running', 'done', 'dead'];

/** The SQLite store, and the lock rows its `exclusive` is made of (what a threaded store's caller drives). */
export type SqliteStore = Store & { readonly locks: LockRows };

export function createSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const clock = opts.clock ?? systemClock;
  const db: DatabaseSync = openDatabase({
    path: opts.path,
    synchronous: opts.synchronous === 'normal' ? 'normal' : 'full',
    busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
  });
  let statements: Statements | undefined;
  let group: GroupCommit | undefined;
  let closing: Promise<void> | undefined;

  /** Prepared statements, once migrate() has made the schema they refer to. */
  function ready(): Statements {
    if (closing) throw errors.STORE_UNAVAILABLE.create(['the store is closed']);
    if (!statements) throw errors.STORE_UNAVAILABLE.create(['the schema is not ready; call migrate() first']);
    return statements;
  }

  /** Runs at once, outside any transaction: reads. */
  const direct: Access = (what, fn) => {
    try {
      return Promise.resolve(fn(ready(), clock.now()));
    } catch (e) {
      return Promise.reject(toStoreError(e, what));
    }
  };

  /** Joins the next group commit; settles after COMMIT, fsynced (see group-commit.ts). */
  const grouped: Access = (what, fn) => joinGroup(what, fn, true);
  /** Joins the next group commit; its commit need not be fsynced by itself: a claim, a lease, a settle. */
  const relaxed: Access = (what, fn) => joinGroup(what, fn, false);

  function joinGroup<T>(what: string, fn: (st: Statements, now: number) => T, durable: boolean): Promise<T> {
    let st: Statements;
    try {
      st = ready();
    } catch (e) {
      return Promise.reject(e);
    }
    const writes = group as GroupCommit;
    // The time of the call, not of the commit: the same within a turn of the event loop, and what a
    // store run in a worker thread is told by its caller (store/sqlite/thread.ts).
    const now = clock.now();
    return writes.submit(() => {
      try {
        return fn(st, now);
      } catch (e) {
        throw toStoreError(e, what);
      }
    }, durable);
  }

  const locks = createLocks(grouped, opts.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS);
  const exclusive = createExclusive(locks, opts.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS);
  const tokens = createTokens({ read: direct, write: grouped });

  return {
    async migrate() {
      if (closing) throw errors.STORE_UNAVAILABLE.create(['the store is closed']);
      if (statements) return;
      try {
        migrate(db, clock.now());
        statements = prepareStatements(db);
      } catch (e) {
        throw toStoreError(e, 'migrate');
      }
      group = new GroupCommit({ db, statements, onCommit: opts.onCommit, synchronous: opts.synchronous ?? 'by-write' });
    },

    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        try {
          group?.flush();
          db.close();
          resolve();
        } catch (e) {
          reject(toStoreError(e, 'close'));
        }
      });
      return closing;
    },

    ping() {
      return direct('ping', (st) => {
        st.ping.get();
      });
    },

    enqueue(batch, enqueueOpts = {}) {
      const { checkpoint } = enqueueOpts;
      if (batch.length === 0 && checkpoint === undefined) return Promise.resolve([]);
      return grouped('enqueue', (st, now) => {
        const results = enqueueMessages(st, batch, now, enqueueOpts);
        // After the batch, so a refused batch throws first; the savepoint undoes both either way.
        if (checkpoint !== undefined) saveCheckpoint(st, checkpoint, now);
        return results;
      });
    },

    claim(q) {
      // A claim shares the next group's transaction (BEGIN IMMEDIATE) and its one fsync with the writes around it.
      return relaxed('claim', (st, now) => claimMessages(st, q, now));
    },

    settle(ref, outcome, attempt) {
      return relaxed('settle', (st, now) => settleMessage(st, ref, outcome, attempt, now));
    },

    extendLease(refs, ms) {
      if (refs.length === 0) return Promise.resolve([]);
      return relaxed('extend leases', (st, now) => extendLeases(st, refs, ms, now));
    },

    getMessage(id) {
      return direct('get a message', (st) => {
        const row = st.selectMessage.get({ id });
        return row ? toMessageRecord(row, st.selectHistory.all({ id }).map(toAttemptRecord)) : undefined;
      });
    },

    stats(flow) {
      return direct('count messages', (st) => {
        const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as QueueStats;
        for (const row of st.countByState.all({ flow: flow ?? null })) counts[row.state as MessageState] = Number(row.n);
        return counts;
      });
    },

    nextRunAt() {
      return direct('find the next run time', (st) => intOrNull(st.nextRunAt.get() ?? {}, 'run_at') ?? undefined);
    },

    oldestDue() {
      return direct('find the oldest due messages', (st, now) => {
        const out: Record<string, number> = {};
        for (const row of st.oldestDue.all({ now })) out[String(row.flow)] = int(row, 'run_at');
        return out;
      });
    },

    sweep(q) {
      // Losing a deletion to a power cut only means it is done again next time.
      return relaxed('sweep', (st) => ({
        done: Number(st.sweepDone.run({ before: Math.round(q.doneBefore), limit: q.limit }).changes),
        dead: Number(st.sweepDead.run({ before: Math.round(q.deadBefore), limit: q.limit }).changes),
      }));
    },

    deadLetters: createDeadLetters({ read: direct, write: grouped }),

    tokens: { ...tokens, update: updateUnderExclusive(tokens, exclusive) },

    checkpoints: createCheckpoints({ read: direct, write: grouped }),

    exclusive,

    locks,
  };
}

/** Errors of our own pass through; anything SQLite (or a bug) throws becomes JNC_STORE_UNAVAILABLE with its cause. */
function toStoreError(e: unknown, what: string): JunctionError {
  if (isJunctionError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return errors.STORE_UNAVAILABLE.create([`${what} failed: ${message}`], { cause: e });
}
