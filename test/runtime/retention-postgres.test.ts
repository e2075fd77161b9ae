/**
 * @module test/runtime/retention-postgres.test
 * Retention on many nodes: two engines on one PostgreSQL schema sweep one at a
 * time (`store.exclusive('junction:retention')`, an advisory lock). While the
 * lock is held elsewhere, a pass deletes nothing; once it is free, one pass
 * deletes everything past retention.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { SWEEP_BATCH } from '../../src/runtime/retention.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store } from '../../src/store/store.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const FILE = 'test/runtime/retention-postgres.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
after(() => admin.end());

/** A fresh schema for the test, dropped when it passes (kept for psql when it fails). */
async function freshSchema(t: TestContext): Promise<string> {
  const schema = schemaName(FILE, t.fullName);
  await admin.create(schema);
  t.after(async () => {
    if (!('passed' in t) || t.passed !== false) await admin.drop(schema);
  });
  return schema;
}

/** Two engines without workers on `schema`, whose sweepers run only when called. */
async function twoNodes(t: TestContext, schema: string): Promise<[TestEngine, TestEngine]> {
  const yaml = `
store: { url: "${PG_URL}?schema=${schema}&pool_max=3", retention: { done: 1ms, dead: 1ms, sweepEvery: 1h } }
connectors: { sink: { type: rest, baseUrl: "http://127.0.0.1:9" } }
flows:
  orders:
    trigger: { http: { path: /in } }
    steps: [ { deliver: { connector: sink } } ]
`;
  return [await startTestEngine(t, yaml, { workers: false }), await startTestEngine(t, yaml, { workers: false })];
}

/** `n` messages done, and past a retention of 1 ms once this resolves. */
async function doneMessages(store: Store, n: number): Promise<void> {
  await store.enqueue(Array.from({ length: n }, (_, i) => ({ flow: 'orders', body: { i } })));
  for (;;) {
    const claimed = await store.claim({ worker: 'seed', limit: 500, leaseMs: 60_000 });
    if (claimed.length === 0) break;
    await Promise.all(claimed.map((c) => store.settle(c, { kind: 'ack' }, null)));
  }
  await new Promise((r) => setTimeout(r, 5));
}

describe('retention on PostgreSQL', { skip: unavailable ?? false }, () => {
  it('two nodes on one schema: a pass deletes nothing while another holds the retention lock, and everything once it is free', async (t) => {
    const schema = await freshSchema(t);
    const [a, b] = await twoNodes(t, schema);
    const old = SWEEP_BATCH * 2 + 37;
    await doneMessages(a.store, old);

    // A third process holding the lock, as a node in the middle of its pass does.
    const other = createPostgresStore({ url: PG_URL, schema, pool: { max: 2 } });
    t.after(() => other.close());
    await other.migrate();
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = other.exclusive('junction:retention', () => {
      holding();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await held;
    assert.deepEqual(await a.sweeper.sweep(), { done: 0, dead: 0 }, 'node a does not sweep while the lock is held elsewhere');
    assert.deepEqual(await b.sweeper.sweep(), { done: 0, dead: 0 }, 'nor does node b');
    assert.equal((await a.store.stats()).done, old);

    release();
    assert.equal(await holder, true);
    assert.deepEqual(await b.sweeper.sweep(), { done: old, dead: 0 }, 'once the lock is free, one pass deletes every batch');
    assert.deepEqual(await a.sweeper.sweep(), { done: 0, dead: 0 });
  });
});
