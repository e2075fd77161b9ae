/**
 * @module test/store/contract/enqueue
 * enqueue: durable before it resolves, results in batch order, dedupe per flow.
 */
import assert from 'node:assert/strict';
import { claimAndSettle, claimOne, enqueueOne, FLOW, message, OTHER_FLOW, permanentError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

export function enqueueTests(test: ContractTest): void {
  test('resolves with one result per message, in the order of the batch', async ({ setup }) => {
    const { store } = await setup();
    const results = await store.enqueue([1, 2, 3].map((n) => message({ body: { n } })));
    assert.equal(results.length, 3);
    assert.equal(new Set(results.map((r) => r.id)).size, 3);
    for (const [i, r] of results.entries()) {
      assert.equal(r.duplicate, false);
      assert.deepEqual((await store.getMessage(r.id))?.body, { n: i + 1 });
    }
  });

  test('resolves only after commit: a new store on the same storage sees the message', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const other = await open(clock);
    assert.equal((await other.getMessage(id))?.state, 'queued');
  });

  test('a new message is queued, due now, with no attempts spent', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const record = await store.getMessage(id);
    assert.ok(record);
    assert.equal(record.state, 'queued');
    assert.equal(record.flow, FLOW);
    assert.equal(record.runAt, clock.now());
    assert.equal(record.createdAt, clock.now());
    assert.equal(record.updatedAt, clock.now());
    assert.equal(record.attempts, 0);
    assert.equal(record.replays, 0);
    assert.equal(record.leaseOwner, null);
    assert.equal(record.leaseUntil, null);
    assert.deepEqual(record.history, []);
  });

  test('keeps the step to start at: 0 by default, the given one for a split part, and hands it to the claimer', async ({ setup }) => {
    const { store } = await setup();
    const [plain, part] = await store.enqueue([message({ body: { n: 1 } }), message({ body: { n: 2 }, startStep: 3 })]);
    assert.equal((await store.getMessage(plain!.id))?.startStep, 0);
    assert.equal((await store.getMessage(part!.id))?.startStep, 3);
    const claimed = await store.claim({ worker: 'w', limit: 10, leaseMs: 1000 });
    assert.deepEqual(claimed.map((c) => c.startStep).sort(), [0, 3]);
  });

  test('keeps body, headers, meta and traceparent as given', async ({ setup }) => {
    const { store } = await setup();
    const given = message({
      body: { orderId: 'A-1', items: [{ sku: 'x', qty: 2, price: 9.5 }], note: null, paid: true },
      headers: { 'content-type': 'application/json', 'x-shop': 'eu' },
      meta: { receivedVia: 'http', tries: [1, 2] },
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    const [result] = await store.enqueue([given]);
    const record = await store.getMessage(result?.id ?? '');
    assert.ok(record);
    assert.deepEqual(record.body, given.body);
    assert.deepEqual(record.headers, given.headers);
    assert.deepEqual(record.meta, given.meta);
    assert.equal(record.traceparent, given.traceparent);
  });

  test('headers and meta default to empty objects and traceparent to null', async ({ setup }) => {
    const { store } = await setup();
    const record = await store.getMessage(await enqueueOne(store));
    assert.deepEqual(record?.headers, {});
    assert.deepEqual(record?.meta, {});
    assert.equal(record?.traceparent, null);
  });

  test('a message without a dedupe key uses its id as its idempotency key', async ({ setup }) => {
    const { store } = await setup();
    const id = await enqueueOne(store);
    const record = await store.getMessage(id);
    assert.equal(record?.idempotencyKey, id);
    assert.equal(record?.dedupeKey, null);
  });

  test('a message with a dedupe key uses the key as its idempotency key', async ({ setup }) => {
    const { store } = await setup();
    const id = await enqueueOne(store, { dedupeKey: 'webhook-42' });
    const record = await store.getMessage(id);
    assert.equal(record?.idempotencyKey, 'webhook-42');
    assert.equal(record?.dedupeKey, 'webhook-42');
  });

  test('a dedupe key seen before in the flow yields the first id with duplicate: true', async ({ setup }) => {
    const { store } = await setup();
    const [first] = await store.enqueue([message({ dedupeKey: 'k', body: { v: 1 } })]);
    const [second] = await store.enqueue([message({ dedupeKey: 'k', body: { v: 1 }, headers: { resent: 'yes' } })]);
    assert.deepEqual(first, { id: first?.id, duplicate: false });
    assert.deepEqual(second, { id: first?.id, duplicate: true });
    assert.deepEqual((await store.getMessage(first?.id ?? ''))?.headers, {}, 'the first message is kept as it was');
    assert.equal((await store.stats()).queued, 1);
  });

  test('a dedupe key repeated within one batch creates one message', async ({ setup }) => {
    const { store } = await setup();
    const results = await store.enqueue([message({ dedupeKey: 'k' }), message({ dedupeKey: 'other' }), message({ dedupeKey: 'k' })]);
    assert.deepEqual(
      results.map((r) => r.duplicate),
      [false, false, true],
    );
    assert.equal(results[2]?.id, results[0]?.id);
    assert.equal((await store.stats()).queued, 2);
  });

  test('concurrent calls with the same dedupe key create one message', async ({ setup }) => {
    const { store } = await setup();
    const results = (await Promise.all([1, 2, 3, 4, 5].map(() => store.enqueue([message({ dedupeKey: 'same' })])))).flat();
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal((await store.stats()).queued, 1);
  });

  test('the same dedupe key in another flow creates a new message', async ({ setup }) => {
    const { store } = await setup();
    const a = await enqueueOne(store, { dedupeKey: 'k' });
    const [b] = await store.enqueue([message({ flow: OTHER_FLOW, dedupeKey: 'k' })]);
    assert.equal(b?.duplicate, false);
    assert.notEqual(b?.id, a);
    assert.equal((await store.getMessage(b?.id ?? ''))?.idempotencyKey, 'k');
  });

  test('a dedupe key still counts after its message is done or dead', async ({ setup }) => {
    const { clock, store } = await setup();
    const done = await enqueueOne(store, { dedupeKey: 'done-key' });
    await claimAndSettle(store, clock, { kind: 'ack' });
    const dead = await enqueueOne(store, { dedupeKey: 'dead-key' });
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError() });
    const results = await store.enqueue([message({ dedupeKey: 'done-key' }), message({ dedupeKey: 'dead-key' })]);
    assert.deepEqual(results, [
      { id: done, duplicate: true },
      { id: dead, duplicate: true },
    ]);
  });

  test('an empty batch resolves with no results', async ({ setup }) => {
    const { store } = await setup();
    assert.deepEqual(await store.enqueue([]), []);
  });

  test('runAt in the future makes the message due then, not now', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store, { runAt: clock.now() + 60_000 });
    assert.equal((await store.getMessage(id))?.runAt, clock.now() + 60_000);
    assert.deepEqual(await store.claim({ worker: 'w', limit: 10, leaseMs: 1000 }), []);
    clock.advance(60_000);
    assert.equal((await claimOne(store)).id, id);
  });
}
