/**
 * @module test/store/contract/settle
 * settle: the three outcomes, the attempt history, and what a lost lease may not do.
 */
import assert from 'node:assert/strict';
import { causeChain } from '../../../src/core/errors.ts';
import type { Outcome } from '../../../src/core/message.ts';
import { attemptRecord, claimAndSettle, claimOne, enqueueOne, LEASE_MS, permanentError, RESPONSE, transientError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

export function settleTests(test: ContractTest): void {
  test('ack marks the message done, releases the lease and appends the attempt', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const claimed = await claimOne(store);
    clock.advance(50);
    const record = attemptRecord(claimed, clock, { kind: 'ack' });
    assert.equal(await store.settle(claimed, { kind: 'ack' }, record), true);
    const after = await store.getMessage(id);
    assert.equal(after?.state, 'done');
    assert.equal(after?.leaseOwner, null);
    assert.equal(after?.leaseUntil, null);
    assert.equal(after?.updatedAt, clock.now());
    assert.deepEqual(after?.history, [record]);
  });

  test('a null attempt record leaves the history as it was', async ({ setup }) => {
    const { store } = await setup();
    const id = await enqueueOne(store);
    assert.equal(await store.settle(await claimOne(store), { kind: 'ack' }, null), true);
    assert.deepEqual((await store.getMessage(id))?.history, []);
  });

  test('retry queues the message again at outcome.at: not claimable before, claimable then', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const at = clock.now() + 10_000;
    const outcome: Outcome = { kind: 'retry', at, error: transientError(), spendAttempt: true, lastResponse: RESPONSE };
    const claimed = await claimOne(store);
    assert.equal(await store.settle(claimed, outcome, attemptRecord(claimed, clock, outcome)), true);
    const after = await store.getMessage(id);
    assert.equal(after?.state, 'queued');
    assert.equal(after?.runAt, at);
    assert.equal(after?.leaseOwner, null);
    assert.equal(after?.leaseUntil, null);
    assert.equal(after?.history.length, 1);
    assert.equal(after?.history[0]?.errorCode, 'JNC_HTTP_RETRYABLE');
    assert.equal(await store.nextRunAt(), at);
    clock.advance(9_999);
    assert.deepEqual(await store.claim({ worker: 'w', limit: 1, leaseMs: LEASE_MS }), []);
    clock.advance(1);
    assert.equal((await claimOne(store)).id, id);
  });

  test('retry spends the attempt: the next claim is attempt 2', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: true });
    assert.equal((await store.getMessage(id))?.attempts, 1);
    assert.equal((await claimOne(store)).attempt, 2);
  });

  test('retry with spendAttempt false gives the attempt back: the next claim has the same number', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: true });
    const second = await claimAndSettle(store, clock, { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: false });
    assert.equal(second.attempt, 2);
    assert.equal((await store.getMessage(id))?.attempts, 1);
    assert.equal((await claimOne(store)).attempt, 2);
    assert.equal((await store.getMessage(id))?.history.length, 2, 'a given-back attempt is still in the history');
  });

  test('dead makes a dead letter that keeps the body, the reason, the last response and the history', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store, { body: { orderId: 'A-1' }, headers: { 'x-shop': 'eu' }, meta: { via: 'http' } });
    const createdAt = clock.now();
    await claimAndSettle(store, clock, { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: true });
    clock.advance(1000);
    const error = permanentError();
    const claimed = await claimAndSettle(store, clock, { kind: 'dead', error, lastResponse: RESPONSE });
    const dead = await store.deadLetters.get(id);
    assert.ok(dead);
    assert.equal(dead.id, id);
    assert.equal(dead.idempotencyKey, claimed.idempotencyKey);
    assert.deepEqual(dead.body, { orderId: 'A-1' });
    assert.deepEqual(dead.headers, { 'x-shop': 'eu' });
    assert.deepEqual(dead.meta, { via: 'http' });
    assert.equal(dead.errorCode, 'JNC_HTTP_REJECTED');
    assert.equal(dead.error, error.message);
    assert.deepEqual(dead.reason, causeChain(error));
    assert.deepEqual(dead.lastResponse, RESPONSE);
    assert.deepEqual(
      dead.history.map((h) => [h.attempt, h.outcome, h.errorCode]),
      [
        [1, 'retry', 'JNC_HTTP_RETRYABLE'],
        [2, 'dead', 'JNC_HTTP_REJECTED'],
      ],
    );
    assert.equal(dead.attempts, 2);
    assert.equal(dead.deadAt, clock.now());
    assert.equal(dead.createdAt, createdAt);
    assert.equal(dead.replays, 0);
    const record = await store.getMessage(id);
    assert.equal(record?.state, 'dead');
    assert.equal(record?.leaseOwner, null);
  });

  test("dead without a lastResponse keeps the error's own response", async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError(RESPONSE) });
    assert.deepEqual((await store.deadLetters.get(id))?.lastResponse, RESPONSE);
  });

  test('dead with no response at all keeps lastResponse null', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError() });
    assert.equal((await store.deadLetters.get(id))?.lastResponse, null);
  });

  test('an old lease cannot settle once another worker claimed the message: false, and nothing written', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const stale = await claimOne(store, 'worker-1');
    clock.advance(LEASE_MS + 1);
    const fresh = await claimOne(store, 'worker-2');
    const before = await store.getMessage(id);
    for (const outcome of [
      { kind: 'ack' },
      { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: false },
      { kind: 'dead', error: permanentError() },
    ] satisfies Outcome[]) {
      assert.equal(await store.settle(stale, outcome, attemptRecord(stale, clock, outcome)), false, outcome.kind);
    }
    assert.deepEqual(await store.getMessage(id), before);
    assert.equal(await store.settle(fresh, { kind: 'ack' }, attemptRecord(fresh, clock, { kind: 'ack' })), true);
  });

  test('an expired lease that no other worker claimed can still settle', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const claimed = await claimOne(store);
    clock.advance(LEASE_MS + 1);
    assert.equal(await store.settle(claimed, { kind: 'ack' }, null), true);
    assert.equal((await store.getMessage(id))?.state, 'done');
  });

  test('a message is settled once: a second settle with the same lease resolves false', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const claimed = await claimAndSettle(store, clock, { kind: 'ack' });
    assert.equal(await store.settle(claimed, { kind: 'dead', error: permanentError() }, null), false);
    const after = await store.getMessage(id);
    assert.equal(after?.state, 'done');
    assert.equal(after?.history.length, 1);
  });

  test('an unknown message or lease resolves false', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store);
    const claimed = await claimOne(store);
    assert.equal(await store.settle({ id: claimed.id, lease: 'not-the-lease' }, { kind: 'ack' }, null), false);
    assert.equal(await store.settle({ id: 'no-such-message', lease: claimed.lease }, { kind: 'ack' }, null), false);
    assert.equal((await store.getMessage(claimed.id))?.state, 'running');
  });
}
