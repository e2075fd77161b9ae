/**
 * @module policies/cache
 * The HTTP cache of a connector, for GETs (what `call` and `enrich` send). It
 * sits outside the circuit breaker (DESIGN.md, "The connector pipeline"), so a
 * fresh entry answers without touching the target, even while its circuit is open.
 *
 * - A fresh entry (younger than `max-age`, else `ttlMs`) is served as is.
 * - A stale entry with a validator is revalidated: the GET goes out with
 *   `If-None-Match` (its ETag) or `If-Modified-Since` (its Last-Modified). A 304
 *   refreshes the entry and the caller gets the cached answer (its status, 200).
 * - `Cache-Control` of the answer: `max-age` overrides `ttlMs`; `no-store` is
 *   never stored; `no-cache` is stored but revalidated on every use;
 *   `stale-if-error=S` lets a stale entry stand in for S seconds while the target
 *   fails (5xx, network, timeout, open circuit); `must-revalidate` forbids that.
 * - A write (POST, PUT, PATCH, DELETE) through the connector to a resource drops
 *   every cached answer of that resource (its path, whatever the query), as RFC
 *   9111 §4.4 asks of a cache that sees an unsafe method go by.
 * - Keys are method (GET only), path with query, and the request headers the
 *   answer's `Vary` names; an answer with `Vary: *` is not stored.
 *
 * This is a private cache (one connector's, in one process): `private` answers
 * are stored, `s-maxage` is ignored. A cached answer carries
 * `x-junction-cache: hit | revalidated | stale` so a flow can tell.
 *
 * Why not undici's cache interceptor: our calls go through our own chain, not
 * an undici dispatcher, and a 304 must become the cached 200 *above* the circuit
 * and rate limit (so it counts as the target answering). Its header parsing is
 * reused (`cache-headers.ts`); why its store is not: `cache-store.ts`.
 */
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.ts';
import type { CallContext, OutboundRequest, OutboundResponse, Policy } from '../core/call.ts';
import { isJunctionError } from '../core/errors.ts';
import { isEtagUsable, parseCacheControl, varyNames, type CacheControl } from './cache-headers.ts';
import { CacheStore, resourceOf, type CacheEntry } from './cache-store.ts';

export const cacheOptions = z
  .strictObject({
    ttlMs: z.int().min(0).default(60_000).describe('How long an answer stays fresh when it carries no Cache-Control max-age; 0: revalidated on every use.'),
    etag: z.boolean().default(true).describe('Revalidate a stale entry with If-None-Match (ETag) / If-Modified-Since (Last-Modified) and reuse it on a 304; false: a stale entry is fetched again in full.'),
    staleIfErrorMs: z.int().min(0).default(0).describe('How long past its freshness an entry may stand in while the target fails (5xx, network, timeout, open circuit), when the answer gave no stale-if-error of its own.'),
    maxEntries: z.int().min(1).default(1000).describe('Most answers kept; one more evicts the least recently used.'),
    maxBytes: z.int().min(1).default(16 * 1024 * 1024).describe('Most bytes kept (bodies and headers); over it, the least recently used go. A larger answer is not stored.'),
  })
  .describe('HTTP cache for GETs (call, enrich): TTL, ETag / Last-Modified revalidation, Cache-Control, stale-if-error, invalidation on writes. In memory, per connector.');

export type CacheOptions = z.output<typeof cacheOptions>;

/** Live state for the admin API (`state.policies.cache`). */
export interface CacheState {
  entries: number;
  bytes: number;
  /** Answered from a fresh entry, the target untouched. */
  hits: number;
  /** Sent in full: no entry, or one that could not be revalidated. */
  misses: number;
  /** Stale entries the target confirmed with a 304. */
  revalidated: number;
  /** Stale entries served while the target failed (stale-if-error). */
  stale: number;
  /** Body bytes not transferred thanks to hits and 304s. */
  savedBytes: number;
}

export interface CacheLayer {
  policy: Policy;
  state(): CacheState;
  /** Drops every entry (admin API). @returns how many there were */
  purge(): number;
}

/** Methods that change the resource they name: seeing one go by invalidates it. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Request headers that ask for something other than the plain answer: such a GET bypasses the cache. */
const BYPASS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'];
/** Headers of a 304 that must not overwrite the stored answer's (RFC 9111 §3.2). */
const KEEP_ON_304 = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range']);
export const CACHE_HEADER = 'x-junction-cache';

