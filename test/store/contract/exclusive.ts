/**
 * @module test/store/contract/exclusive
 * exclusive(name, fn): a named lock that one holder at a time may have, across
 * calls and across stores on the same storage; false at once when it is taken.
 */
import assert from 'node:assert/strict';
import type { Store } from '../../../src/store/store.ts';
import type { ContractTest } from './fixture.ts';

const LOCK = 'schedule:nightly-export';
/** Longer than any store's lock lease: a holder silent this long is taken to be dead. */
const A_DAY_MS = 24 * 60 * 60 * 1000;

/** Holds `name` on `store` until `release()`; `started` resolves once fn runs. */
function hold(store: Store, name: string = LOCK) {
  let release!: () => void;
  let started!: (signal: AbortSignal) => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const running = new Promise<AbortSignal>((resolve) => (started = resolve));
  const result = store.exclusive(name, async (signal) => {
    started(signal);
    await gate;
  });
  return { result, running, release };
}

export function exclusiveTests(test: ContractTest): void {
  test('exclusive: runs fn and resolves true once fn has finished', async ({ setup }) => {
    const { store } = await setup();
    const steps: string[] = [];
    const result = await store.exclusive(LOCK, async (signal) => {
      assert.equal(signal.aborted, false);
      await Promise.resolve();
      steps.push('fn done');
    });
    steps.push('resolved');
    assert.equal(result, true);
    assert.deepEqual(steps, ['fn done', 'resolved']);
  });

  test('exclusive: of two calls at once on one name, one runs fn and the other resolves false at once, without calling fn', async ({ setup }) => {
    const { store } = await setup();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fn = async () => {
      calls++;
      await gate;
    };
    const both = [store.exclusive(LOCK, fn), store.exclusive(LOCK, fn)];
    // The loser does not wait for the holder's fn, which is still waiting on the gate.
    assert.equal(await Promise.race(both), false);
    release();
    assert.deepEqual((await Promise.all(both)).sort(), [false, true]);
    assert.equal(calls, 1);
  });

  test('exclusive: different names do not block each other', async ({ setup }) => {
    const { store } = await setup();
    const a = hold(store, 'a');
    await a.running;
    assert.equal(await store.exclusive('b', async () => {}), true);
    a.release();
    assert.equal(await a.result, true);
  });

  test('exclusive: is not reentrant: a call from inside fn for the same name resolves false', async ({ setup }) => {
    const { store } = await setup();
    let inner: boolean | undefined;
    assert.equal(
      await store.exclusive(LOCK, async () => {
        inner = await store.exclusive(LOCK, async () => assert.fail('must not run'));
      }),
      true,
    );
    assert.equal(inner, false);
  });

  test('exclusive: the lock is released after fn, so the next call takes it', async ({ setup }) => {
    const { store } = await setup();
    assert.equal(await store.exclusive(LOCK, async () => {}), true);
    assert.equal(await store.exclusive(LOCK, async () => {}), true);
  });

  test('exclusive: when fn throws, the lock is released and the call rejects with what fn threw', async ({ setup }) => {
    const { store } = await setup();
    const boom = new Error('export failed');
    await assert.rejects(
      store.exclusive(LOCK, async () => {
        throw boom;
      }),
      (e: unknown) => e === boom,
    );
    assert.equal(await store.exclusive(LOCK, async () => {}), true);
  });

  test('exclusive: a second store on the same storage is excluded while the lock is held, and takes it once released', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const other = await open(clock);
    const held = hold(store);
    await held.running;
    assert.equal(await other.exclusive(LOCK, async () => assert.fail('must not run')), false);
    held.release();
    assert.equal(await held.result, true);
    assert.equal(await other.exclusive(LOCK, async () => {}), true);
  });

  test('exclusive: a lock whose holder stopped renewing it (it died) is taken once its lease has run out', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const other = await open(clock);
    const held = hold(store);
    await held.running;
    clock.advance(A_DAY_MS);
    const taker = hold(other);
    await taker.running;
    // The old holder finishing late releases nothing of the new holder's.
    held.release();
    assert.equal(await held.result, true);
    assert.equal(await store.exclusive(LOCK, async () => assert.fail('must not run')), false);
    taker.release();
    assert.equal(await taker.result, true);
  });
}
