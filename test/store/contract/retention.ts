/**
 * @module test/store/contract/retention
 * sweep: done messages and dead letters older than their retention go, oldest
 * first and in bounded batches; queued and running messages never do; a done
 * message's dedupe key goes with it.
 */
import assert from 'node:assert/strict';
import { claimAndSettle, claimOne, deadLetter, enqueueOne, message, permanentError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

const DAY = 86_400_000;

export function retentionTests(test: ContractTest): void {
  test('sweep deletes done messages done before doneBefore, oldest first, at most limit, with their history', async ({ setup }) => {
    const { clock, store } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await store.enqueue([message({ body: { i } })]);
      ids.push((await claimAndSettle(store, clock, { kind: 'ack' })).id);
      clock.advance(1000);
    }
    // Done at t, t+1s, t+2s; now is t+3s. Keep what was done in the last 1.5 s.
    const cut = { doneBefore: clock.now() - 1500, deadBefore: 0 };
    assert.deepEqual(await store.sweep({ ...cut, limit: 1 }), { done: 1, dead: 0 });
    assert.equal(await store.getMessage(ids[0]!), undefined, 'the oldest goes first');
    assert.ok(await store.getMessage(ids[1]!));
    assert.deepEqual(await store.sweep({ ...cut, limit: 10 }), { done: 1, dead: 0 });
    assert.equal(await store.getMessage(ids[1]!), undefined);
    assert.deepEqual((await store.getMessage(ids[2]!))?.state, 'done', 'the one done within the retention stays');
    assert.deepEqual(await store.sweep({ ...cut, limit: 10 }), { done: 0, dead: 0 });
  });

  test('sweep deletes dead letters dead before deadBefore, and never a queued, running or retrying message', async ({ setup }) => {
    const { clock, store } = await setup();
    const dead = await deadLetter(store, clock);
    await enqueueOne(store, { body: { r: 1 } });
    const running = await claimOne(store);
    const queued = await enqueueOne(store, { body: { q: 1 }, runAt: clock.now() + 30 * DAY });
    clock.advance(10 * DAY);
    const later = await store.sweep({ doneBefore: clock.now(), deadBefore: clock.now() - 11 * DAY, limit: 10 });
    assert.deepEqual(later, { done: 0, dead: 0 }, 'a dead letter within its retention stays');
    assert.deepEqual(await store.sweep({ doneBefore: clock.now(), deadBefore: clock.now(), limit: 10 }), { done: 0, dead: 1 });
    assert.equal(await store.deadLetters.get(dead), undefined);
    assert.equal((await store.getMessage(queued))?.state, 'queued');
    assert.equal((await store.getMessage(running.id))?.state, 'running');
    assert.equal(await store.settle(running, { kind: 'dead', error: permanentError() }, null), true, 'the lease still settles');
  });

  test('a dedupe key goes with its swept message: the same key afterwards is a new message', async ({ setup }) => {
    const { clock, store } = await setup();
    const [first] = await store.enqueue([message({ dedupeKey: 'k-1' })]);
    await claimAndSettle(store, clock, { kind: 'ack' });
    const [again] = await store.enqueue([message({ dedupeKey: 'k-1' })]);
    assert.deepEqual(again, { id: first!.id, duplicate: true }, 'within the window: a duplicate');
    clock.advance(DAY);
    await store.sweep({ doneBefore: clock.now(), deadBefore: 0, limit: 10 });
    const [after] = await store.enqueue([message({ dedupeKey: 'k-1' })]);
    assert.equal(after?.duplicate, false, 'after the window: a new message');
    assert.notEqual(after?.id, first!.id);
  });
}
