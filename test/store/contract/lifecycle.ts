/**
 * @module test/store/contract/lifecycle
 * migrate, ping and close.
 */
import assert from 'node:assert/strict';
import { assertRejectsWith, message } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

export function lifecycleTests(test: ContractTest): void {
  test('a migrated store answers ping and starts empty', async ({ setup }) => {
    const { store } = await setup();
    await store.ping();
    assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: 0, dead: 0 });
    assert.equal(await store.deadLetters.count(), 0);
    assert.equal(await store.nextRunAt(), undefined);
  });

  test('close flushes writes still pending, and a new store sees them', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const pending = store.enqueue([message({ body: { written: 'before close' } })]);
    await store.close();
    const [result] = await pending;
    assert.ok(result);
    const again = await open(clock);
    assert.deepEqual((await again.getMessage(result.id))?.body, { written: 'before close' });
  });

  test('close can be called more than once: every call resolves, and the store stays closed', async ({ setup }) => {
    const { store } = await setup();
    const first = store.close();
    const second = store.close();
    assert.deepEqual(await Promise.allSettled([first, second]), [
      { status: 'fulfilled', value: undefined },
      { status: 'fulfilled', value: undefined },
    ]);
    assert.equal(await store.close(), undefined, 'a later close resolves too');
    await assertRejectsWith(store.ping(), 'JNC_STORE_UNAVAILABLE');
  });

  test('ping rejects with JNC_STORE_UNAVAILABLE once the store is closed', async ({ setup }) => {
    const { store } = await setup();
    await store.close();
    await assertRejectsWith(store.ping(), 'JNC_STORE_UNAVAILABLE');
  });
}
