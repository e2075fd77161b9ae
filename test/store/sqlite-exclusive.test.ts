/**
 * @module test/store/sqlite-exclusive.test
 * What is SQLite's own in `exclusive`: the lock is a row with a lease that its
 * holder renews (every third of `lockLeaseMs`) while fn runs, and fn's signal
 * aborts when a renewal finds the lock gone. Renewals are driven by mocked
 * timers and leases by a manual clock, so nothing here sleeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';

const LEASE_MS = 3000;
const RENEW_EVERY_MS = LEASE_MS / 3;
const LOCK = 'schedule:nightly';

let dir = '';
let stores: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-lock-'));
});

afterEach(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  stores = [];
  rmSync(dir, { recursive: true, force: true });
});

async function open(clock: ManualClock): Promise<Store> {
  const store = createSqliteStore({ path: join(dir, 'junction.db'), clock, lockLeaseMs: LEASE_MS });
  stores.push(store);
  await store.migrate();
  return store;
}

/** Holds LOCK on `store` until `release()`; `running` resolves with fn's signal once fn runs. */
function hold(store: Store) {
  let release!: () => void;
  let started!: (signal: AbortSignal) => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const running = new Promise<AbortSignal>((resolve) => (started = resolve));
  const result = store.exclusive(LOCK, async (signal) => {
    started(signal);
    await gate;
  });
  return { result, running, release };
}

/** Fires the holder's renewal timer once, and waits until the renewal has committed. */
async function renew(t: TestContext, store: Store): Promise<void> {
  t.mock.timers.tick(RENEW_EVERY_MS);
  // Group commit keeps the order of writes: once this one has committed, so has the renewal before it.
  await store.checkpoints.set('barrier', null);
}

describe('SQLite exclusive: leases', () => {
  it('renews the lease while fn runs, so a holder that outlives its first lease keeps the lock', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = new ManualClock();
    const [store, other] = [await open(clock), await open(clock)];
    const held = hold(store);
    await held.running;
    for (let i = 0; i < 5; i++) {
      clock.advance(RENEW_EVERY_MS);
      await renew(t, store);
    }
    clock.advance(LEASE_MS - 1); // 5 s past the first lease, 2.999 s past the last renewal
    assert.equal(await other.exclusive(LOCK, async () => assert.fail('must not run')), false);
    held.release();
    assert.equal(await held.result, true);
  });

  it('without a renewal the lease runs out after lockLeaseMs, not before', async () => {
    const clock = new ManualClock();
    const [store, other] = [await open(clock), await open(clock)];
    const held = hold(store);
    await held.running;
    clock.advance(LEASE_MS);
    assert.equal(await other.exclusive(LOCK, async () => {}), false, 'held up to and including the end of its lease');
    clock.advance(1);
    assert.equal(await other.exclusive(LOCK, async () => {}), true);
    held.release();
    await held.result;
  });

  it("aborts fn's signal with JNC_LOCK_LOST when a renewal finds the lock taken by another holder", { timeout: 10_000 }, async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = new ManualClock();
    const [store, other] = [await open(clock), await open(clock)];
    const frozen = hold(store);
    const signal = await frozen.running;
    clock.advance(LEASE_MS + 1); // the holder was frozen past its lease
    const taker = hold(other);
    await taker.running;
    const aborted = new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
    await renew(t, store);
    const reason = await aborted;
    assert.equal((reason as { code?: unknown }).code, 'JNC_LOCK_LOST');
    assert.match(String((reason as Error).message), new RegExp(LOCK));
    frozen.release();
    assert.equal(await frozen.result, true);
    assert.equal(await store.exclusive(LOCK, async () => {}), false, 'the new holder still has it');
    taker.release();
    await taker.result;
  });

  it('a store closed under a holder: the call still resolves true, and the lock is free once its lease runs out', async () => {
    const clock = new ManualClock();
    const [store, other] = [await open(clock), await open(clock)];
    const held = hold(store);
    await held.running;
    await store.close();
    held.release();
    assert.equal(await held.result, true);
    assert.equal(await other.exclusive(LOCK, async () => {}), false);
    clock.advance(LEASE_MS + 1);
    assert.equal(await other.exclusive(LOCK, async () => {}), true);
  });

  it('refuses an empty lock name with JNC_INPUT_INVALID, without calling fn', async () => {
    const store = await open(new ManualClock());
    await assert.rejects(
      store.exclusive('', async () => assert.fail('must not run')),
      (e: unknown) => (e as { code?: unknown }).code === 'JNC_INPUT_INVALID',
    );
  });
});
