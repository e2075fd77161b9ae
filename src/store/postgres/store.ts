/**
 * @module store/postgres/store
 * The Store on PostgreSQL (pg), for many `junction run` processes sharing one
 * database: every enqueue is one transaction that resolves after COMMIT; claims
 * take rows with `FOR UPDATE SKIP LOCKED`; named locks are advisory locks. Every
 * time it writes comes from its clock, never from the server's `now()`.
 */
import { systemClock } from '../../core/clock.ts';
import type { Clock } from '../../core/clock.ts';
import { errors, isJunctionError } from '../../core/errors.ts';
import type { JunctionError } from '../../core/errors.ts';
import type { MessageState, QueueStats, Store } from '../store.ts';
import { createPool, describeServer, isConnectionLost, sqlState, transaction } from './connection.ts';
import { createDeadLetters } from './dead-letters.ts';
import type { Access } from './dead-letters.ts';
import { createExclusive, lockKey } from './exclusive.ts';
import { createCheckpoints, createTokens, prepareCheckpoint, saveCheckpoint } from './key-values.ts';
import { migrate } from './migrate.ts';
import { claimMessages, enqueueMessages, extendLeases, prepareBatch, settleMessage } from './queue.ts';
import { int, intOrNull, toAttemptRecord, toMessageRecord } from '../rows.ts';
import { sql } from './sql.ts';
import { channelOf, createSignals, notifyWake } from './signals.ts';
import { postgresLimiters } from './rate-limits.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`; any parameter pg reads from a URL is honoured. */
  url: string;
  /** Tables live in this schema (created by migrate() when missing); set as `search_path` on every connection. Default: the server's. */
  schema?: string | undefined;
  pool?: {
    /** Connections at most, `exclusive` holders included; default 10. */
    max?: number | undefined;
  };
  /** A statement running longer is cancelled (and its call rejects with JNC_STORE_UNAVAILABLE); default 30000. */
  statementTimeoutMs?: number | undefined;
  /** How long to wait for a new connection; default 10000. */
  connectionTimeoutMs?: number | undefined;
  /** How often a held `exclusive` lock's connection is checked; default 10000. */
  lockHeartbeatMs?: number | undefined;
  clock?: Clock | undefined;
}

