/**
 * @module policies/cache-store
 * Where the connector cache keeps its answers: in this process's memory, bounded
 * in entries and in bytes, the least recently used going first.
 *
 * Why not undici's `MemoryCacheStore` (read before writing this): its layout is
 * the one kept here (answers grouped by resource, a variant per set of `Vary`
 * values, a purge by resource), but it reads `Date.now()` itself, so a test
 * cannot move its time; it takes bodies through a `Writable` where we already
 * hold a whole `Buffer`; and when full it drops half of every resource's
 * variants at once rather than the least recently used one. This store has no
 * notion of time at all: the policy decides freshness with its own clock.
 *
 * Keys. A variant's key is its path (query included) and the values of the
 * request headers its resource's last answer named in `Vary`. The names are kept
 * per path: a lookup reads them first, then builds the key from the request.
 * Answers with `Vary: *` are never stored (the policy checks), so a key is
 * always computable.
 */

/** One stored answer and what the policy needs to judge it. */
export interface CacheEntry {
  /** Path with its query, as requested. */
  path: string;
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Clock time the answer (or its last 304) arrived. */
  storedAt: number;
  /** Clock time from which the entry must be revalidated before use. */
  staleAt: number;
  /** Clock time until which a stale entry may stand in for a failing target; `staleAt` when never. */
  staleIfErrorUntil: number;
  /** Clock time after which the entry is useless (no validator, no stale-if-error): dropped on sight. */
  dropAt: number;
}

export interface CacheStoreLimits {
  maxEntries: number;
  maxBytes: number;
}

export interface CacheStoreStats {
  entries: number;
  bytes: number;
}

/** Size an entry counts for: its body and its headers, as text. */
function sizeOf(entry: CacheEntry): number {
  let n = entry.body.byteLength + entry.path.length;
  for (const [k, v] of Object.entries(entry.headers)) n += k.length + v.length;
  return n;
}

/** The resource a path names: the path without its query. Writes invalidate by resource. */
export function resourceOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

export class CacheStore {
  readonly #limits: CacheStoreLimits;
  // A Map iterates in insertion order: re-inserting on every use keeps the least
  // recently used first, so eviction is O(1) without a linked list (as policies/memo.ts).
  readonly #entries = new Map<string, { entry: CacheEntry; size: number }>();
  /**
   * Path → the header names its last stored answer varied on (lower case,
   * sorted), and how many entries it has: forgotten with its last entry, so the
   * index stays as bounded as the entries.
   */
  readonly #paths = new Map<string, { names: readonly string[]; count: number }>();
  #bytes = 0;

  constructor(limits: CacheStoreLimits) {
    if (!(Number.isInteger(limits.maxEntries) && limits.maxEntries >= 1)) throw new RangeError(`cache maxEntries must be an integer >= 1, got ${limits.maxEntries}`);
    if (!(Number.isInteger(limits.maxBytes) && limits.maxBytes >= 1)) throw new RangeError(`cache maxBytes must be an integer >= 1, got ${limits.maxBytes}`);
    this.#limits = limits;
  }

  /** The entry for `path` that matches the request's headers (lower-case names), marked as recently used. */
  get(path: string, headers: Readonly<Record<string, string>>): CacheEntry | undefined {
    const key = this.#key(path, this.#paths.get(path)?.names ?? [], headers);
    const held = this.#entries.get(key);
    if (!held) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, held);
    return held.entry;
  }

  /**
   * Stores `entry` for a request with `headers`, varying on `varyNames`; evicts
   * the least recently used entries until the bounds hold. An entry larger than
   * `maxBytes` on its own is not stored (and any older one for its key goes).
   * @returns whether it was stored
   */
  set(entry: CacheEntry, requestHeaders: Readonly<Record<string, string>>, varyNames: readonly string[]): boolean {
    const names = [...new Set(varyNames)].sort();
    const previous = this.#paths.get(entry.path);
    // A resource that changed what it varies on: the old variants can no longer be found, so they go now.
    if (previous && previous.names.join() !== names.join()) this.#deleteWhere((e) => e.path === entry.path);
    const key = this.#key(entry.path, names, requestHeaders);
    this.#remove(key);
    const size = sizeOf(entry);
    if (size > this.#limits.maxBytes) return false;
    const path = this.#paths.get(entry.path);
    if (path) path.count++;
    else this.#paths.set(entry.path, { names, count: 1 });
    this.#entries.set(key, { entry, size });
    this.#bytes += size;
    for (const [oldest] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEntries && this.#bytes <= this.#limits.maxBytes) break;
      this.#remove(oldest);
    }
    return true;
  }

  /** Replaces the stored entry in place (after a 304), keeping its key; sizes are recounted. */
  update(path: string, requestHeaders: Readonly<Record<string, string>>, entry: CacheEntry): void {
    this.set(entry, requestHeaders, this.#paths.get(path)?.names ?? []);
  }

  /** Drops the entry `get(path, headers)` would return. */
  delete(path: string, headers: Readonly<Record<string, string>>): void {
    this.#remove(this.#key(path, this.#paths.get(path)?.names ?? [], headers));
  }

  /** Drops every variant of every path of `resource` (query strings included). @returns how many */
  invalidate(resource: string): number {
    return this.#deleteWhere((e) => resourceOf(e.path) === resource);
  }

  /** Drops everything. @returns how many entries there were */
  clear(): number {
    const n = this.#entries.size;
    this.#entries.clear();
    this.#paths.clear();
    this.#bytes = 0;
    return n;
  }

  stats(): CacheStoreStats {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  #key(path: string, names: readonly string[], headers: Readonly<Record<string, string>>): string {
    return names.length === 0 ? path : JSON.stringify([path, names.map((n) => headers[n] ?? null)]);
  }

  #remove(key: string): void {
    const held = this.#entries.get(key);
    if (!held) return;
    this.#entries.delete(key);
    this.#bytes -= held.size;
    const path = this.#paths.get(held.entry.path);
    if (path && --path.count === 0) this.#paths.delete(held.entry.path);
  }

  #deleteWhere(test: (e: CacheEntry) => boolean): number {
    let n = 0;
    for (const [key, held] of this.#entries) {
      if (!test(held.entry)) continue;
      this.#remove(key);
      n++;
    }
    return n;
  }
}
