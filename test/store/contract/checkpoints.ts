/**
 * @module test/store/contract/checkpoints
 * checkpoints: where a trigger left off, committed in the same transaction as the
 * messages it read (enqueue's `checkpoint`), or on its own with `set`.
 */
import assert from 'node:assert/strict';
import type { Json } from '../../../src/core/message.ts';
import { assertRejectsWith, enqueueOne, message } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

const KEY = 'poll-crm-contacts';
const FIRST = { updatedAt: '2025-01-01T00:00:00Z', cursor: 'c-1' };
const SECOND = { updatedAt: '2025-01-01T00:05:00Z', cursor: 'c-2' };

export function checkpointTests(test: ContractTest): void {
  test('checkpoints: get of an unknown key is undefined', async ({ setup }) => {
    const { store } = await setup();
    assert.equal(await store.checkpoints.get(KEY), undefined);
  });

  test('checkpoints: enqueue saves the checkpoint with the batch, and a second store sees both once it resolves', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const results = await store.enqueue([message({ body: { n: 1 } }), message({ body: { n: 2 } })], { checkpoint: { key: KEY, value: FIRST } });
    const other = await open(clock);
    assert.deepEqual(await other.checkpoints.get(KEY), FIRST);
    for (const r of results) assert.equal((await other.getMessage(r.id))?.state, 'queued');
  });

  test('checkpoints: a batch refused for a reused idempotency key saves no checkpoint, and the previous one stays', async ({ setup }) => {
    const { store } = await setup();
    await store.enqueue([message({ dedupeKey: 'rec-1', body: { v: 1 } })], { checkpoint: { key: KEY, value: FIRST } });
    await assertRejectsWith(
      store.enqueue([message({ dedupeKey: 'rec-2', body: { v: 2 } }), message({ dedupeKey: 'rec-1', body: { v: 'changed' } })], {
        checkpoint: { key: KEY, value: SECOND },
      }),
      'JNC_IDEMPOTENCY_KEY_REUSED',
    );
    assert.deepEqual(await store.checkpoints.get(KEY), FIRST);
    assert.equal((await store.stats()).queued, 1, 'nothing of the refused batch was created');
  });

  test('checkpoints: a refused batch saves no checkpoint even when none was saved before', async ({ setup }) => {
    const { store } = await setup();
    await enqueueOne(store, { dedupeKey: 'rec-1', body: { v: 1 } });
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'rec-1', body: { v: 2 } })], { checkpoint: { key: KEY, value: FIRST } }), 'JNC_IDEMPOTENCY_KEY_REUSED');
    assert.equal(await store.checkpoints.get(KEY), undefined);
  });

  test('checkpoints: with onKeyReuse keep-first, a reused key is a duplicate and the checkpoint is saved', async ({ setup }) => {
    const { store } = await setup();
    const first = await enqueueOne(store, { dedupeKey: 'rec-1', body: { v: 1 } });
    const results = await store.enqueue([message({ dedupeKey: 'rec-1', body: { v: 2 } })], { onKeyReuse: 'keep-first', checkpoint: { key: KEY, value: FIRST } });
    assert.deepEqual(results, [{ id: first, duplicate: true }]);
    assert.deepEqual(await store.checkpoints.get(KEY), FIRST);
  });

  test('checkpoints: a checkpoint that cannot be stored as JSON refuses the batch with JNC_INPUT_INVALID, and creates none of it', async ({ setup }) => {
    const { store } = await setup();
    const unserialisable = { cursor: 10n } as unknown as Json; // JSON.stringify throws on a BigInt
    await assertRejectsWith(store.enqueue([message()], { checkpoint: { key: KEY, value: unserialisable } }), 'JNC_INPUT_INVALID');
    await assertRejectsWith(store.enqueue([message()], { checkpoint: { key: '', value: FIRST } }), 'JNC_INPUT_INVALID');
    assert.equal((await store.stats()).queued, 0);
    assert.equal(await store.checkpoints.get(KEY), undefined);
    await assertRejectsWith(store.checkpoints.set(KEY, unserialisable), 'JNC_INPUT_INVALID');
    assert.equal(await store.checkpoints.get(KEY), undefined);
  });

  test('checkpoints: an empty batch with a checkpoint still saves it (a poll that found nothing new moves on)', async ({ setup }) => {
    const { store } = await setup();
    await store.enqueue([], { checkpoint: { key: KEY, value: FIRST } });
    assert.deepEqual(await store.enqueue([], { checkpoint: { key: KEY, value: SECOND } }), []);
    assert.deepEqual(await store.checkpoints.get(KEY), SECOND);
    assert.equal((await store.stats()).queued, 0);
  });

  test('checkpoints: read back after close and reopen, whether saved by enqueue or by set', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const pending = store.enqueue([message()], { checkpoint: { key: KEY, value: FIRST } });
    await store.checkpoints.set('other', 'c-99');
    await store.close();
    await pending;
    const again = await open(clock);
    assert.deepEqual(await again.checkpoints.get(KEY), FIRST);
    assert.equal(await again.checkpoints.get('other'), 'c-99');
  });

  test('checkpoints: the last writer wins, whole: a value is replaced, never merged', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const other = await open(clock);
    await store.checkpoints.set(KEY, { ...FIRST, page: 3 });
    await other.enqueue([message()], { checkpoint: { key: KEY, value: SECOND } });
    assert.deepEqual(await store.checkpoints.get(KEY), SECOND);
    await store.checkpoints.set(KEY, ['a', 1, null]);
    assert.deepEqual(await other.checkpoints.get(KEY), ['a', 1, null]);
    // Two writers at once: one value or the other, whole.
    await Promise.all([store.checkpoints.set(KEY, FIRST), other.enqueue([], { checkpoint: { key: KEY, value: SECOND } })]);
    const value = await store.checkpoints.get(KEY);
    assert.ok([FIRST, SECOND].some((v) => JSON.stringify(v) === JSON.stringify(value)), `got ${JSON.stringify(value)}`);
  });

  test('checkpoints: keys are independent, and any JSON value is kept as given, null included', async ({ setup }) => {
    const { store } = await setup();
    await store.enqueue([message()], { checkpoint: { key: 'a', value: null } });
    await store.checkpoints.set('b', 42);
    await store.checkpoints.set('c', 'cursor-with-"quotes"');
    assert.equal(await store.checkpoints.get('a'), null, 'a null checkpoint is not a missing one');
    assert.equal(await store.checkpoints.get('b'), 42);
    assert.equal(await store.checkpoints.get('c'), 'cursor-with-"quotes"');
  });

  test('checkpoints: delete removes the value and says whether there was one', async ({ setup }) => {
    const { store } = await setup();
    await store.checkpoints.set(KEY, FIRST);
    assert.equal(await store.checkpoints.delete(KEY), true);
    assert.equal(await store.checkpoints.get(KEY), undefined);
    assert.equal(await store.checkpoints.delete(KEY), false);
  });
}