const STATES: readonly MessageState[] = ['queued', 'running', 'done', 'dead'];
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function createPostgresStore(opts: PostgresStoreOptions): Store {
  const clock = opts.clock ?? systemClock;
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    throw errors.INPUT_INVALID.create([`schema ${JSON.stringify(opts.schema)}: use letters, digits and _ (at most 63), not starting with a digit`]);
  }
  const server = describeServer(opts.url);
  const pool = createPool({
    url: opts.url,
    schema: opts.schema,
    max: opts.pool?.max ?? 10,
    statementTimeoutMs: opts.statementTimeoutMs ?? 30_000,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 10_000,
  });
  let migrated = false;
  let closing: Promise<void> | undefined;
  /** Calls under way; close() lets them finish before it ends the pool. */
  const inflight = new Set<Promise<unknown>>();

  /** Errors of our own pass through; anything pg throws becomes JNC_STORE_UNAVAILABLE naming the server and the cause. */
  function toStoreError(e: unknown, what: string): JunctionError {
    if (isJunctionError(e)) return e;
    const message = e instanceof Error ? e.message || String((e as { code?: unknown }).code ?? e.name) : String(e);
    const state = sqlState(e);
    const detail = isConnectionLost(e) ? `cannot reach PostgreSQL at ${server}` : `PostgreSQL at ${server}`;
    return errors.STORE_UNAVAILABLE.create([`${what} failed: ${detail}: ${message}${state === undefined ? '' : ` (SQLSTATE ${state})`}`], { cause: e });
  }

  function ready(): void {
    if (closing) throw errors.STORE_UNAVAILABLE.create(['the store is closed']);
    if (!migrated) throw errors.STORE_UNAVAILABLE.create(['the schema is not ready; call migrate() first']);
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    const done = (): void => {
      inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  /** Runs `fn` on the pool, each statement in its own transaction. */
  const run: Access = (what, fn) => guarded(what, (now) => fn(pool, now));

  function guarded<T>(what: string, fn: (now: number) => Promise<T>): Promise<T> {
    try {
      ready();
    } catch (e) {
      return Promise.reject(e);
    }
    // The time of the call, as SQLite's store takes it: a test's manual clock is read once per operation.
    const now = clock.now();
    return track(
      (async () => {
        try {
          return await fn(now);
        } catch (e) {
          throw toStoreError(e, what);
        }
      })(),
    );
  }

  /** Runs `fn` in one transaction that is never repeated: it may do what cannot be done twice (a token request). */
  const runLocked: Access = (what, fn) => guarded(what, (now) => transaction(pool, (tx) => fn(tx, now), { attempts: 1 }));

  const channel = channelOf(opts.schema ?? '');
  const signals = createSignals({
    url: opts.url,
    channel,
    schema: opts.schema,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 10_000,
    query: run,
  });
  /**
   * After a commit that made messages due (a replay, a retry due now): wakes every node's workers.
   * While closing, run() refuses new calls: the last wake, coalesced behind one in flight, goes straight to the
   * pool (close() waits for it before ending the pool), or other nodes would wait a poll interval for those messages.
   */
  const wake = (): Promise<void> =>
    (closing === undefined ? run('wake the workers', (db) => notifyWake(db, channel)) : notifyWake(pool, channel)).catch(() => undefined);
  /**
   * The enqueue's wake, after its commit and coalesced: one NOTIFY in flight per
   * store, and one more after it when enqueues committed meanwhile. A transaction
   * that NOTIFYs holds a database-wide lock through its commit (PostgreSQL
   * serialises notifying commits), so a NOTIFY inside every enqueue would queue
   * the enqueues' commits one behind another: pgbench on this project's 2-core
   * machine, 16 clients, INSERT and COMMIT: 1,650 tps, with a NOTIFY in each
   * 240–430 tps; beside one client sending NOTIFYs on their own, 2,050 tps.
   * Sent after the commit, a wake is still never sent for a message that was
   * rolled back; a crash between the two costs a poll interval.
   */
  let waking: Promise<void> | undefined;
  let wakeAgain = false;
  const wakeAfterCommit = (): void => {
    if (waking !== undefined) {
      wakeAgain = true;
      return;
    }
    waking = wake().finally(() => {
      waking = undefined;
      if (wakeAgain) {
        wakeAgain = false;
        wakeAfterCommit();
      }
    });
  };

  const locks = createExclusive({
    pool,
    namespace: opts.schema ?? '',
    heartbeatMs: opts.lockHeartbeatMs ?? 10_000,
    releaseWaitMs: opts.connectionTimeoutMs ?? 10_000,
    ready,
    toStoreError,
  });

  return {
    async migrate() {
      if (closing) throw errors.STORE_UNAVAILABLE.create(['the store is closed']);
      if (migrated) return;
      const now = clock.now();
      await track(
        transaction(pool, (tx) => migrate(tx, opts.schema, now)).catch((e: unknown) => {
          throw toStoreError(e, 'migrate');
        }),
      );
      migrated = true;
    },

    close() {
      closing ??= (async () => {
        // Calls already made are let finish (a write resolves after its COMMIT). Held locks are
        // dropped: their fn is told to stop, and close waits for it to return and for its session to end.
        await Promise.allSettled([...inflight]);
        // The wakes of those calls' commits, the one coalesced behind another included.
        while (waking !== undefined) await waking;
        await locks.dropAll();
        await signals.close();
        await pool.end().catch(() => undefined);
      })();
      return closing;
    },

    ping() {
      return run('ping', async (db) => {
        await db.query(sql.ping);
      });
    },

    enqueue(batch, enqueueOpts = {}) {
      const { checkpoint } = enqueueOpts;
      if (batch.length === 0 && checkpoint === undefined) return Promise.resolve([]);
      return guarded('enqueue', async (now) => {
        // Refused as input before a connection is taken: nothing of the batch is written.
        const prepared = prepareBatch(batch, now);
        const saved = checkpoint === undefined ? undefined : prepareCheckpoint(checkpoint);
        const results = await transaction(pool, async (tx) => {
          const out = prepared.length === 0 ? [] : await enqueueMessages(tx, prepared, now, enqueueOpts);
          // After the batch, so a refused batch throws first; the rollback undoes both either way.
          if (saved !== undefined) await saveCheckpoint(tx, saved, now);
          return out;
        });
        // Due messages that no local worker took at once: every node's idle workers are woken, once committed.
        if (results.some((r, i) => !r.duplicate && r.lease === undefined && (prepared[i]?.runAt ?? Infinity) <= now)) wakeAfterCommit();
        return results;
      });
    },

    claim(q) {
      return run('claim', (db, now) => claimMessages(db, q, now));
    },

    settle(ref, outcome, attempt) {
      return run('settle', async (db, now) => {
        const settled = await settleMessage(db, ref, outcome, attempt, now);
        // A retry due now (a pause already over) is a new due message like any other.
        if (settled && outcome.kind === 'retry' && outcome.at <= now) wakeAfterCommit();
        return settled;
      });
    },

    extendLease(refs, ms) {
      if (refs.length === 0) return Promise.resolve([]);
      return run('extend leases', (db, now) => extendLeases(db, refs, ms, now));
    },

    getMessage(id) {
      return run('get a message', async (db) => {
        const row = (await db.query(sql.selectMessage, [id])).rows[0];
        if (!row) return undefined;
        return toMessageRecord(row, (await db.query(sql.selectHistory, [id])).rows.map(toAttemptRecord));
      });
    },

    stats(flow) {
      return run('count messages', async (db) => {
        const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as QueueStats;
        for (const row of (await db.query(sql.countByState, [flow ?? null])).rows) counts[row.state as MessageState] = int(row, 'n');
        return counts;
      });
    },

    nextRunAt() {
      return run('find the next run time', async (db) => {
        const rows = (await db.query(sql.nextRunAt)).rows;
        return intOrNull(rows[0] ?? {}, 'run_at') ?? undefined;
      });
    },

    oldestDue() {
      return run('find the oldest due messages', async (db, now) => {
        const out: Record<string, number> = {};
        for (const row of (await db.query(sql.oldestDue, [now])).rows) out[String(row.flow)] = int(row, 'run_at');
        return out;
      });
    },

    sweep(q) {
      return run('sweep', async (db) => {
        const row = (await db.query(sql.sweep, [Math.round(q.doneBefore), Math.round(q.deadBefore), Math.max(0, Math.floor(q.limit))])).rows[0] ?? {};
        return { done: int(row, 'done'), dead: int(row, 'dead') };
      });
    },

    deadLetters: createDeadLetters(run, wake),

    tokens: createTokens(run, runLocked, (key) => lockKey(opts.schema ?? '', `token:${key}`)),

    checkpoints: createCheckpoints(run),

    // Not tracked as a call, which close() would let run to its end: close() tells fn to stop (its signal),
    // then waits for it to return and for its session to end (locks.dropAll).
    exclusive: locks.exclusive,

    rateLimiters: postgresLimiters(pool),

    signals: {
      onWake: signals.onWake,
      subscribe: signals.subscribe,
      publish: (topic, key, payload) => signals.publish(topic, key, payload),
    },
  };
}
