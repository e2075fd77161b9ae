/**
 * @module test/store/contract/claim
 * claim: what is due, in which order, and how leases keep a message to one worker.
 */
import assert from 'node:assert/strict';
import { claimAndSettle, claimOne, enqueueOne, FLOW, LEASE_MS, message, permanentError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

export function claimTests(test: ContractTest): void {
  test('takes due messages oldest runAt first, up to limit', async ({ setup }) => {
    const { clock, store } = await setup();
    const now = clock.now();
    const [late, oldest, middle, newest] = await store.enqueue([
      message({ runAt: now - 1000 }),
      message({ runAt: now - 3000 }),
      message({ runAt: now - 2000 }),
      message({ runAt: now }),
    ]);
    const claimed = await store.claim({ worker: 'w', limit: 3, leaseMs: LEASE_MS });
    assert.deepEqual(
      claimed.map((c) => c.id),
      [oldest?.id, middle?.id, late?.id],
    );
    assert.deepEqual(
      (await store.claim({ worker: 'w', limit: 3, leaseMs: LEASE_MS })).map((c) => c.id),
      [newest?.id],
    );
  });

  test('messages due at the same time are claimed in the order they were enqueued', async ({ setup }) => {
    const { store } = await setup();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueueOne(store, { body: { i } }));
    const claimed = await store.claim({ worker: 'w', limit: 10, leaseMs: LEASE_MS });
    assert.deepEqual(
      claimed.map((c) => c.id),
      ids,
    );
  });

  test('leases each message to the worker until now + leaseMs and counts the attempt', async ({ setup }) => {
    const { clock, store } = await setup();
    const [a, b] = await store.enqueue([message(), message()]);
    const claimed = await store.claim({ worker: 'worker-7', limit: 2, leaseMs: 45_000 });
    assert.equal(claimed.length, 2);
    for (const c of claimed) {
      assert.equal(c.attempt, 1);
      assert.equal(c.leaseUntil, clock.now() + 45_000);
      assert.equal(typeof c.lease, 'string');
      assert.ok(c.lease.length > 0);
    }
    assert.notEqual(claimed[0]?.lease, claimed[1]?.lease, 'each message gets its own lease');
    for (const id of [a?.id, b?.id]) {
      const record = await store.getMessage(id ?? '');
      assert.equal(record?.state, 'running');
      assert.equal(record?.leaseOwner, 'worker-7');
      assert.equal(record?.leaseUntil, clock.now() + 45_000);
      assert.equal(record?.attempts, 1);
    }
  });

  test('a claimed message carries its id, flow, idempotency key, body, headers, meta and traceparent', async ({ setup }) => {
    const { store } = await setup();
    const given = message({
      body: { orderId: 'A-1' },
      headers: { 'x-shop': 'eu' },
      meta: { via: 'http' },
      dedupeKey: 'order-A-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    const [result] = await store.enqueue([given]);
    const claimed = await claimOne(store);
    assert.equal(claimed.id, result?.id);
    assert.equal(claimed.flow, FLOW);
    assert.equal(claimed.idempotencyKey, 'order-A-1');
    assert.deepEqual(claimed.body, given.body);
    assert.deepEqual(claimed.headers, given.headers);
    assert.deepEqual(claimed.meta, given.meta);
    assert.equal(claimed.traceparent, given.traceparent);
  });

  test('a message due later is not claimed until the clock reaches its runAt', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store, { runAt: clock.now() + 5000 });
    assert.deepEqual(await store.claim({ worker: 'w', limit: 1, leaseMs: LEASE_MS }), []);
    clock.advance(4999);
    assert.deepEqual(await store.claim({ worker: 'w', limit: 1, leaseMs: LEASE_MS }), []);
    clock.advance(1);
    assert.equal((await claimOne(store)).id, id);
  });

  test('a leased message is not claimed again while its lease lasts, up to and including leaseUntil', async ({ setup }) => {
    const { clock, store } = await setup();
    await enqueueOne(store);
    await claimOne(store, 'worker-1');
    assert.deepEqual(await store.claim({ worker: 'worker-2', limit: 10, leaseMs: LEASE_MS }), []);
    clock.advance(LEASE_MS);
    assert.deepEqual(await store.claim({ worker: 'worker-2', limit: 10, leaseMs: LEASE_MS }), []);
  });

  test('an expired lease makes the message claimable again, as a new attempt with a new lease', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const first = await claimOne(store, 'worker-1');
    clock.advance(LEASE_MS + 1);
    const second = await claimOne(store, 'worker-2');
    assert.equal(second.id, id);
    assert.equal(second.attempt, 2);
    assert.notEqual(second.lease, first.lease);
    assert.equal(second.leaseUntil, clock.now() + LEASE_MS);
    assert.equal((await store.getMessage(id))?.leaseOwner, 'worker-2');
  });

  test('resolves with an empty list when nothing is due', async ({ setup }) => {
    const { store } = await setup();
    assert.deepEqual(await store.claim({ worker: 'w', limit: 10, leaseMs: LEASE_MS }), []);
  });

  test('done and dead messages are never claimed', async ({ setup }) => {
    const { clock, store } = await setup();
    await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'ack' });
    await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError() });
    clock.advance(10 * LEASE_MS);
    assert.deepEqual(await store.claim({ worker: 'w', limit: 10, leaseMs: LEASE_MS }), []);
  });
}
