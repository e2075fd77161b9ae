/**
 * @module test/store/contract/leases-and-reads
 * extendLease, and the read-only members: getMessage, stats, nextRunAt.
 */
import assert from 'node:assert/strict';
import { claimAndSettle, claimOne, enqueueOne, LEASE_MS, message, OTHER_FLOW, permanentError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

export function leaseAndReadTests(test: ContractTest): void {
  test('extendLease pushes held leases to now + ms and resolves with their ids', async ({ setup }) => {
    const { clock, store } = await setup();
    await store.enqueue([message(), message()]);
    const claimed = await store.claim({ worker: 'worker-1', limit: 2, leaseMs: LEASE_MS });
    clock.advance(10_000);
    const held = await store.extendLease(claimed, 60_000);
    assert.deepEqual(
      held,
      claimed.map((c) => c.id),
    );
    for (const c of claimed) assert.equal((await store.getMessage(c.id))?.leaseUntil, clock.now() + 60_000);
    clock.advance(LEASE_MS);
    assert.deepEqual(await store.claim({ worker: 'worker-2', limit: 10, leaseMs: LEASE_MS }), [], 'the extended leases outlast the first ones');
    const first = claimed[0];
    assert.ok(first);
    assert.equal(await store.settle(first, { kind: 'ack' }, null), true, 'the same lease token still settles');
  });

  test('extendLease leaves out leases that are no longer held', async ({ setup }) => {
    const { clock, store } = await setup();
    await store.enqueue([message()]);
    const lost = await claimOne(store, 'worker-1');
    clock.advance(LEASE_MS + 1);
    const taken = await claimOne(store, 'worker-2');
    await store.enqueue([message()]);
    const settled = await claimAndSettle(store, clock, { kind: 'ack' });
    await store.enqueue([message()]);
    const held = await claimOne(store, 'worker-1');
    assert.deepEqual(await store.extendLease([lost, settled, held, { id: 'no-such-message', lease: 'x' }], 60_000), [held.id]);
    assert.equal((await store.getMessage(taken.id))?.leaseUntil, taken.leaseUntil, "another worker's lease is untouched");
    assert.equal((await store.getMessage(settled.id))?.state, 'done');
  });

  test('getMessage resolves undefined for an unknown id', async ({ setup }) => {
    const { store } = await setup();
    assert.equal(await store.getMessage('01890000-0000-7000-8000-000000000000'), undefined);
  });

  test('stats counts messages by state, across flows or for one flow', async ({ setup }) => {
    const { clock, store } = await setup();
    await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'ack' });
    await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError() });
    await enqueueOne(store);
    await claimOne(store);
    await store.enqueue([message(), message({ flow: OTHER_FLOW }), message({ flow: OTHER_FLOW })]);
    assert.deepEqual(await store.stats(), { queued: 3, running: 1, done: 1, dead: 1 });
    assert.deepEqual(await store.stats(OTHER_FLOW), { queued: 2, running: 0, done: 0, dead: 0 });
    assert.deepEqual(await store.stats('no-such-flow'), { queued: 0, running: 0, done: 0, dead: 0 });
  });

  test('nextRunAt is undefined when nothing is queued', async ({ setup }) => {
    const { clock, store } = await setup();
    await enqueueOne(store);
    await claimOne(store);
    assert.equal(await store.nextRunAt(), undefined, 'a running message is not queued');
    await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'ack' });
    assert.equal(await store.nextRunAt(), undefined);
  });

  test('nextRunAt is the earliest runAt among queued messages', async ({ setup }) => {
    const { clock, store } = await setup();
    const now = clock.now();
    await store.enqueue([message({ runAt: now + 5000 }), message({ runAt: now + 2000 }), message({ runAt: now + 9000 })]);
    assert.equal(await store.nextRunAt(), now + 2000);
    clock.advance(2000);
    await claimOne(store);
    assert.equal(await store.nextRunAt(), now + 5000);
  });

  test('oldestQueuedAt is the creation time of the oldest queued message, per flow or of all', async ({ setup }) => {
    const { clock, store } = await setup();
    assert.equal(await store.oldestQueuedAt(), undefined);
    const first = clock.now();
    await enqueueOne(store);
    clock.advance(1000);
    await store.enqueue([message({ runAt: clock.now() + 60_000 }), message({ flow: OTHER_FLOW })]);
    assert.equal(await store.oldestQueuedAt(), first);
    assert.equal(await store.oldestQueuedAt(OTHER_FLOW), first + 1000);
    await claimAndSettle(store, clock, { kind: 'ack' });
    assert.equal(await store.oldestQueuedAt(), first + 1000, 'a done message is no longer queued; one waiting for its runAt still is');
    assert.equal(await store.oldestQueuedAt('no-such-flow'), undefined);
  });
}
