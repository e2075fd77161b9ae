/**
 * The answer cache: TTL on a hand-driven clock, least-recently-used eviction at
 * maxEntries, one load in flight per key, failures never cached.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache } from '../../src/policies/memo.ts';
import { ManualClock } from '../helpers/clock.ts';

/** A load that counts its calls and answers `${key}#${n}`. */
function counter() {
  const calls = new Map<string, number>();
  return {
    calls,
    load: (key: string) => async () => {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      return `${key}#${n}`;
    },
  };
}

/** A promise settled by hand, to hold a load in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('answer cache', () => {
  it('serves a second get within the TTL from the cache, without loading', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const { calls, load } = counter();
    assert.equal(await cache.get('a', clock, load('a')), 'a#1');
    clock.advance(999);
    assert.equal(await cache.get('a', clock, load('a')), 'a#1');
    assert.equal(calls.get('a'), 1);
  });

  it('loads again once the TTL has passed, and caches the new answer', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const { calls, load } = counter();
    await cache.get('a', clock, load('a'));
    clock.advance(1000);
    assert.equal(await cache.get('a', clock, load('a')), 'a#2');
    clock.advance(500);
    assert.equal(await cache.get('a', clock, load('a')), 'a#2');
    assert.equal(calls.get('a'), 2);
  });

  it('counts the TTL from when the answer arrived, not from when it was asked for', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const slow = deferred<string>();
    const pending = cache.get('a', clock, () => slow.promise);
    clock.advance(800);
    slow.resolve('late');
    await pending;
    clock.advance(900);
    assert.equal(await cache.get('a', clock, async () => 'again'), 'late');
  });

  it('evicts the least recently used entry when maxEntries is passed', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    const { calls, load } = counter();
    await cache.get('a', clock, load('a'));
    await cache.get('b', clock, load('b'));
    await cache.get('a', clock, load('a')); // a is now more recent than b
    await cache.get('c', clock, load('c')); // evicts b
    assert.equal(cache.size, 2);
    await cache.get('a', clock, load('a'));
    await cache.get('c', clock, load('c'));
    assert.deepEqual([...calls], [['a', 1], ['b', 1], ['c', 1]]);
    assert.equal(await cache.get('b', clock, load('b')), 'b#2', 'b was evicted and loads again');
  });

  it('makes one load for many concurrent gets of one key, and gives all of them its answer', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const gate = deferred<string>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const all = Promise.all(Array.from({ length: 20 }, () => cache.get('k', clock, load)));
    await Promise.resolve();
    assert.equal(cache.loading, 1);
    gate.resolve('answer');
    assert.deepEqual(new Set(await all), new Set(['answer']));
    assert.equal(loads, 1);
    assert.equal(cache.loading, 0);
  });

  it('does not cache a failed load: its waiters all get the error, and the next get loads again', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const gate = deferred<string>();
    const waiting = [cache.get('k', clock, () => gate.promise), cache.get('k', clock, () => gate.promise)];
    gate.reject(new Error('503'));
    for (const w of waiting) await assert.rejects(w, /503/);
    assert.equal(cache.size, 0);
    assert.equal(cache.loading, 0);
    assert.equal(await cache.get('k', clock, async () => 'ok'), 'ok');
  });

  it('forgets a load that throws at once, like one that rejects', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    await assert.rejects(
      cache.get('k', clock, () => {
        throw new Error('sync');
      }),
      /sync/,
    );
    assert.equal(cache.loading, 0);
    assert.equal(await cache.get('k', clock, async () => 'ok'), 'ok');
  });

  it('keeps different keys apart', async () => {
    const clock = new ManualClock();
    const cache = createCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const { load } = counter();
    assert.equal(await cache.get('a', clock, load('a')), 'a#1');
    assert.equal(await cache.get('b', clock, load('b')), 'b#1');
  });

  it('refuses a TTL or size that cannot work', () => {
    assert.throws(() => createCache({ ttlMs: 0, maxEntries: 1 }), RangeError);
    assert.throws(() => createCache({ ttlMs: 1, maxEntries: 0 }), RangeError);
  });
});
