/**
 * @module test/store/postgres-signals.test
 * Store.signals on PostgreSQL (LISTEN/NOTIFY): wakes sent by commits on another
 * store, values of any size published to every subscriber, installations in two
 * schemas kept apart, and a listening connection that is killed coming back.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { channelOf } from '../../src/store/postgres/signals.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store, StoreSignals } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { until } from '../helpers/engine.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { message } from './contract/fixture.ts';

const FILE = 'test/store/postgres-signals.test.ts';
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
    if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });
  after(() => admin.end());
}

async function open(inSchema = schema): Promise<Store & { signals: StoreSignals }> {
  const store = createPostgresStore({ url: PG_URL, schema: inSchema, clock: new ManualClock(), pool: { max: 4 } });
  stores.push(store);
  await store.migrate();
  assert.ok(store.signals);
  return store as Store & { signals: StoreSignals };
}

/** Counts wakes; resolves once the listening connection is up (its first connect wakes once, for what it may have missed). */
async function listen(store: Store & { signals: StoreSignals }): Promise<{ count(): number }> {
  let n = 0;
  store.signals.onWake(() => n++);
  await until(() => n > 0, 10_000, 10);
  return { count: () => n };
}

const WAIT = 10_000;

describe('PostgreSQL store signals', unavailable === undefined ? {} : { skip: unavailable }, () => {
  it('an enqueue, a replay and a retry due now on one store wake the workers listening on another', async () => {
    const a = await open();
    const b = await open();
    const wakes = await listen(b);
    const before = wakes.count();
    const [r] = await a.enqueue([message()]);
    await until(() => wakes.count() > before, WAIT, 10);

    const [claimed] = await a.claim({ worker: 'w', limit: 1, leaseMs: 30_000 });
    assert.ok(claimed);
    const beforeRetry = wakes.count();
    // A retry due now (ManualClock: `at` is its now).
    await a.settle({ id: claimed.id, lease: claimed.lease }, { kind: 'retry', at: 0, spendAttempt: false, error: new Error('x') as never }, null);
    await until(() => wakes.count() > beforeRetry, WAIT, 10);

    const [again] = await a.claim({ worker: 'w', limit: 1, leaseMs: 30_000 });
    assert.ok(again);
    await a.settle({ id: again.id, lease: again.lease }, { kind: 'dead', error: new Error('no') as never }, null);
    const beforeReplay = wakes.count();
    assert.deepEqual(await a.deadLetters.replay({ ids: [r!.id] }), [r!.id]);
    await until(() => wakes.count() > beforeReplay, WAIT, 10);
  });

  it('values are published to every subscriber of the topic, small ones and ones past NOTIFY\'s 8000 bytes', async () => {
    const a = await open();
    const b = await open();
    await listen(b);
    const got: [string, string][] = [];
    b.signals.subscribe('answers', (key, read) => void read().then((payload) => got.push([key, payload])));
    b.signals.subscribe('other', () => assert.fail('another topic'));
    const big = 'ü'.repeat(9000);
    await a.signals.publish('answers', 'k1', 'small \u0001 with the separator');
    await a.signals.publish('answers', 'k2', big);
    await until(() => got.length === 2, WAIT, 10);
    assert.deepEqual(new Map(got), new Map([['k1', 'small \u0001 with the separator'], ['k2', big]]));
  });

  it('a store in another schema of the same database hears nothing of this one', async () => {
    const other = schemaName(FILE, 'the other schema');
    await admin.create(other);
    try {
      const theirs = await open(other);
      const theirWakes = await listen(theirs);
      const ours = await open();
      const ourWakes = await listen(ours);
      const before = theirWakes.count();
      await ours.enqueue([message()]);
      // Ours hears its own commit; by then theirs would have heard it too, on the same server.
      const ourBefore = ourWakes.count();
      await ours.enqueue([message()]);
      await until(() => ourWakes.count() > ourBefore, WAIT, 10);
      assert.equal(theirWakes.count(), before);
    } finally {
      await Promise.allSettled(stores.map((s) => s.close()));
      await admin.drop(other);
    }
  });

  it('a listening connection that is killed comes back, and wakes are heard again', async () => {
    const a = await open();
    const b = await open();
    const wakes = await listen(b);
    // Only this schema's listener: its LISTEN names the schema's channel.
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'junction-listen' AND query = $1",
      [`LISTEN ${channelOf(schema)}`],
    );
    assert.ok(rows.length >= 1, 'the listening connection was found and ended');
    // Reconnecting wakes once by itself (whatever became due meanwhile); then a commit elsewhere wakes again.
    const afterKill = wakes.count();
    await until(() => wakes.count() > afterKill, WAIT, 10);
    const reconnected = wakes.count();
    await a.enqueue([message()]);
    await until(() => wakes.count() > reconnected, WAIT, 10);
  });
});
