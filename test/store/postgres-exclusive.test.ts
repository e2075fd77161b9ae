/**
 * How the PostgreSQL store lets go of a held lock when it closes, against a pool
 * and a client that the test drives (no server): `dropAll()` resolves only once
 * the pool has removed the connection (its socket closed, so the server has
 * ended the session and its locks), lets a ping in flight finish before the
 * connection is ended, and gives up waiting on a server that went silent.
 * postgres.test.ts checks the same against a real server.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { createExclusive } from '../../src/store/postgres/exclusive.ts';
import { sql } from '../../src/store/postgres/sql.ts';

class FakeClient extends EventEmitter {
  readonly queries: string[] = [];
  readonly released: unknown[] = [];
  /** Set to hold the next ping until the test lets it answer. */
  holdPings = false;
  #pending: (() => void)[] = [];

  query(text: string): Promise<{ rows: Record<string, unknown>[] }> {
    this.queries.push(text);
    if (text === sql.tryLock) return Promise.resolve({ rows: [{ taken: true }] });
    if (text === sql.ping && this.holdPings) return new Promise((resolve) => this.#pending.push(() => resolve({ rows: [{ ok: 1 }] })));
    return Promise.resolve({ rows: [] });
  }

  answerPings(): void {
    for (const answer of this.#pending.splice(0)) answer();
  }

  release(err?: unknown): void {
    this.released.push(err ?? false);
  }
}

class FakePool extends EventEmitter {
  readonly client = new FakeClient();
  connect(): Promise<FakeClient> {
    return Promise.resolve(this.client);
  }
}

function setUp(opts: { heartbeatMs?: number; releaseWaitMs?: number } = {}) {
  const pool = new FakePool();
  const locks = createExclusive({
    pool: pool as unknown as pg.Pool,
    namespace: '',
    heartbeatMs: opts.heartbeatMs ?? 60_000,
    releaseWaitMs: opts.releaseWaitMs ?? 60_000,
    ready: () => undefined,
    toStoreError: (e) => e as Error,
  });
  let returned = false;
  const held = locks.exclusive('schedule:nightly', async (signal) => {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    returned = true;
  });
  return { pool, client: pool.client, locks, held, returned: () => returned };
}

/** Settles `p` into a flag, so that a test can ask whether it has resolved yet. */
function track(p: Promise<unknown>): () => boolean {
  let settled = false;
  void p.finally(() => (settled = true));
  return () => settled;
}

describe('PostgreSQL exclusive: letting go of a lock on close', () => {
  it('dropAll resolves only once the pool has removed the connection, not when fn returns', async () => {
    const { pool, client, locks, held, returned } = setUp();
    await tick();
    assert.deepEqual(client.queries, [sql.tryLock]);
    const dropped = track(locks.dropAll());
    for (let i = 0; i < 10; i++) await tick();
    assert.equal(returned(), true, 'fn was told to stop, and returned');
    assert.equal(client.released.length, 1);
    assert.ok(client.released[0] instanceof Error, 'the connection is destroyed, not handed back to the pool with the session on it');
    assert.equal(dropped(), false, 'the session may still hold the lock until the socket has closed');
    pool.emit('remove', client);
    for (let i = 0; i < 3; i++) await tick();
    assert.equal(dropped(), true);
    assert.equal(await held, true);
    assert.equal(pool.listenerCount('remove'), 0, 'no listener is left on the pool');
  });

  it('lets a ping in flight answer before it ends the connection, so the session is ended rather than cut', async () => {
    const { pool, client, locks } = setUp({ heartbeatMs: 1 });
    client.holdPings = true;
    while (!client.queries.includes(sql.ping)) await new Promise((resolve) => setTimeout(resolve, 1));
    const dropped = track(locks.dropAll());
    for (let i = 0; i < 10; i++) await tick();
    assert.equal(client.released.length, 0, 'not released while its ping is unanswered');
    client.answerPings();
    for (let i = 0; i < 10; i++) await tick();
    assert.equal(client.released.length, 1);
    pool.emit('remove', client);
    for (let i = 0; i < 3; i++) await tick();
    assert.equal(dropped(), true);
  });

  it('gives up after releaseWaitMs in all when a ping is never answered and the socket never closes', async () => {
    const { pool, client, locks, held } = setUp({ heartbeatMs: 1, releaseWaitMs: 20 });
    client.holdPings = true;
    while (!client.queries.includes(sql.ping)) await new Promise((resolve) => setTimeout(resolve, 1));
    await locks.dropAll();
    assert.equal(client.released.length, 1, 'released (destroyed) all the same once the wait is over');
    assert.equal(await held, true);
    assert.equal(pool.listenerCount('remove'), 0, 'no listener is left on the pool');
  });

  it('gives up waiting after releaseWaitMs when the server never closes the socket', async () => {
    const { pool, client, locks, held } = setUp({ releaseWaitMs: 20 });
    await tick();
    await locks.dropAll();
    assert.equal(client.released.length, 1, 'the connection was released (destroyed) all the same');
    assert.equal(await held, true);
    assert.equal(pool.listenerCount('remove'), 0, 'no listener is left on the pool');
  });
});
