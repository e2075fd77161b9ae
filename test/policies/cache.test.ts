/**
 * The connector's HTTP cache for GETs, against a real loopback server that
 * keeps versioned resources with ETags and Last-Modified, answers 304 to a
 * matching conditional GET (and counts the body bytes it did not send), and
 * goes down on demand. Time is a ManualClock: TTLs pass by hand, never by sleeping.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import type { Connector } from '../../src/connectors/connector.ts';
import type { OutboundResponse } from '../../src/core/call.ts';
import { isJunctionError } from '../../src/core/errors.ts';
import { parseCacheControl, isEtagUsable } from '../../src/policies/cache-headers.ts';
import type { CacheState } from '../../src/policies/cache.ts';
import { callOptions, callStep } from '../../src/steps/call.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startRecorder, type Seen } from '../helpers/servers.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

interface Resource {
  version: number;
  body: string;
}

interface ServerOptions {
  /** Cache-Control of every 200 and 304; none when undefined. */
  cacheControl?: string;
  etag?: boolean;
  lastModified?: boolean;
  vary?: string;
}

/**
 * Resources under /accounts/:id. A GET answers 200 with the resource, or 304 when
 * If-None-Match / If-Modified-Since matches its version; a PUT bumps the version.
 * `down` answers 503 to everything; `reset` drops the connection.
 */
async function startResources(t: TestContext, opts: ServerOptions = {}) {
  const resources = new Map<string, Resource>();
  const stats = { full: 0, notModified: 0, bytesSaved: 0 };
  const mode = { value: 'up' as 'up' | 'down' | 'reset' };
  const etagOf = (id: string, r: Resource) => `"${id}-v${r.version}"`;
  const modifiedOf = (r: Resource) => new Date(Date.UTC(2025, 0, 1) + r.version * 1000).toUTCString();
  const server = await startRecorder(t, (req: Seen, res: ServerResponse) => {
    if (mode.value === 'reset') return void res.socket?.destroy();
    if (mode.value === 'down') return void res.writeHead(503).end('{"error":"down"}');
    const id = new URL(req.url, 'http://x').pathname.split('/')[2] ?? '';
    if (req.method === 'PUT') {
      const r = resources.get(id) ?? { version: 0, body: '' };
      resources.set(id, { version: r.version + 1, body: req.body });
      return void res.writeHead(204).end();
    }
    const r = resources.get(id);
    if (!r) return void res.writeHead(404).end();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.etag !== false) headers.etag = etagOf(id, r);
    if (opts.lastModified) headers['last-modified'] = modifiedOf(r);
    if (opts.cacheControl !== undefined) headers['cache-control'] = opts.cacheControl;
    if (opts.vary !== undefined) headers.vary = opts.vary;
    const body = opts.vary?.includes('accept-language') ? JSON.stringify({ ...JSON.parse(r.body), lang: req.headers['accept-language'] ?? null }) : r.body;
    const matches =
      (opts.etag !== false && req.headers['if-none-match'] === etagOf(id, r)) ||
      (opts.lastModified === true && req.headers['if-modified-since'] === modifiedOf(r));
    if (matches) {
      stats.notModified++;
      stats.bytesSaved += Buffer.byteLength(body);
      return void res.writeHead(304, headers).end();
    }
    stats.full++;
    res.writeHead(200, headers).end(body);
  });
  const put = (id: string, body: unknown) => {
    const r = resources.get(id);
    resources.set(id, { version: (r?.version ?? 0) + 1, body: JSON.stringify(body) });
  };
  return { ...server, stats, mode, put, gets: () => server.seen.filter((s) => s.method === 'GET') };
}

function cached(t: TestContext, url: string, cache: Record<string, unknown>, clock: ManualClock, extra: Record<string, unknown> = {}): Connector {
  return testRestConnector(t, 'accounts', { baseUrl: url, timeoutMs: 2000, retry: { maxAttempts: 1 }, cache, ...extra }, { clock });
}

const signal = new AbortController().signal;
const get = (c: Connector, path: string, headers: Record<string, string> = {}): Promise<OutboundResponse> => c.call({ method: 'GET', path, headers }, { signal });
const json = (res: OutboundResponse): unknown => JSON.parse(res.body.toString('utf8'));
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition not met');
}
const cacheState = (c: Connector): CacheState => c.state().policies.cache as CacheState;

