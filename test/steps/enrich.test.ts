/**
 * enrich: a connector's answer goes into the body; 404 fails or is skipped; a
 * 503 is retried; the cache serves within its TTL, reloads after it, makes one
 * call for many concurrent messages and evicts the least recently used. Against
 * a real answering server on loopback.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { enrichOptions, enrichStep } from '../../src/steps/enrich.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder, type Seen } from '../helpers/servers.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: Json;
  delayMs?: number;
}

/** A loopback server that answers what `route` says and records every request. */
async function startAnswers(t: TestContext, route: (req: Seen) => Reply) {
  const server = await startRecorder(t, (s, res) => {
    const r = route(s);
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
    const headers = { 'content-type': typeof r.body === 'string' ? 'text/plain' : 'application/json', ...r.headers };
    setTimeout(() => res.writeHead(r.status ?? 200, headers).end(text), r.delayMs ?? 0);
  });
  return { ...server, count: (path: string) => server.seen.filter((s) => s.url.split('?')[0] === path).length };
}

/** An account server: /accounts/<email> → the account; unknown → 404. */
const accounts = (req: Seen): Reply => {
  const email = decodeURIComponent(req.url.split('?')[0]!.replace('/accounts/', ''));
  if (email === 'ann@example.com') return { body: { id: 'ACC-1', tier: 'gold' } };
  if (email === 'bob@example.com') return { body: { id: 'ACC-2', tier: 'silver' } };
  return { status: 404, body: { error: 'no such account' } };
};

async function makeEnrich(t: TestContext, url: string, options: Record<string, unknown>) {
  const connector = testRestConnector(t, 'crm', { baseUrl: url, timeoutMs: 2000 });
  return enrichStep.create(enrichOptions.parse({ connector: 'crm', ...options }), stepDeps({ index: 1, connector: () => connector }));
}

/** A JSON order under idempotency key `key` (and id id-`key`). */
function order(body: Json, key = 'k-1'): Message {
  return message(body, { id: `id-${key}`, idempotencyKey: key, headers: { 'content-type': 'application/json' } });
}

async function bodyAfter(step: Awaited<ReturnType<typeof makeEnrich>>, msg: Message, ctx = stepContext()): Promise<Json> {
  const out = await step(msg, ctx);
  assert.ok(typeof out === 'object' && 'body' in out, 'enrich returns one message');
  return (out as Message).body;
}

const byAccount = { method: 'GET', path: '/accounts/{{ email }}' };

