/**
 * @module test/store/sqlite.test
 * The Store contract on the embedded SQLite store, then what is SQLite's own:
 * WAL, group commit, the write lock, files on disk and query plans.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Json } from '../../src/core/message.ts';
import { sql } from '../../src/store/sqlite/sql.ts';
import { listDeadStatement } from '../../src/store/sqlite/dead-letters.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { SqliteStoreOptions } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { storeContract } from './contract.ts';
import { assertRejectsWith, claimAndSettle, deadLetter, enqueueOne, message } from './contract/fixture.ts';

let dir = '';
let dbPath = '';
let stores: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-store-'));
  dbPath = join(dir, 'junction.db');
});

afterEach(async (t) => {
  await Promise.allSettled(stores.map((s) => s.close()));
  stores = [];
  // A failed test keeps its database for a look with the sqlite3 shell.
  if ('passed' in t && t.passed === false) t.diagnostic(`database kept at ${dbPath}`);
  else rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async (clock) => createSqliteStore({ path: dbPath, clock }));

/** A migrated store on this test's file, closed after the test. */
async function open(opts: Partial<SqliteStoreOptions> = {}): Promise<Store> {
  const store = createSqliteStore({ path: dbPath, clock: new ManualClock(), ...opts });
  stores.push(store);
  await store.migrate();
  return store;
}

describe('SQLite store', () => {
  it('runs the database in WAL mode', async () => {
    await open();
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    } finally {
      db.close();
    }
  });

  it('creates the parent directory of the database file', async () => {
    dbPath = join(dir, 'nested', 'data', 'junction.db');
    const store = await open();
    await enqueueOne(store);
    assert.ok(existsSync(dbPath));
  });

  it('works on :memory:', async () => {
    const store = await open({ path: ':memory:' });
    const id = await enqueueOne(store);
    assert.equal((await store.claim({ worker: 'w', limit: 1, leaseMs: 1000 }))[0]?.id, id);
  });

  it('group commit: 200 enqueue calls in one tick share one transaction, and every promise resolves', async () => {
    const commits: number[] = [];
    const store = await open({ onCommit: (writes) => commits.push(writes) });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.enqueue([message({ body: { i } })])));
    assert.equal(results.length, 200);
    assert.ok(commits.length < 200, `${commits.length} commits for 200 calls`);
    assert.deepEqual(commits, [200]);
    const other = await open();
    assert.equal((await other.stats()).queued, 200);
  });

  it('group commit: writes made after a group was flushed go into the next group', async () => {
    const commits: number[] = [];
    const store = await open({ onCommit: (writes) => commits.push(writes) });
    await Promise.all([store.enqueue([message()]), store.enqueue([message()])]);
    await Promise.all([store.enqueue([message()]), store.enqueue([message()]), store.enqueue([message()])]);
    assert.deepEqual(commits, [2, 3]);
  });

  it('a write that fails inside a group rolls back alone and rejects only its own promise', async () => {
    const commits: number[] = [];
    const store = await open({ onCommit: (writes) => commits.push(writes) });
    const unserialisable = { total: 10n } as unknown as Json; // JSON.stringify throws on a BigInt
    const [first, failing, last] = await Promise.allSettled([
      store.enqueue([message({ body: 'first' })]),
      store.enqueue([message({ body: 'rolled back with its batch' }), message({ body: unserialisable })]),
      store.enqueue([message({ body: 'last' })]),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(last.status, 'fulfilled');
    assert.equal(failing.status, 'rejected');
    assert.equal((failing.reason as { code?: unknown }).code, 'JNC_INPUT_INVALID');
    assert.deepEqual(commits, [3]);
    assert.equal((await store.stats()).queued, 2, 'the failing batch left nothing behind');
  });

  it('a group that cannot take the write lock rejects every write in it with JNC_STORE_UNAVAILABLE', async () => {
    const store = await open({ busyTimeoutMs: 20 });
    const other = new DatabaseSync(dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      const writes = [store.enqueue([message()]), store.enqueue([message()])];
      for (const w of writes) await assertRejectsWith(w, 'JNC_STORE_UNAVAILABLE');
      await assertRejectsWith(store.claim({ worker: 'w', limit: 1, leaseMs: 1000 }), 'JNC_STORE_UNAVAILABLE');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await enqueueOne(store);
    assert.equal((await store.stats()).queued, 1, 'the store recovers once the lock is free');
  });

  it('keeps messages, dead letters, history and dedupe keys across close and reopen', async () => {
    const clock = new ManualClock();
    const first = await open({ clock });
    const done = await enqueueOne(first, { dedupeKey: 'order-1', body: { orderId: 1 } });
    await claimAndSettle(first, clock, { kind: 'ack' });
    const dead = await deadLetter(first, clock, { body: { orderId: 2 } });
    const before = { message: await first.getMessage(done), dead: await first.deadLetters.get(dead) };
    await first.close();

    const second = await open({ clock });
    assert.deepEqual(await second.getMessage(done), before.message);
    assert.deepEqual(await second.deadLetters.get(dead), before.dead);
    assert.deepEqual(await second.enqueue([message({ dedupeKey: 'order-1' })]), [{ id: done, duplicate: true }]);
  });

  it('migrate records each migration once, and is safe on a database already migrated', async () => {
    await open();
    await open();
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      assert.deepEqual(
        rows.map((r) => [r.version, r.name]),
        [
          [1, 'init'],
          [2, 'start_step'],
          [3, 'tokens'],
          [4, 'body_digest_and_sent_key'],
          [5, 'checkpoints_and_locks'],
          [6, 'retention'],
          [7, 'ack_in_row'],
          [8, 'dead_letter_filters'],
        ],
      );
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by a newer version of Junction', async () => {
    await open();
    const db = new DatabaseSync(dbPath);
    db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)");
    db.close();
    const store = createSqliteStore({ path: dbPath });
    stores.push(store);
    await assertRejectsWith(store.migrate(), 'JNC_STORE_UNAVAILABLE');
  });

  it('members called before migrate reject with JNC_STORE_UNAVAILABLE', async () => {
    const store = createSqliteStore({ path: dbPath });
    stores.push(store);
    await assertRejectsWith(store.enqueue([message()]), 'JNC_STORE_UNAVAILABLE');
    await assertRejectsWith(store.claim({ worker: 'w', limit: 1, leaseMs: 1000 }), 'JNC_STORE_UNAVAILABLE');
    await assertRejectsWith(store.deadLetters.count(), 'JNC_STORE_UNAVAILABLE');
  });

  it('claim, nextRunAt, dead-letter pages and dedupe lookups use indexes, not a scan of every message', async () => {
    await open();
    const db = new DatabaseSync(dbPath, { readOnly: true, allowUnknownNamedParameters: true });
    try {
      const params = { now: 0, limit: 1, flow: null, beforeDeadAt: null, beforeId: null, dedupeKey: 'k', id: 'x' };
      for (const name of ['selectDue', 'nextRunAt', 'findByDedupeKey', 'selectHistory'] as const) {
        const plan = db
          .prepare(`EXPLAIN QUERY PLAN ${sql[name]}`)
          .all(params)
          .map((r) => String(r.detail));
        assert.ok(!plan.some((step) => /^SCAN messages$/.test(step)), `${name}: ${plan.join(' | ')}`);
      }
      const page = listDeadStatement({}, 1);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${page.text}`).all(page.params).map((r) => String(r.detail));
      assert.ok(!plan.some((step) => /^SCAN messages$/.test(step)), `list dead letters: ${plan.join(' | ')}`);
    } finally {
      db.close();
    }
  });
});