describe('cache: ETag revalidation through a call step', () => {
  it('the GET after the TTL sends If-None-Match, gets a 304, and the flow sees the cached body', async (t) => {
    const server = await startResources(t);
    const account = { id: 'ACC-1', tier: 'gold', notes: 'x'.repeat(500) };
    server.put('1', account);
    const clock = new ManualClock();
    const connector = cached(t, server.url, { ttlMs: 60_000, etag: true }, clock);
    const step = await callStep.create(callOptions.parse({ connector: 'accounts', request: { method: 'GET', path: '/accounts/{{ account }}' } }), stepDeps({ connector: () => connector }));
    const ctx = stepContext(clock);
    const run = async () => {
      const out = await step(message({ account: '1' }, { headers: { 'content-type': 'application/json' } }), ctx);
      assert.ok(typeof out === 'object' && 'body' in out);
      return out.body;
    };

    assert.deepEqual(await run(), account);
    clock.advance(59_999);
    assert.deepEqual(await run(), account, 'fresh: answered from the cache');
    assert.equal(server.gets().length, 1, 'a fresh entry does not touch the target');

    clock.advance(1);
    assert.deepEqual(await run(), account, 'after the TTL: the cached body, confirmed by a 304');
    assert.equal(server.gets().length, 2);
    assert.equal(server.gets()[1]!.headers['if-none-match'], '"1-v1"');
    assert.equal(server.stats.notModified, 1);
    assert.equal(server.stats.full, 1);
    const size = Buffer.byteLength(JSON.stringify(account));
    assert.equal(server.stats.bytesSaved, size, 'the server counts the body it did not send');

    // The 304 refreshed the entry: fresh again for another TTL.
    clock.advance(59_999);
    assert.deepEqual(await run(), account);
    assert.equal(server.gets().length, 2);
    assert.deepEqual({ ...cacheState(connector), bytes: 0 }, { entries: 1, bytes: 0, hits: 2, misses: 1, revalidated: 1, stale: 0, savedBytes: 3 * size });
    assert.ok(cacheState(connector).bytes > size);
  });

  it('a changed resource answers 200 to the conditional GET, and the new body replaces the entry', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 1000 }, clock);
    assert.deepEqual(json(await get(c, '/accounts/1')), { v: 1 });
    server.put('1', { v: 2 });
    clock.advance(1000);
    const res = await get(c, '/accounts/1');
    assert.equal(res.status, 200);
    assert.deepEqual(json(res), { v: 2 });
    assert.equal(server.gets()[1]!.headers['if-none-match'], '"1-v1"');
    assert.deepEqual(json(await get(c, '/accounts/1')), { v: 2 }, 'the new answer is cached');
    assert.equal(server.gets().length, 2);
  });

  it('revalidates with If-Modified-Since when the answer has only Last-Modified', async (t) => {
    const server = await startResources(t, { etag: false, lastModified: true });
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 1000 }, clock);
    await get(c, '/accounts/1');
    clock.advance(1000);
    const res = await get(c, '/accounts/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-junction-cache'], 'revalidated');
    assert.deepEqual(json(res), { v: 1 });
    assert.equal(server.gets()[1]!.headers['if-modified-since'], new Date(Date.UTC(2025, 0, 1) + 1000).toUTCString());
    assert.equal(server.gets()[1]!.headers['if-none-match'], undefined);
  });

  it('etag: false fetches a stale entry again in full, without validators', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 1000, etag: false }, clock);
    await get(c, '/accounts/1');
    clock.advance(1000);
    await get(c, '/accounts/1');
    assert.equal(server.gets()[1]!.headers['if-none-match'], undefined);
    assert.equal(server.stats.full, 2);
  });

  it('a fresh entry answers while the target is unreachable (nothing below the cache runs)', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 60_000 }, clock);
    await get(c, '/accounts/1');
    server.mode.value = 'reset';
    const res = await get(c, '/accounts/1');
    assert.equal(res.headers['x-junction-cache'], 'hit');
    assert.deepEqual(json(res), { v: 1 });
    assert.equal(server.gets().length, 1);
  });
});

