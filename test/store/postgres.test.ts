/**
 * @module test/store/postgres.test
 * The Store contract on PostgreSQL, each test in a schema of its own, then what is
 * PostgreSQL's own: migrations under an advisory lock, advisory locks across
 * stores and sessions, claims by several stores at once, the statement timeout,
 * and a server that is not there.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { lockKey } from '../../src/store/postgres/exclusive.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { migrate as migrateSqlite } from '../../src/store/sqlite/migrate.ts';
import type { PostgresStoreOptions } from '../../src/store/postgres/store.ts';
import type { Claimed, Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { storeContract } from './contract.ts';
import { assertRejectsWith, enqueueOne, LEASE_MS, message } from './contract/fixture.ts';

const FILE = 'test/store/postgres.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
let schema = '';
let stores: Store[] = [];

if (unavailable === undefined) {
  beforeEach(async (t) => {
    schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
  });

  afterEach(async (t) => {
    await Promise.allSettled(stores.map((s) => s.close()));
    stores = [];
    // A failed test keeps its schema for a look with psql.
    if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });

  after(() => admin.end());
}

const skipAll = unavailable === undefined ? {} : { skip: unavailable };

/** A store on this test's schema, not migrated; closed after the test. */
function make(opts: Partial<PostgresStoreOptions> = {}): Store {
  const store = createPostgresStore({ url: PG_URL, schema, clock: new ManualClock(), pool: { max: 4 }, ...opts });
  stores.push(store);
  return store;
}

async function open(opts: Partial<PostgresStoreOptions> = {}): Promise<Store> {
  const store = make(opts);
  await store.migrate();
  return store;
}

if (unavailable === undefined) {
  storeContract('postgres', async (clock) => make({ clock }), {
    skip: [
      {
        test: 'exclusive: a lock whose holder stopped renewing it (it died) is taken once its lease has run out',
        reason:
          'an advisory lock has no lease: a live session keeps it whatever the clock says, and a dead holder loses it with its session (postgres.test.ts: "a holder whose session ends loses the lock")',
      },
    ],
  });
} else {
  describe('Store contract: postgres', skipAll, () => {
    it('runs against PostgreSQL', () => undefined);
  });
}

