/**
 * @module policies/memo
 * A bounded in-memory cache of answers: each entry lives `ttlMs`, at most
 * `maxEntries` are kept (the least recently used goes first), and a key has at
 * most one load in flight: callers that ask for a key while it loads share that
 * load instead of each calling the system behind it (no stampede).
 *
 * A load that rejects is not cached: every caller waiting on it gets the
 * rejection, and the next caller loads again. Time comes from the caller's
 * {@link Clock}, so tests move it by hand.
 */
import type { Clock } from '../core/clock.ts';

export interface CacheOptions {
  /** How long an answer is served from the cache, from the moment it arrived. */
  ttlMs: number;
  /** Most answers kept; one more evicts the least recently used. */
  maxEntries: number;
}

export interface Cache<V> {
  /**
   * The fresh cached value of `key`; else the load already in flight for it;
   * else the result of a new `load()`, cached when it resolves.
   */
  get(key: string, clock: Clock, load: () => Promise<V>): Promise<V>;
  /** Answers held (loads in flight not counted). */
  readonly size: number;
  /** Loads in flight. */
  readonly loading: number;
  delete(key: string): void;
  clear(): void;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export function createCache<V>(options: CacheOptions): Cache<V> {
  if (!(options.ttlMs > 0)) throw new RangeError(`cache ttlMs must be > 0, got ${options.ttlMs}`);
  if (!(Number.isInteger(options.maxEntries) && options.maxEntries >= 1)) {
    throw new RangeError(`cache maxEntries must be an integer >= 1, got ${options.maxEntries}`);
  }
  // A Map iterates in insertion order: re-inserting on every hit keeps the least
  // recently used entry first, so eviction is O(1) without a linked list.
  const entries = new Map<string, Entry<V>>();
  const inFlight = new Map<string, Promise<V>>();

  function store(key: string, value: V, now: number): void {
    entries.delete(key);
    entries.set(key, { value, expiresAt: now + options.ttlMs });
    while (entries.size > options.maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
  }

  return {
    get(key, clock, load) {
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        if (clock.now() < hit.expiresAt) {
          entries.set(key, hit);
          return Promise.resolve(hit.value);
        }
      }
      const pending = inFlight.get(key);
      if (pending) return pending;
      // Started on a microtask so that even a load that throws at once settles
      // after it is registered, and is then forgotten like any other.
      const loaded = Promise.resolve()
        .then(load)
        .then(
          (value) => {
            inFlight.delete(key);
            store(key, value, clock.now());
            return value;
          },
          (e: unknown) => {
            inFlight.delete(key);
            throw e;
          },
        );
      inFlight.set(key, loaded);
      return loaded;
    },
    get size() {
      return entries.size;
    },
    get loading() {
      return inFlight.size;
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
  };
}
