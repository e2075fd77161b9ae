/**
 * @module test/store/contract/key-reuse
 * A dedupe key is kept with a digest of its body: the same body again is a
 * duplicate, another body under the same key is refused (never dropped), and each
 * attempt keeps the Idempotency-Key it sent.
 */
import assert from 'node:assert/strict';
import { isJunctionError } from '../../../src/core/errors.ts';
import type { Json, Outcome } from '../../../src/core/message.ts';
import { assertRejectsWith, attemptRecord, claimOne, deadLetter, enqueueOne, FLOW, message, OTHER_FLOW, permanentError, transientError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

const REUSED = 'JNC_IDEMPOTENCY_KEY_REUSED';

export function keyReuseTests(test: ContractTest): void {
  test('the same key with another body is refused with JNC_IDEMPOTENCY_KEY_REUSED, and the first message is kept as it was', async ({ setup }) => {
    const { store } = await setup();
    const first = await enqueueOne(store, { dedupeKey: 'k-77', body: { order: 'A', total: 10 } });
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'k-77', body: { order: 'B', total: 99 } })]), REUSED);
    assert.deepEqual((await store.getMessage(first))?.body, { order: 'A', total: 10 });
    assert.deepEqual(await store.stats(), { queued: 1, running: 0, done: 0, dead: 0 });
  });

  test('the refusal is a 422 input error naming the key and the flow, never either body', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store, { dedupeKey: 'k-77', body: { card: 'first-secret-body' } });
    const e = await store.enqueue([message({ dedupeKey: 'k-77', body: { card: 'second-secret-body' } })]).then(
      () => assert.fail('expected a refusal'),
      (err: unknown) => err,
    );
    assert.ok(isJunctionError(e));
    assert.equal(e.code, REUSED);
    assert.equal(e.status, 422);
    assert.equal(e.family, 'input');
    assert.match(e.message, /"k-77"/);
    assert.match(e.message, new RegExp(FLOW));
    assert.deepEqual(e.details, { idempotencyKey: 'k-77' });
    assert.doesNotMatch(JSON.stringify({ message: e.message, details: e.details }), /secret-body/);
  });

  test('the same body resent, with its keys in another order, is a duplicate with the first id', async ({ setup }) => {
    const { store } = await setup();
    const first = await enqueueOne(store, { dedupeKey: 'k', body: { a: 1, b: { c: [1, 2], d: 'x' } } });
    const [again] = await store.enqueue([message({ dedupeKey: 'k', body: { b: { d: 'x', c: [1, 2] }, a: 1 } })]);
    assert.deepEqual(again, { id: first, duplicate: true });
  });

  test('bodies that differ only in array order, type or a nested value are different bodies', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store, { dedupeKey: 'k', body: { items: [1, 2], n: 1, s: 'a' } });
    const others: Json[] = [{ items: [2, 1], n: 1, s: 'a' }, { items: [1, 2], n: '1', s: 'a' }, { items: [1, 2], n: 1, s: 'b' }, { items: [1, 2], n: 1 }];
    for (const body of others) {
      await assertRejectsWith(store.enqueue([message({ dedupeKey: 'k', body })]), REUSED);
    }
  });

  test('a text body is compared by its exact text', async ({ setup }) => {
    const { store } = await setup();
    const first = await enqueueOne(store, { dedupeKey: 'x', body: '<order id="1"/>' });
    assert.deepEqual(await store.enqueue([message({ dedupeKey: 'x', body: '<order id="1"/>' })]), [{ id: first, duplicate: true }]);
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'x', body: '<order id="1" />' })]), REUSED);
  });

  test('a refused message makes the whole batch refused: none of it is created', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store, { dedupeKey: 'k', body: { v: 1 } });
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'new', body: { v: 1 } }), message({ dedupeKey: 'k', body: { v: 2 } })]), REUSED);
    assert.equal((await store.stats()).queued, 1);
    const [fresh] = await store.enqueue([message({ dedupeKey: 'new', body: { v: 1 } })]);
    assert.equal(fresh?.duplicate, false, 'the refused batch left no trace of its other message');
  });

  test('a key repeated within one batch with another body is refused too', async ({ setup }) => {
    const { store } = await setup();
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'k', body: { v: 1 } }), message({ dedupeKey: 'k', body: { v: 2 } })]), REUSED);
    assert.equal((await store.stats()).queued, 0);
  });

  test('a refusal in one call leaves the calls committed with it untouched', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store, { dedupeKey: 'k', body: { v: 1 } });
    const [refused, other] = await Promise.allSettled([
      store.enqueue([message({ dedupeKey: 'k', body: { v: 2 } })]),
      store.enqueue([message({ dedupeKey: 'other', body: { v: 2 } })]),
    ]);
    assert.equal(refused.status, 'rejected');
    assert.equal(other.status, 'fulfilled');
    assert.equal((await store.stats()).queued, 2);
  });

  test('the same key with another body in another flow is a new message', async ({ setup }) => {
    const { store } = await setup();
    const a = await enqueueOne(store, { dedupeKey: 'k', body: { v: 1 } });
    const [b] = await store.enqueue([message({ flow: OTHER_FLOW, dedupeKey: 'k', body: { v: 2 } })]);
    assert.equal(b?.duplicate, false);
    assert.notEqual(b?.id, a);
  });

  test('onKeyReuse keep-first: another body under a known key is a duplicate, and the first body stands', async ({ setup }) => {
    const { store } = await setup();
    const first = await enqueueOne(store, { dedupeKey: 'parent:0', body: { v: 1 } });
    const results = await store.enqueue([message({ dedupeKey: 'parent:0', body: { v: 2 } }), message({ dedupeKey: 'parent:1', body: { v: 3 } })], { onKeyReuse: 'keep-first' });
    assert.deepEqual(results[0], { id: first, duplicate: true });
    assert.equal(results[1]?.duplicate, false);
    assert.deepEqual((await store.getMessage(first))?.body, { v: 1 });
  });

  test('the key is refused for another body after its message is done or dead, and a duplicate for the same body', async ({ setup }) => {
    const { clock, store } = await setup();
    const dead = await deadLetter(store, clock, { dedupeKey: 'k', body: { v: 1 } });
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'k', body: { v: 2 } })]), REUSED);
    assert.deepEqual(await store.enqueue([message({ dedupeKey: 'k', body: { v: 1 } })]), [{ id: dead, duplicate: true }]);
  });

  test('a replayed dead letter keeps its key and body: resending that body is still a duplicate, not a conflict', async ({ setup }) => {
    const { clock, store } = await setup();
    const dead = await deadLetter(store, clock, { dedupeKey: 'order-A-1003', body: { id: 'A-1003' } });
    assert.deepEqual(await store.deadLetters.replay({ ids: [dead] }), [dead]);
    assert.deepEqual(await store.enqueue([message({ dedupeKey: 'order-A-1003', body: { id: 'A-1003' } })]), [{ id: dead, duplicate: true }]);
    const claimed = await claimOne(store);
    assert.equal(claimed.id, dead);
    assert.equal(claimed.idempotencyKey, 'order-A-1003');
  });

  test('settle keeps the Idempotency-Key each attempt sent in the history, and none where none was sent', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await enqueueOne(store);
    const retry: Outcome = { kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: true };
    const first = await claimOne(store);
    assert.equal(await store.settle(first, retry, { ...attemptRecord(first, clock, retry), idempotencyKey: 'order-1' }), true);
    const second = await claimOne(store);
    assert.equal(await store.settle(second, retry, attemptRecord(second, clock, retry)), true);
    const dead: Outcome = { kind: 'dead', error: permanentError() };
    const third = await claimOne(store);
    assert.equal(await store.settle(third, dead, { ...attemptRecord(third, clock, dead), idempotencyKey: 'order-1' }), true);

    const sent = (await store.getMessage(id))?.history.map((a) => a.idempotencyKey);
    assert.deepEqual(sent, ['order-1', undefined, 'order-1']);
    const letter = await store.deadLetters.get(id);
    assert.deepEqual(
      letter?.history.map((a) => a.idempotencyKey),
      ['order-1', undefined, 'order-1'],
    );
    assert.equal(letter?.idempotencyKey, id, 'the message key stays the message id: what was sent is per attempt');
  });
}