/** A port on this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgreSQL store', skipAll, () => {
  it('migrate records each migration once, and is safe on a database already migrated', async () => {
    await open();
    await open();
    const { rows } = await admin.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => [r.version, r.name]),
      [[1, 'init'], [2, 'ack_in_row'], [3, 'dead_letter_filters'], [4, 'signals'], [5, 'rate_limits']],
    );
  });

  it('stores migrating at once, on a schema that does not exist yet, create it and apply each migration once', async () => {
    await admin.drop(schema);
    const starting = [make(), make(), make(), make()];
    await Promise.all(starting.map((s) => s.migrate()));
    const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => r.version),
      [1, 2, 3, 4, 5],
    );
    for (const s of starting) await s.ping();
  });

  it("has the SQLite schema's tables and columns (locks aside: advisory locks need no table)", async () => {
    await open();
    const db = new DatabaseSync(':memory:');
    try {
      migrateSqlite(db, 0);
      for (const table of ['messages', 'attempts', 'tokens', 'checkpoints']) {
        const sqlite = db.prepare(`PRAGMA table_info(${table})`).all().map((c) => String(c.name)).sort();
        const { rows } = await admin.query('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [schema, table]);
        assert.deepEqual(rows.map((r) => String(r.column_name)).sort(), sqlite, table);
      }
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by a newer version of Junction', async () => {
    await open();
    await admin.query(`INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)`);
    await assertRejectsWith(make().migrate(), 'JNC_STORE_UNAVAILABLE');
  });

  it('members called before migrate reject with JNC_STORE_UNAVAILABLE', async () => {
    const store = make();
    await assertRejectsWith(store.enqueue([message()]), 'JNC_STORE_UNAVAILABLE');
    await assertRejectsWith(store.claim({ worker: 'w', limit: 1, leaseMs: 1000 }), 'JNC_STORE_UNAVAILABLE');
    await assertRejectsWith(store.deadLetters.count(), 'JNC_STORE_UNAVAILABLE');
    await assertRejectsWith(store.exclusive('x', async () => {}), 'JNC_STORE_UNAVAILABLE');
  });

  it('a server where nothing listens fails with JNC_STORE_UNAVAILABLE naming the host, the port and the cause', async () => {
    const port = await closedPort();
    const store = make({ url: `postgres://junction:s3cret@127.0.0.1:${port}/junction`, connectionTimeoutMs: 2000 });
    await assert.rejects(store.migrate(), (e: unknown) => {
      const err = e as Error & { code?: string };
      assert.equal(err.code, 'JNC_STORE_UNAVAILABLE');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(err.message, /ECONNREFUSED/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  it('keeps a JSON body as it was written, key order included', async () => {
    const store = await open();
    const id = await enqueueOne(store, { body: { zeta: 1, alpha: { y: [3, 1], x: 'ü\u0000' }, mid: null } });
    const body = (await store.getMessage(id))?.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['zeta', 'alpha', 'mid']);
    assert.deepEqual(Object.keys(body.alpha as object), ['y', 'x']);
    assert.equal((body.alpha as { x: string }).x, 'ü\u0000');
  });

  it('a dedupe key with U+0000, which PostgreSQL text cannot hold, is refused as input', async () => {
    const store = await open();
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'a\u0000b' })]), 'JNC_INPUT_INVALID');
  });

  it('concurrent enqueues of one dedupe key through two stores create one message', async () => {
    const clock = new ManualClock();
    const both = [await open({ clock }), await open({ clock })];
    const results = (await Promise.all(Array.from({ length: 12 }, (_, i) => both[i % 2]!.enqueue([message({ dedupeKey: 'same' }), message({ dedupeKey: `own-${i}` })])))).flat();
    const same = results.filter((_, i) => i % 2 === 0);
    assert.equal(new Set(same.map((r) => r.id)).size, 1);
    assert.equal(same.filter((r) => !r.duplicate).length, 1);
    assert.equal((await both[0]!.stats()).queued, 13);
  });

  it('claims by four stores at once never overlap, and together take every message once', async () => {
    const clock = new ManualClock();
    const claimers = [await open({ clock }), await open({ clock }), await open({ clock }), await open({ clock })];
    const total = 1000;
    await claimers[0]!.enqueue(Array.from({ length: total }, (_, n) => message({ body: { n } })));
    const seen = new Map<string, string>();
    for (let got = -1; got !== 0; ) {
      const rounds = await Promise.all(claimers.flatMap((s, i) => [0, 1].map((j) => s.claim({ worker: `s${i}-${j}`, limit: 25, leaseMs: LEASE_MS }))));
      got = 0;
      const settles: Promise<boolean>[] = [];
      rounds.forEach((claimed: Claimed[], k) => {
        for (const c of claimed) {
          assert.equal(seen.get(c.id), undefined, `${c.id} went to ${seen.get(c.id)} and to claimer ${k}`);
          seen.set(c.id, String(k));
          got++;
          settles.push(claimers[(k + 1) % claimers.length]!.settle(c, { kind: 'ack' }, null));
        }
      });
      assert.ok((await Promise.all(settles)).every(Boolean));
    }
    assert.equal(seen.size, total);
    assert.deepEqual(await claimers[0]!.stats(), { queued: 0, running: 0, done: total, dead: 0 });
  });

  it('exclusive: a holder whose session ends loses the lock: its signal aborts with JNC_LOCK_LOST, and another store takes it', { timeout: 20_000 }, async () => {
    const holder = await open({ lockHeartbeatMs: 50 });
    const other = await open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running!: (signal: AbortSignal) => void;
    const started = new Promise<AbortSignal>((resolve) => (running = resolve));
    const held = holder.exclusive('schedule:nightly', async (signal) => {
      running(signal);
      await gate;
    });
    const signal = await started;
    assert.equal(await other.exclusive('schedule:nightly', async () => assert.fail('must not run')), false);
    // The holder's process "dies" as far as PostgreSQL can tell: its session is ended.
    const key = BigInt.asUintN(64, BigInt(lockKey(schema, 'schedule:nightly')));
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1",
      [String(key >> 32n), String(key & 0xffffffffn)],
    );
    assert.deepEqual(rows, [{ ended: true }], 'one session held the lock');
    // The session's end may reach the holder before the admin's answer reaches us.
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    assert.equal((signal.reason as { code?: string }).code, 'JNC_LOCK_LOST');
    assert.equal(await other.exclusive('schedule:nightly', async () => {}), true);
    release();
    assert.equal(await held, true);
  });

  it('exclusive: close while fn runs aborts its signal, waits for it to return, and frees the lock', async () => {
    const other = await open();
    // The lock was once still held for a moment after close() resolved (about 1 close in 50): rounds make that seen.
    for (let round = 0; round < 20; round++) {
      const holder = await open();
      let running!: (signal: AbortSignal) => void;
      const started = new Promise<AbortSignal>((resolve) => (running = resolve));
      let returned = false;
      const held = holder.exclusive('schedule:nightly', async (signal) => {
        running(signal);
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        returned = true;
      });
      const signal = await started;
      await holder.close();
      assert.equal(returned, true, `round ${round}: close() resolved before fn returned`);
      assert.equal((signal.reason as { code?: string }).code, 'JNC_LOCK_LOST');
      assert.equal(await held, true);
      assert.equal(await other.exclusive('schedule:nightly', async () => {}), true, `round ${round}: the lock outlived close()`);
    }
  });

  it('exclusive: the same name in two schemas is two locks', async () => {
    const here = await open();
    const elsewhereSchema = `${schema}_b`;
    await admin.create(elsewhereSchema);
    try {
      const elsewhere = await open({ schema: elsewhereSchema });
      let inner: boolean | undefined;
      await here.exclusive('schedule:nightly', async () => {
        inner = await elsewhere.exclusive('schedule:nightly', async () => {});
      });
      assert.equal(inner, true);
    } finally {
      await Promise.allSettled(stores.map((s) => s.close()));
      await admin.drop(elsewhereSchema);
    }
  });

  it('a statement held up longer than statementTimeoutMs rejects with JNC_STORE_UNAVAILABLE, and the store recovers', async () => {
    const store = await open({ statementTimeoutMs: 200 });
    await admin.query('BEGIN');
    try {
      await admin.query(`LOCK TABLE ${schema}.messages IN ACCESS EXCLUSIVE MODE`);
      await assert.rejects(store.enqueue([message()]), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'JNC_STORE_UNAVAILABLE');
        assert.match((e as Error).message, /statement timeout/);
        return true;
      });
    } finally {
      await admin.query('ROLLBACK');
    }
    await enqueueOne(store);
    assert.equal((await store.stats()).queued, 1);
  });
});
