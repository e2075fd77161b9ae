/**
 * @module test/store/contract/enqueue-claim
 * enqueue with `claim`: new messages due now are leased to the local worker in
 * the transaction that stores them, and are then held exactly as claimed ones.
 */
import assert from 'node:assert/strict';
import { claimedAtEnqueue } from '../../../src/store/store.ts';
import { attemptRecord, LEASE_MS, message } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

const CLAIM = { worker: 'worker-1', leaseMs: LEASE_MS, limit: 2 };

export function enqueueClaimTests(test: ContractTest): void {
  test('leases up to limit new messages due now, as a claim would: attempt 1, running, the lease until now + leaseMs', async ({ setup }) => {
    const { clock, store } = await setup();
    const batch = [message({ body: { n: 1 } }), message({ body: { n: 2 }, runAt: clock.now() + 60_000 }), message({ body: { n: 3 } }), message({ body: { n: 4 } })];
    const results = await store.enqueue(batch, { claim: CLAIM });
    assert.deepEqual(results.map((r) => r.lease !== undefined), [true, false, true, false], 'not the one due later; not more than limit');
    const first = (await store.getMessage(results[0]!.id))!;
    assert.equal(first.state, 'running');
    assert.equal(first.attempts, 1);
    assert.equal(first.leaseOwner, 'worker-1');
    assert.equal(first.leaseUntil, clock.now() + LEASE_MS);
    assert.equal(results[0]!.lease?.until, clock.now() + LEASE_MS);
    const claimed = claimedAtEnqueue(batch[0]!, results[0]!);
    assert.deepEqual({ ...claimed, lease: 'x' }, { id: first.id, flow: first.flow, attempt: 1, idempotencyKey: first.idempotencyKey, body: { n: 1 }, headers: {}, meta: {}, startStep: 0, lease: 'x', leaseUntil: first.leaseUntil });
    assert.equal(claimedAtEnqueue(batch[3]!, results[3]!), undefined);
    // The one left queued is claimable; the leased ones are not, until their lease runs out.
    const others = await store.claim({ worker: 'worker-2', limit: 10, leaseMs: LEASE_MS });
    assert.deepEqual(others.map((c) => c.id), [results[3]!.id]);
  });

  test('a message leased at enqueue settles with its lease, and is claimed again when the lease runs out', async ({ setup }) => {
    const { clock, store } = await setup();
    const batch = [message({ body: { n: 1 } }), message({ body: { n: 2 } })];
    const results = await store.enqueue(batch, { claim: CLAIM });
    const [a, b] = results.map((r, i) => claimedAtEnqueue(batch[i]!, r)!);
    assert.equal(await store.settle(a!, { kind: 'ack' }, attemptRecord(a!, clock, { kind: 'ack' })), true);
    assert.equal((await store.getMessage(a!.id))?.state, 'done');
    assert.deepEqual(await store.extendLease([b!], LEASE_MS), [b!.id]);
    clock.advance(LEASE_MS + 1);
    const [again] = await store.claim({ worker: 'worker-2', limit: 10, leaseMs: LEASE_MS });
    assert.equal(again?.id, b!.id, 'its holder died: another worker takes it');
    assert.equal(again?.attempt, 2);
    assert.equal(await store.settle(b!, { kind: 'ack' }, null), false, 'the old lease no longer settles');
  });

  test('a duplicate is not leased, and leases nothing in its place', async ({ setup }) => {
    const { store } = await setup();
    await store.enqueue([message({ dedupeKey: 'k' })]);
    const [dup, fresh] = await store.enqueue([message({ dedupeKey: 'k' }), message({ body: { other: true } })], { claim: { ...CLAIM, limit: 1 } });
    assert.equal(dup?.duplicate, true);
    assert.equal(dup?.lease, undefined);
    assert.ok(fresh?.lease, 'the slot goes to the next new message');
  });
}