export function cachePolicy(options: CacheOptions, clock: Clock = systemClock): CacheLayer {
  const store = new CacheStore({ maxEntries: options.maxEntries, maxBytes: options.maxBytes });
  const counts = { hits: 0, misses: 0, revalidated: 0, stale: 0, savedBytes: 0 };
  // GETs in flight by resource: a write that goes by while one is out spoils its
  // answer (it may predate the write), which is then returned but not stored.
  // Bounded by the calls in flight.
  const inFlight = new Map<string, Set<{ spoiled: boolean }>>();

  function invalidate(resource: string): void {
    store.invalidate(resource);
    for (const ticket of inFlight.get(resource) ?? []) ticket.spoiled = true;
  }

  /** Builds an entry from an answer, or undefined when it must not be stored. */
  function entryOf(path: string, res: OutboundResponse, now: number): CacheEntry | undefined {
    const cc = parseCacheControl(res.headers['cache-control']);
    if (res.status !== 200 || cc['no-store']) return undefined;
    if (varyNames(res.headers.vary) === undefined) return undefined;
    return { path, status: res.status, headers: { ...res.headers }, body: res.body, storedAt: now, ...timesOf(res.headers, cc, now) };
  }

  /** Freshness and how long the entry is worth keeping, from the answer's headers. */
  function timesOf(headers: Record<string, string>, cc: CacheControl, now: number): Pick<CacheEntry, 'staleAt' | 'staleIfErrorUntil' | 'dropAt'> {
    // An Age header says how long the answer already sat in caches upstream.
    const age = Number.parseInt(headers.age ?? '0', 10) * 1000 || 0;
    const lifetime = cc['no-cache'] ? 0 : cc['max-age'] !== undefined ? Math.max(0, cc['max-age'] * 1000 - age) : options.ttlMs;
    const staleAt = now + lifetime;
    const mayServeStale = !(cc['must-revalidate'] || cc['proxy-revalidate']);
    const staleIfErrorMs = cc['stale-if-error'] !== undefined ? cc['stale-if-error'] * 1000 : options.staleIfErrorMs;
    const staleIfErrorUntil = mayServeStale ? staleAt + staleIfErrorMs : staleAt;
    // With a validator a stale entry is still worth a conditional GET: it stays until evicted.
    const dropAt = options.etag && hasValidator(headers) ? Number.POSITIVE_INFINITY : staleIfErrorUntil;
    return { staleAt, staleIfErrorUntil, dropAt };
  }

  function answer(entry: CacheEntry, how: 'hit' | 'revalidated' | 'stale', durationMs: number): OutboundResponse {
    // A copy: the caller may change what it gets, the entry must not change.
    return { status: entry.status, headers: { ...entry.headers, [CACHE_HEADER]: how }, body: Buffer.from(entry.body), durationMs };
  }

  async function get(req: OutboundRequest, ctx: CallContext, next: (req: OutboundRequest, ctx: CallContext) => Promise<OutboundResponse>): Promise<OutboundResponse> {
    const headers = lowerCaseKeys(req.headers);
    const reqCc = parseCacheControl(headers['cache-control']);
    if (reqCc['no-store'] || BYPASS.some((h) => headers[h] !== undefined)) return next(req, ctx);

    let entry = store.get(req.path, headers);
    const now = clock.now();
    if (entry && now >= entry.dropAt) {
      store.delete(req.path, headers);
      entry = undefined;
    }
    if (entry && now < entry.staleAt && !reqCc['no-cache']) {
      counts.hits++;
      counts.savedBytes += entry.body.byteLength;
      return answer(entry, 'hit', 0);
    }

    const conditional = entry && options.etag ? validatorsOf(entry) : undefined;
    const resource = resourceOf(req.path);
    const ticket = { spoiled: false };
    const tickets = inFlight.get(resource) ?? new Set();
    inFlight.set(resource, tickets.add(ticket));
    let res: OutboundResponse;
    try {
      res = await next(conditional ? { ...req, headers: { ...req.headers, ...conditional } } : req, ctx);
    } catch (e) {
      // Shutdown is not the target failing: the message goes back to the queue as it would without a cache.
      if (entry && !ctx.signal.aborted && isJunctionError(e) && e.retryable && e.code !== 'JNC_SHUTDOWN' && clock.now() < entry.staleIfErrorUntil) {
        counts.stale++;
        return answer(entry, 'stale', 0);
      }
      throw e;
    } finally {
      tickets.delete(ticket);
      if (tickets.size === 0) inFlight.delete(resource);
    }

    const at = clock.now();
    // A GET that raced a write may answer either side of it, so the caller gets it
    // as it came; only the cache must not keep it (`spoiled`: the write dropped the entry).
    if (entry && conditional && res.status === 304) {
      const merged = { ...entry.headers };
      for (const [k, v] of Object.entries(res.headers)) if (!KEEP_ON_304.has(k)) merged[k] = v;
      const refreshed: CacheEntry = { ...entry, headers: merged, storedAt: at, ...timesOf(merged, parseCacheControl(merged['cache-control']), at) };
      if (parseCacheControl(merged['cache-control'])['no-store']) store.delete(req.path, headers);
      else if (!ticket.spoiled) store.update(req.path, headers, refreshed);
      counts.revalidated++;
      counts.savedBytes += entry.body.byteLength;
      return answer(refreshed, 'revalidated', res.durationMs);
    }
    if (entry && res.status >= 500 && at < entry.staleIfErrorUntil) {
      counts.stale++;
      return answer(entry, 'stale', res.durationMs);
    }
    counts.misses++;
    const fresh = ticket.spoiled ? undefined : entryOf(req.path, res, at);
    if (fresh) store.set(fresh, headers, varyNames(res.headers.vary) ?? []);
    // A fresh 200 replaces the entry (set, above); any other answer leaves a stale one for a later revalidation.
    return res;
  }

  return {
    policy: function cacheLayer(next) {
      return async function cache(req, ctx) {
        const method = req.method.toUpperCase();
        if (method === 'GET') return get(req, ctx, next);
        if (!WRITES.has(method)) return next(req, ctx);
        // Invalidated whatever the outcome: a write that timed out may still have happened.
        try {
          return await next(req, ctx);
        } finally {
          invalidate(resourceOf(req.path));
        }
      };
    },
    state: () => ({ ...store.stats(), ...counts }),
    purge: () => {
      for (const tickets of inFlight.values()) for (const ticket of tickets) ticket.spoiled = true;
      return store.clear();
    },
  };
}

function hasValidator(headers: Record<string, string>): boolean {
  return isEtagUsable(headers.etag) || headers['last-modified'] !== undefined;
}

/** The conditional headers that revalidate `entry`, or undefined when it has no validator. */
function validatorsOf(entry: CacheEntry): Record<string, string> | undefined {
  const etag = entry.headers.etag;
  if (isEtagUsable(etag)) return { 'if-none-match': etag };
  const lastModified = entry.headers['last-modified'];
  if (lastModified !== undefined) return { 'if-modified-since': lastModified };
  return undefined;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}