describe('cache: Cache-Control', () => {
  it('max-age overrides ttlMs, both ways', async (t) => {
    const short = await startResources(t, { cacheControl: 'max-age=5' });
    short.put('1', { v: 1 });
    const clock = new ManualClock();
    const a = cached(t, short.url, { ttlMs: 60_000 }, clock);
    await get(a, '/accounts/1');
    clock.advance(4999);
    await get(a, '/accounts/1');
    assert.equal(short.gets().length, 1);
    clock.advance(1);
    await get(a, '/accounts/1');
    assert.equal(short.gets().length, 2, 'stale after max-age, not after ttlMs');

    const long = await startResources(t, { cacheControl: 'private, max-age=120' });
    long.put('1', { v: 1 });
    const b = cached(t, long.url, { ttlMs: 1000 }, clock);
    await get(b, '/accounts/1');
    clock.advance(119_999);
    await get(b, '/accounts/1');
    assert.equal(long.gets().length, 1, 'fresh for max-age, past ttlMs');
  });

  it('no-store is never stored', async (t) => {
    const server = await startResources(t, { cacheControl: 'no-store' });
    server.put('1', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    await get(c, '/accounts/1');
    await get(c, '/accounts/1');
    assert.equal(server.stats.full, 2);
    assert.equal(server.gets()[1]!.headers['if-none-match'], undefined);
    assert.equal(cacheState(c).entries, 0);
  });

  it('no-cache is stored but revalidated on every use', async (t) => {
    const server = await startResources(t, { cacheControl: 'no-cache' });
    server.put('1', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    await get(c, '/accounts/1');
    const res = await get(c, '/accounts/1');
    assert.deepEqual(json(res), { v: 1 });
    assert.equal(server.gets()[1]!.headers['if-none-match'], '"1-v1"');
    assert.equal(server.stats.notModified, 1);
  });

  it('a request with its own validators, or with no-store, bypasses the cache', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    await get(c, '/accounts/1');
    const own = await get(c, '/accounts/1', { 'If-None-Match': '"1-v1"' });
    assert.equal(own.status, 304, 'the caller asked for a conditional answer and gets it as is');
    await get(c, '/accounts/1', { 'cache-control': 'no-store' });
    assert.equal(server.gets().length, 3);
  });

  it('uses undici\'s parser: quoted and qualified directives', () => {
    assert.deepEqual(parseCacheControl('max-age="5", no-cache="set-cookie", stale-if-error=30'), { 'max-age': 5, 'no-cache': ['set-cookie'], 'stale-if-error': 30 });
    assert.deepEqual(parseCacheControl(undefined), {});
    assert.equal(isEtagUsable('"a"'), true);
    assert.equal(isEtagUsable('W/"a"'), true);
    assert.equal(isEtagUsable('a'), false);
  });
});

describe('cache: stale-if-error', () => {
  it('serves a stale entry while the target answers 5xx or is unreachable, within the window', async (t) => {
    const server = await startResources(t, { cacheControl: 'max-age=1, stale-if-error=60' });
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 60_000 }, clock);
    await get(c, '/accounts/1');
    clock.advance(2000);
    server.mode.value = 'down';
    const on503 = await get(c, '/accounts/1');
    assert.equal(on503.status, 200);
    assert.equal(on503.headers['x-junction-cache'], 'stale');
    assert.deepEqual(json(on503), { v: 1 });
    server.mode.value = 'reset';
    const onReset = await get(c, '/accounts/1');
    assert.equal(onReset.headers['x-junction-cache'], 'stale');
    assert.equal(cacheState(c).stale, 2);

    clock.advance(59_000); // past max-age + stale-if-error
    server.mode.value = 'down';
    assert.equal((await get(c, '/accounts/1')).status, 503, 'past the window the failure goes through');
  });

  it('serves nothing stale without stale-if-error, or with must-revalidate', async (t) => {
    const server = await startResources(t, { cacheControl: 'max-age=1, must-revalidate' });
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 60_000, staleIfErrorMs: 60_000 }, clock);
    await get(c, '/accounts/1');
    clock.advance(1000);
    server.mode.value = 'down';
    assert.equal((await get(c, '/accounts/1')).status, 503);
    server.mode.value = 'reset';
    await assert.rejects(get(c, '/accounts/1'), (e) => isJunctionError(e) && e.code === 'JNC_CONN_NETWORK');
  });

  it('staleIfErrorMs is the window when the answer names none', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const clock = new ManualClock();
    const c = cached(t, server.url, { ttlMs: 1000, staleIfErrorMs: 5000 }, clock);
    await get(c, '/accounts/1');
    clock.advance(5999);
    server.mode.value = 'down';
    assert.equal((await get(c, '/accounts/1')).headers['x-junction-cache'], 'stale');
    clock.advance(1);
    assert.equal((await get(c, '/accounts/1')).status, 503);
  });
});