describe('enrich step', () => {
  it('puts the JSON answer under `into`, rendering path, query and headers from the body', async (t) => {
    const server = await startAnswers(t, accounts);
    const step = await makeEnrich(t, server.url, {
      request: { path: '/accounts/{{ email }}', query: { fields: 'id,tier', region: '{{ region }}' }, headers: { 'X-Tenant': '{{ tenant }}' } },
      into: 'account',
    });
    const body = await bodyAfter(step, order({ orderId: 'A-1', email: 'ann@example.com', region: 'eu west', tenant: 't1' }));
    assert.deepEqual(body, { orderId: 'A-1', email: 'ann@example.com', region: 'eu west', tenant: 't1', account: { id: 'ACC-1', tier: 'gold' } });
    const req = server.seen[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/accounts/ann%40example.com?fields=id%2Ctier&region=eu+west', 'path values percent-encoded, query encoded');
    assert.equal(req.headers['x-tenant'], 't1');
    assert.equal(req.body, '', 'a GET carries no body');
  });

  it('percent-encodes a path value, so a value with "/" or "?" stays one segment', async (t) => {
    const server = await startAnswers(t, () => ({ body: { ok: true } }));
    const step = await makeEnrich(t, server.url, { request: { path: '/things/{{ id }}' }, into: 'thing' });
    await bodyAfter(step, order({ id: '../admin?x=1' }));
    assert.equal(server.seen[0]!.url, '/things/..%2Fadmin%3Fx%3D1');
  });

  it('sets a dotted path, creating objects on the way and keeping their other fields', async (t) => {
    const server = await startAnswers(t, accounts);
    const step = await makeEnrich(t, server.url, { request: { path: '/accounts/{{ customer.email }}' }, into: 'customer.crm.account' });
    const input = { customer: { email: 'bob@example.com', name: 'Bob' } };
    const body = await bodyAfter(step, order(input));
    assert.deepEqual(body, { customer: { email: 'bob@example.com', name: 'Bob', crm: { account: { id: 'ACC-2', tier: 'silver' } } } });
    assert.deepEqual(input, { customer: { email: 'bob@example.com', name: 'Bob' } }, 'the input body is not changed');
  });

  it('keeps an answer that is not JSON as text', async (t) => {
    const server = await startAnswers(t, () => ({ body: 'GOLD', headers: { 'content-type': 'text/plain; charset=utf-8' } }));
    const step = await makeEnrich(t, server.url, { request: { path: '/tier' }, into: 'tier' });
    assert.deepEqual(await bodyAfter(step, order({ a: 1 })), { a: 1, tier: 'GOLD' });
  });

  it('sends the body with a POST lookup', async (t) => {
    const server = await startAnswers(t, (req) => ({ body: { matched: JSON.parse(req.body).sku } }));
    const step = await makeEnrich(t, server.url, { request: { method: 'POST', path: '/search' }, into: 'match' });
    assert.deepEqual(await bodyAfter(step, order({ sku: 'S-9' })), { sku: 'S-9', match: { matched: 'S-9' } });
    assert.equal(server.seen[0]!.headers['content-type'], 'application/json');
  });

  describe('bad input', () => {
    it('refuses a body that is not an object, without calling (permanent)', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account' });
      for (const body of [[1, 2], 'text', null] as Json[]) {
        await assert.rejects(step(order(body), stepContext()), (e) => {
          assert.ok(isJunctionError(e));
          assert.equal(e.code, 'JNC_STEP_INVALID');
          assert.equal(e.retryable, false);
          assert.match(e.message, /orders\[1\]\.enrich.*must be a JSON object to add "account"/);
          return true;
        });
      }
      assert.equal(server.seen.length, 0);
    });

    it('refuses a dotted path through a value that is not an object, without calling', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'customer.account' });
      await assert.rejects(step(order({ email: 'ann@example.com', customer: 'Ann' }), stepContext()), /"customer" is a string, not an object/);
      assert.equal(server.seen.length, 0);
    });

    it('dead-letters a template that fails on this message (STEP_INVALID)', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: { path: '/accounts/{{ $number(id) }}' }, into: 'account' });
      await assert.rejects(step(order({ id: 'abc' }), stepContext()), (e) => isJunctionError(e) && e.code === 'JNC_STEP_INVALID' && /cast/.test(e.message));
    });

    it('dead-letters an answer that says JSON but does not parse (JNC_HTTP_MALFORMED), keeping the response', async (t) => {
      const server = await startAnswers(t, () => ({ body: '{"id": ', headers: { 'content-type': 'application/json' } }));
      const step = await makeEnrich(t, server.url, { request: { path: '/x' }, into: 'x' });
      await assert.rejects(step(order({}), stepContext()), (e) => {
        assert.ok(isJunctionError(e));
        assert.equal(e.code, 'JNC_HTTP_MALFORMED');
        assert.equal(e.retryable, false);
        assert.equal(e.response?.bodyExcerpt, '{"id": ');
        return true;
      });
    });

    it('rejects an `into` that is not a field path at config time', () => {
      for (const into of ['', 'a..b', '.a', 'a b']) {
        assert.equal(enrichOptions.safeParse({ connector: 'crm', request: byAccount, into }).success, false, into);
      }
    });
  });

  describe('not found and failures', () => {
    it('fails on a 404 by default, as the connector classifies it (permanent)', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account' });
      await assert.rejects(step(order({ email: 'nobody@example.com' }), stepContext()), (e) => {
        assert.ok(isJunctionError(e));
        assert.equal(e.code, 'JNC_HTTP_REJECTED');
        assert.equal(e.status, 404);
        return true;
      });
    });

    it('with onNotFound: skip, a 404 leaves the body as it was', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', onNotFound: 'skip' });
      const msg = order({ email: 'nobody@example.com' });
      assert.equal(await step(msg, stepContext()), msg);
    });

    it('with onNotFound: skip, other 4xx still fail', async (t) => {
      const server = await startAnswers(t, () => ({ status: 400, body: { error: 'bad' } }));
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', onNotFound: 'skip' });
      await assert.rejects(step(order({ email: 'x' }), stepContext()), /rejected the request with 400/);
    });

    it('makes a 503 a retryable error carrying Retry-After', async (t) => {
      const server = await startAnswers(t, () => ({ status: 503, headers: { 'retry-after': '3' }, body: { error: 'down' } }));
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account' });
      await assert.rejects(step(order({ email: 'ann@example.com' }), stepContext()), (e) => {
        assert.ok(isJunctionError(e));
        assert.equal(e.code, 'JNC_HTTP_RETRYABLE');
        assert.equal(e.retryable, true);
        assert.equal(e.retryAfterMs, 3000);
        return true;
      });
    });
  });

  describe('cache', () => {
    it('serves the same request within the TTL without a second call, and calls again after it', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', cacheTtlMs: 60_000 });
      const clock = new ManualClock();
      const ann = (key: string) => order({ email: 'ann@example.com', n: key }, key);
      assert.deepEqual(await bodyAfter(step, ann('1'), stepContext(clock)), { email: 'ann@example.com', n: '1', account: { id: 'ACC-1', tier: 'gold' } });
      clock.advance(59_999);
      assert.deepEqual(await bodyAfter(step, ann('2'), stepContext(clock)), { email: 'ann@example.com', n: '2', account: { id: 'ACC-1', tier: 'gold' } });
      assert.equal(server.count('/accounts/ann%40example.com'), 1, 'a hit within the TTL makes no call');
      clock.advance(1);
      await bodyAfter(step, ann('3'), stepContext(clock));
      assert.equal(server.count('/accounts/ann%40example.com'), 2, 'expiry makes exactly one more call');
    });

    it('calls once for many concurrent messages that need the same answer', async (t) => {
      const server = await startAnswers(t, (req) => ({ ...accounts(req), delayMs: 50 }));
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', cacheTtlMs: 60_000 });
      const ctx = stepContext();
      const bodies = await Promise.all(Array.from({ length: 25 }, (_, i) => bodyAfter(step, order({ email: 'ann@example.com', i }, `k${i}`), ctx)));
      assert.equal(server.seen.length, 1);
      bodies.forEach((b, i) => assert.deepEqual(b, { email: 'ann@example.com', i, account: { id: 'ACC-1', tier: 'gold' } }));
    });

    it('evicts the least recently used answer beyond cacheMaxEntries', async (t) => {
      const server = await startAnswers(t, () => ({ body: { ok: true } }));
      const step = await makeEnrich(t, server.url, { request: { path: '/items/{{ id }}' }, into: 'item', cacheTtlMs: 60_000, cacheMaxEntries: 2 });
      const ctx = stepContext();
      for (const id of ['a', 'b', 'a', 'c', 'a', 'c']) await bodyAfter(step, order({ id }), ctx);
      assert.deepEqual(server.seen.map((s) => s.url), ['/items/a', '/items/b', '/items/c'], 'a and c stay cached while b, least recently used, is evicted');
      await bodyAfter(step, order({ id: 'b' }), ctx);
      assert.equal(server.count('/items/b'), 2);
    });

    it('keys the cache by the rendered request: a different query or header is another call', async (t) => {
      const server = await startAnswers(t, () => ({ body: { ok: true } }));
      const step = await makeEnrich(t, server.url, {
        request: { path: '/items', query: { id: '{{ id }}' }, headers: { 'x-tenant': '{{ tenant }}' } },
        into: 'item',
        cacheTtlMs: 60_000,
      });
      const ctx = stepContext();
      for (const body of [{ id: 1, tenant: 'a' }, { id: 1, tenant: 'a' }, { id: 2, tenant: 'a' }, { id: 1, tenant: 'b' }]) await bodyAfter(step, order(body), ctx);
      assert.equal(server.seen.length, 3);
    });

    it('does not cache a failure: after a 503 the next message calls again', async (t) => {
      let n = 0;
      const server = await startAnswers(t, (req) => (++n === 1 ? { status: 503, body: { error: 'down' } } : accounts(req)));
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', cacheTtlMs: 60_000 });
      const ctx = stepContext();
      await assert.rejects(step(order({ email: 'ann@example.com' }), ctx), /answered 503/);
      await bodyAfter(step, order({ email: 'ann@example.com' }), ctx);
      await bodyAfter(step, order({ email: 'ann@example.com' }), ctx);
      assert.equal(server.seen.length, 2);
    });

    it('does not cache a 404 that was skipped', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', cacheTtlMs: 60_000, onNotFound: 'skip' });
      const ctx = stepContext();
      await bodyAfter(step, order({ email: 'nobody@example.com' }), ctx);
      await bodyAfter(step, order({ email: 'nobody@example.com' }), ctx);
      assert.equal(server.seen.length, 2);
    });

    it('gives each message its own copy, so changing one body cannot change the cache', async (t) => {
      const server = await startAnswers(t, accounts);
      const step = await makeEnrich(t, server.url, { request: byAccount, into: 'account', cacheTtlMs: 60_000 });
      const ctx = stepContext();
      const first = (await bodyAfter(step, order({ email: 'ann@example.com' }), ctx)) as { account: { tier: string } };
      first.account.tier = 'changed';
      const second = (await bodyAfter(step, order({ email: 'ann@example.com' }), ctx)) as { account: { tier: string } };
      assert.equal(second.account.tier, 'gold');
    });
  });

  describe('in a running flow', () => {
    it('retries a 503 from the source, skips a 404, and delivers the enriched bodies', async (t) => {
      let annCalls = 0;
      const server = await startAnswers(t, (req) => (req.url.includes('ann') && ++annCalls === 1 ? { status: 503, body: { error: 'down' } } : accounts(req)));
      const sink = await startTestSink(t);
      const engine = await startTestEngine(
        t,
        `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  crm: { type: rest, baseUrl: "${server.url}", retry: { maxAttempts: 3, baseMs: 10, maxMs: 100 } }
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - enrich: { connector: crm, request: { path: "/accounts/{{ email }}" }, into: account, onNotFound: skip, cacheTtlMs: 60000 }
      - deliver: { connector: sink, request: { path: /orders } }
`,
      );
      const ann = (await engine.post('/orders', { email: 'ann@example.com' })).json.id as string;
      const nobody = (await engine.post('/orders', { email: 'nobody@example.com' })).json.id as string;
      await engine.until(async () => (await engine.store.getMessage(ann))?.state === 'done' && (await engine.store.getMessage(nobody))?.state === 'done');
      const rec = await engine.store.getMessage(ann);
      assert.deepEqual(rec?.history.map((h) => h.errorCode ?? 'ok'), ['JNC_HTTP_RETRYABLE', 'ok']);
      const delivered = sink.requests.map((r) => JSON.parse(r.body) as Record<string, Json>);
      assert.deepEqual(
        delivered.sort((a, b) => String(a.email).localeCompare(String(b.email))),
        [{ email: 'ann@example.com', account: { id: 'ACC-1', tier: 'gold' } }, { email: 'nobody@example.com' }],
      );
    });

    it('dead-letters a 404 when onNotFound is fail, with the response', async (t) => {
      const server = await startAnswers(t, accounts);
      const engine = await startTestEngine(
        t,
        `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  crm: { type: rest, baseUrl: "${server.url}" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - enrich: { connector: crm, request: { path: "/accounts/{{ email }}" }, into: account }
`,
      );
      const id = (await engine.post('/orders', { email: 'nobody@example.com' })).json.id as string;
      await engine.until(async () => (await engine.store.getMessage(id))?.state === 'dead');
      const dl = await engine.store.deadLetters.get(id);
      assert.equal(dl?.errorCode, 'JNC_HTTP_REJECTED');
      assert.equal(dl?.lastResponse?.status, 404);
      assert.equal(server.seen.length, 1, 'not retried');
    });
  });
});
