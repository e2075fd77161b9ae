/**
 * @module store/postgres/exclusive
 * `Store.exclusive` on PostgreSQL: a session-level advisory lock
 * (`pg_try_advisory_lock`, as graphile-worker's), taken on a pooled connection
 * that the call keeps to itself until `fn` settles. A holder that dies loses the
 * lock with its session; nothing to expire. The lock's key is 64 bits of
 * SHA-256 over the store's schema and the name, so two installations sharing one
 * database (in two schemas) never exclude each other.
 *
 * The lock is found lost when its connection breaks (an 'error' or 'end' of the
 * client, or a failed heartbeat): `fn`'s signal aborts with JNC_LOCK_LOST.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { untilAborted } from '../../core/abort.ts';
import { errors } from '../../core/errors.ts';
import type { Store } from '../store.ts';
import { sql } from './sql.ts';

export interface ExclusiveOptions {
  pool: pg.Pool;
  /** The schema, or '' for the default one: part of every lock's key. */
  namespace: string;
  /** How often a held lock's connection is checked. */
  heartbeatMs: number;
  /**
   * How long a dropped lock's release waits for its session to end (the server's
   * answer to the last ping, then the socket's close) before it gives up waiting:
   * a server that went silent must not hold the store's close() for good.
   */
  releaseWaitMs: number;
  /** Throws when the store cannot be used (closed, not migrated). */
  ready: () => void;
  /** Wraps what the database threw (never what `fn` threw). */
  toStoreError: (e: unknown, what: string) => Error;
}

export interface Exclusive {
  exclusive: Store['exclusive'];
  /**
   * Ends every held lock's session (close): their signals abort, and the promise resolves once each
   * call has returned and its session is over, so the lock is free for others when it resolves.
   */
  dropAll(): Promise<void>;
}

/** Resolves when the pool has ended `client` and let it go ('remove'), or once `stop` aborts (at once if it has). */
function removedFromPool(pool: pg.Pool, client: pg.PoolClient, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const done = (): void => {
      pool.off('remove', onRemove);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const onRemove = (removed: pg.PoolClient | pg.Client): void => {
      if (removed === client) done();
    };
    pool.on('remove', onRemove);
    stop.addEventListener('abort', done, { once: true });
  });
}

/** The advisory lock key of `name`: a signed 64-bit integer, as text for the bigint parameter. */
export function lockKey(namespace: string, name: string): string {
  return createHash('sha256').update(`junction\u0000${namespace}\u0000${name}`, 'utf8').digest().readBigInt64BE(0).toString();
}

export function createExclusive(opts: ExclusiveOptions): Exclusive {
  /** Names held by calls on this store: a second call, or one from inside fn, resolves false without a connection. */
  const heldHere = new Set<string>();
  /** Held calls: how to make each one stop, and when it is over (its connection gone with its session). */
  const held = new Map<() => void, Promise<void>>();

  async function exclusive(name: string, fn: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    if (typeof name !== 'string' || name === '') throw errors.INPUT_INVALID.create(['a lock name must be a non-empty string']);
    opts.ready();
    if (heldHere.has(name)) return false;
    heldHere.add(name);
    try {
      return await holdAndRun(name, fn);
    } finally {
      heldHere.delete(name);
    }
  }

  async function holdAndRun(name: string, fn: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    const key = lockKey(opts.namespace, name);
    let client: pg.PoolClient;
    try {
      client = await opts.pool.connect();
    } catch (e) {
      throw opts.toStoreError(e, `take lock ${name}`);
    }
    const lost = new AbortController();
    let broken: Error | undefined;
    const loseWith = (e: Error): void => {
      broken ??= e;
      if (!lost.signal.aborted) lost.abort(errors.LOCK_LOST.create([`${name} (its PostgreSQL session ended: ${e.message})`], { cause: e }));
    };
    const onError = (e: Error): void => loseWith(e);
    const onEnd = (): void => loseWith(new Error('the connection closed'));
    client.on('error', onError);
    client.on('end', onEnd);
    const drop = (): void => loseWith(new Error('the store was closed'));
    let over!: () => void;
    held.set(drop, new Promise<void>((resolve) => (over = resolve)));
    let heartbeat: NodeJS.Timeout | undefined;
    /** The heartbeat's query in flight, if any: ending the client under it would cut the socket, not end the session. */
    let ping: Promise<unknown> = Promise.resolve();
    try {
      let taken: boolean;
      try {
        taken = (await client.query(sql.tryLock, [key])).rows[0]?.taken === true;
      } catch (e) {
        broken ??= e as Error;
        throw opts.toStoreError(e, `take lock ${name}`);
      }
      if (!taken) return false;
      heartbeat = setInterval(() => {
        ping = client.query(sql.ping).catch((e: unknown) => loseWith(e instanceof Error ? e : new Error(String(e))));
      }, opts.heartbeatMs);
      heartbeat.unref();
      try {
        await fn(lost.signal);
      } finally {
        clearInterval(heartbeat);
        // A lost session released the lock already; unlocking on it would only fail.
        if (broken === undefined) await client.query(sql.unlock, [key]).catch((e: unknown) => loseWith(e as Error));
      }
      return true;
    } finally {
      try {
        client.off('error', onError);
        client.off('end', onEnd);
        if (broken === undefined) client.release();
        else await endSession(client, broken, ping);
      } finally {
        held.delete(drop);
        over();
      }
    }
  }

  /**
   * Destroys a connection that broke, or that close() dropped, which ends its session and any lock on
   * it, and waits (at most releaseWaitMs) until the session is over. The pool says 'remove' once the
   * socket is closed, which the server does only after it has let go of the session's locks: without
   * this wait a lock could outlive the store's close() for a moment. A ping still in flight is let
   * finish first, or the client would cut the socket instead of ending the session.
   */
  async function endSession(client: pg.PoolClient, broken: Error, ping: Promise<unknown>): Promise<void> {
    // One deadline for both waits: a ping that used it up leaves none for the socket's close.
    const deadline = AbortSignal.timeout(opts.releaseWaitMs);
    if (!deadline.aborted) await untilAborted(ping, deadline).catch(() => undefined);
    // Listening before the release: a client that has already ended is removed within release() itself.
    const gone = removedFromPool(opts.pool, client, deadline);
    client.release(broken);
    await gone;
  }

  return {
    exclusive,
    async dropAll() {
      const calls = [...held];
      for (const [drop] of calls) drop();
      await Promise.all(calls.map(([, done]) => done));
    },
  };
}