describe('cache: invalidation, keys and bounds', () => {
  it('a write to a resource drops its entries, query strings included, and no other', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    server.put('2', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    await get(c, '/accounts/1');
    await get(c, '/accounts/1?fields=tier');
    await get(c, '/accounts/2');
    assert.equal(cacheState(c).entries, 3);
    const put = await c.call({ method: 'PUT', path: '/accounts/1', body: JSON.stringify({ v: 9 }), headers: { 'content-type': 'application/json' } }, { signal });
    assert.equal(put.status, 204);
    assert.equal(cacheState(c).entries, 1);
    const after = await get(c, '/accounts/1');
    assert.deepEqual(json(after), { v: 9 });
    assert.equal(after.headers['x-junction-cache'], undefined, 'fetched in full');
    assert.equal(server.gets().at(-1)!.headers['if-none-match'], undefined);
    await get(c, '/accounts/2');
    assert.equal(server.gets().length, 4, '/accounts/2 still cached');
  });

  it('a GET in flight while a write goes by is answered but not stored', async (t) => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let version = 1;
    const server = await startRecorder(t, (req, res) => {
      if (req.method === 'PUT') return void res.writeHead(204).end(void version++);
      const body = JSON.stringify({ v: version });
      // The first GET reads the old version, then answers only once the write is done.
      if (version === 1) void held.then(() => res.writeHead(200, { etag: '"v1"' }).end(body));
      else res.writeHead(200, { etag: `"v${version}"` }).end(body);
    });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    const racing = get(c, '/accounts/1');
    await until(() => server.seen.length === 1);
    await c.call({ method: 'PUT', path: '/accounts/1', body: '{}' }, { signal });
    release();
    assert.deepEqual(json(await racing), { v: 1 }, 'the caller gets the answer as it came');
    assert.equal(cacheState(c).entries, 0, 'but it is not kept: it may predate the write');
    assert.deepEqual(json(await get(c, '/accounts/1')), { v: 2 });
  });

  it('keys on the headers Vary names, and stores nothing with Vary: *', async (t) => {
    const server = await startResources(t, { vary: 'accept-language' });
    server.put('1', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    assert.deepEqual(json(await get(c, '/accounts/1', { 'Accept-Language': 'de' })), { v: 1, lang: 'de' });
    assert.deepEqual(json(await get(c, '/accounts/1', { 'accept-language': 'fr' })), { v: 1, lang: 'fr' });
    assert.deepEqual(json(await get(c, '/accounts/1', { 'accept-language': 'de' })), { v: 1, lang: 'de' });
    assert.equal(server.gets().length, 2);
    assert.equal(cacheState(c).entries, 2);

    const star = await startResources(t, { vary: '*' });
    star.put('1', { v: 1 });
    const s = cached(t, star.url, { ttlMs: 60_000 }, new ManualClock());
    await get(s, '/accounts/1');
    await get(s, '/accounts/1');
    assert.equal(star.gets().length, 2);
    assert.equal(cacheState(s).entries, 0);
  });

  it('keeps at most maxEntries, evicting the least recently used', async (t) => {
    const server = await startResources(t);
    for (const id of ['1', '2', '3']) server.put(id, { id });
    const c = cached(t, server.url, { ttlMs: 60_000, maxEntries: 2 }, new ManualClock());
    await get(c, '/accounts/1');
    await get(c, '/accounts/2');
    await get(c, '/accounts/1'); // 1 is now the most recently used
    await get(c, '/accounts/3'); // evicts 2
    assert.equal(cacheState(c).entries, 2);
    const before = server.gets().length;
    await get(c, '/accounts/1');
    assert.equal(server.gets().length, before, '1 kept');
    await get(c, '/accounts/2');
    assert.equal(server.gets().length, before + 1, '2 evicted');
  });

  it('keeps at most maxBytes, and never stores an answer larger than that', async (t) => {
    const server = await startResources(t);
    server.put('1', { pad: 'a'.repeat(300) });
    server.put('2', { pad: 'b'.repeat(300) });
    server.put('big', { pad: 'c'.repeat(2000) });
    const c = cached(t, server.url, { ttlMs: 60_000, maxBytes: 1000 }, new ManualClock());
    await get(c, '/accounts/1');
    await get(c, '/accounts/2');
    assert.equal(cacheState(c).entries, 2);
    await get(c, '/accounts/big');
    assert.equal(cacheState(c).entries, 2, 'too big to store; nothing evicted for it');
    server.put('3', { pad: 'd'.repeat(300) });
    await get(c, '/accounts/3');
    const state = cacheState(c);
    assert.ok(state.bytes <= 1000, `bytes ${state.bytes} within maxBytes`);
    assert.equal(state.entries, 2, 'the oldest went to make room');
  });

  it('only GET is cached; other reads pass through', async (t) => {
    const server = await startResources(t);
    server.put('1', { v: 1 });
    const c = cached(t, server.url, { ttlMs: 60_000 }, new ManualClock());
    await c.call({ method: 'HEAD', path: '/accounts/1' }, { signal });
    await c.call({ method: 'HEAD', path: '/accounts/1' }, { signal });
    assert.equal(server.seen.length, 2);
    assert.equal(cacheState(c).entries, 0);
  });

  it('no cache option, no cache slot', async (t) => {
    const server = await startResources(t);
    const c = testRestConnector(t, 'plain', { baseUrl: server.url });
    assert.equal(c.state().policies.cache, undefined);
    assert.equal(c.purgeCache, undefined);
  });
});
