import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { Connector } from '../../src/connectors/connector.ts';
import { errorForResponse } from '../../src/connectors/response-error.ts';
import { USER_AGENT } from '../../src/core/call.ts';
import type { JunctionError } from '../../src/core/errors.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { junctionRejection } from '../helpers/rejection.ts';
import { startTestSink } from '../helpers/sink.ts';

const live = { signal: new AbortController().signal };

/** A rest connector on `baseUrl`, closed after the test; `extra` is config input (before defaults). */
function rest(t: TestContext, baseUrl: string, extra: Record<string, unknown> = {}): Connector {
  return testRestConnector(t, 'crm', { baseUrl, timeoutMs: 3000, ...extra });
}

/** Asserts that `p` rejects with the JunctionError `code` and returns it. */
async function rejection(p: Promise<unknown>, code: string): Promise<JunctionError> {
  const err = await junctionRejection(p, `expected ${code}, got a response`);
  assert.equal(err.code, code, err.message);
  return err;
}

test('a 200 resolves with status, lower-case headers, the whole body and a duration', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  const res = await crm.call({ method: 'POST', path: '/orders', body: '{"id":1}', headers: { 'Content-Type': 'application/json' } }, live);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { ok: true });
  assert.equal(res.headers['content-type'], 'application/json');
  assert.ok(res.durationMs > 0);
  assert.equal(crm.classify(res), 'ok');
  assert.equal(sink.requests[0]?.body, '{"id":1}');
  assert.equal(sink.requests[0]?.method, 'POST');
});

test('503, 429, 400 and 401 are returned, not thrown, and classified retry, retry, permanent, refresh', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  sink.plan(['503', '429', '400', '401']);
  const got: [number, string][] = [];
  for (let i = 0; i < 4; i++) {
    const res = await crm.call({ method: 'POST', path: '/x' }, live);
    got.push([res.status, crm.classify(res)]);
  }
  assert.deepEqual(got, [
    [503, 'retry'],
    [429, 'retry'],
    [400, 'permanent'],
    [401, 'refresh'],
  ]);
});

test('Retry-After on a 429 is read in seconds and as an HTTP date', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  sink.plan(['429:2', '429:date:3']);

  const seconds = await crm.call({ method: 'POST', path: '/' }, live);
  assert.equal(seconds.headers['retry-after'], '2');
  const e1 = errorForResponse('crm', seconds, 'retry', Date.now());
  assert.equal(e1.code, 'JNC_HTTP_RETRYABLE');
  assert.equal(e1.retryAfterMs, 2000);
  assert.equal(e1.response?.status, 429);

  const dated = await crm.call({ method: 'POST', path: '/' }, live);
  const e2 = errorForResponse('crm', dated, 'retry', Date.now());
  // An HTTP date has whole seconds: 3 s ahead is read as 2–3 s from now.
  assert.ok(e2.retryAfterMs !== undefined && e2.retryAfterMs > 1000 && e2.retryAfterMs <= 3000, `got ${e2.retryAfterMs}`);
});

test('headers later than headersTimeoutMs fail with JNC_CONN_TIMEOUT (headers)', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { headersTimeoutMs: 200 });
  sink.plan(['slow:2000']);
  const err = await rejection(crm.call({ method: 'POST', path: '/' }, live), 'JNC_CONN_TIMEOUT');
  assert.match(err.message, /headers timed out after 200ms/);
  assert.equal((err.cause as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
});

test('a body that stalls longer than bodyTimeoutMs fails with JNC_CONN_TIMEOUT (body)', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { bodyTimeoutMs: 200 });
  sink.plan(['slowbody:2000']);
  const err = await rejection(crm.call({ method: 'POST', path: '/' }, live), 'JNC_CONN_TIMEOUT');
  assert.match(err.message, /body timed out after 200ms/);
  assert.equal((err.cause as { code?: string }).code, 'UND_ERR_BODY_TIMEOUT');
});

test('a call longer than timeoutMs fails with JNC_CONN_TIMEOUT (call)', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { timeoutMs: 200, headersTimeoutMs: 5000 });
  sink.plan(['hang']);
  const err = await rejection(crm.call({ method: 'POST', path: '/' }, live), 'JNC_CONN_TIMEOUT');
  assert.match(err.message, /call timed out after 200ms/);
});

test('a reset connection fails with JNC_CONN_NETWORK, with the socket error as cause', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  sink.plan(['reset']);
  const err = await rejection(crm.call({ method: 'POST', path: '/', idempotencyKey: 'k1' }, live), 'JNC_CONN_NETWORK');
  assert.ok(err.cause instanceof Error);
  assert.equal(sink.requests.length, 1, 'the sink did receive the request');
  assert.equal(sink.received().get('k1'), undefined, 'but did not accept it');
});

test('a refused connection fails with JNC_CONN_NETWORK', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const crm = rest(t, `http://127.0.0.1:${port}`);
  const err = await rejection(crm.call({ method: 'GET', path: '/' }, live), 'JNC_CONN_NETWORK');
  assert.match(err.message, /ECONNREFUSED/);
  assert.ok(err.cause instanceof Error);
});

test('aborting ctx.signal (shutdown) rejects with JNC_SHUTDOWN', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  sink.plan(['hang']);
  const ac = new AbortController();
  const pending = crm.call({ method: 'POST', path: '/' }, { signal: ac.signal });
  await sink.waitFor((s) => s.requests.length === 1);
  ac.abort();
  const err = await rejection(pending, 'JNC_SHUTDOWN');
  assert.ok(err.retryable);
});

test('an already aborted signal rejects with JNC_SHUTDOWN without sending', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  await rejection(crm.call({ method: 'POST', path: '/' }, { signal: AbortSignal.abort() }), 'JNC_SHUTDOWN');
  assert.equal(sink.requests.length, 0);
});

test('keep-alive: 20 sequential calls share one socket', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  for (let i = 0; i < 20; i++) await crm.call({ method: 'POST', path: '/', body: String(i) }, live);
  assert.equal(sink.requests.length, 20);
  assert.ok(sink.connections <= 2, `opened ${sink.connections} connections`);
});

test('pool.keepAliveMs 0 opens a socket per call', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { pool: { keepAliveMs: 0 } });
  for (let i = 0; i < 3; i++) await crm.call({ method: 'GET', path: '/' }, live);
  assert.equal(sink.connections, 3);
});

test('pipelining is off by default: on one socket, a second call waits for the whole first answer', async (t) => {
  const BODY_MS = 500;
  for (const [pipelining, overlapped] of [[undefined, false], [2, true]] as const) {
    const sink = await startTestSink(t);
    const crm = rest(t, sink.url, { pool: { connections: 1, ...(pipelining === undefined ? {} : { pipelining }) } });
    // Headers at once, the rest of the body BODY_MS later: undici pipelines behind a request once its headers are in.
    sink.plan([`slowbody:${BODY_MS}`]);
    await Promise.all([crm.call({ method: 'GET', path: '/a' }, live), crm.call({ method: 'GET', path: '/b' }, live)]);
    const [first, second] = sink.requests;
    const gapMs = (second?.at ?? 0) - (first?.at ?? 0);
    assert.equal(gapMs < BODY_MS, overlapped, `pipelining ${pipelining ?? 'default'}: the second request came ${gapMs}ms after the first`);
    assert.equal(sink.connections, 1);
  }
});

test('Idempotency-Key, user-agent and static headers arrive at the receiver', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { headers: { 'X-Tenant': 'acme', 'X-Both': 'connector' } });
  await crm.call({ method: 'POST', path: '/', idempotencyKey: 'order-1', headers: { 'X-Both': 'request' } }, live);
  const h = sink.requests[0]?.headers;
  assert.equal(h?.['idempotency-key'], 'order-1');
  assert.equal(h?.['user-agent'], USER_AGENT);
  assert.match(USER_AGENT, /^junction\/\d+\.\d+\.\d+/);
  assert.equal(h?.['x-tenant'], 'acme');
  assert.equal(h?.['x-both'], 'request', 'a request header wins over a static one');
  assert.equal(sink.received().get('order-1'), 1);
});

test('a plan for one idempotency key answers only that key, before the shared plan', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  sink.plan(['503'], { key: 'a' });
  sink.plan(['429']);
  const statuses: number[] = [];
  for (const key of ['b', 'a', 'a', 'b']) statuses.push((await crm.call({ method: 'POST', path: '/', idempotencyKey: key }, live)).status);
  assert.deepEqual(statuses, [429, 503, 200, 200]);
  assert.deepEqual(sink.received(), new Map([['a', 1], ['b', 1]]));
  assert.deepEqual(sink.requests.map((r) => r.behaviour), ['429', '503', '200', '200']);
  assert.throws(() => sink.plan(['teapot']), /unknown behaviour "teapot"/);
});

test('auth headers arrive: bearer, basic and an API key in its header', async (t) => {
  const sink = await startTestSink(t);
  const cases: [Record<string, unknown>, string, string][] = [
    [{ bearer: 't0ken' }, 'authorization', 'Bearer t0ken'],
    [{ basic: { username: 'ann', password: 'pä55' } }, 'authorization', `Basic ${Buffer.from('ann:pä55').toString('base64')}`],
    [{ apiKey: { header: 'X-Key', value: 'k-123' } }, 'x-key', 'k-123'],
    [{ apiKey: { value: 'k-456' } }, 'x-api-key', 'k-456'],
  ];
  for (const [auth, header, expected] of cases) {
    const crm = rest(t, sink.url, { auth });
    // The step's own header of the same name is replaced: credentials are the connector's.
    await crm.call({ method: 'GET', path: '/', headers: { [header]: 'from-step' } }, live);
    assert.equal(sink.requests.at(-1)?.headers[header], expected, JSON.stringify(auth));
  }
});

test('the base URL path prefix is joined with the request path', async (t) => {
  const sink = await startTestSink(t);
  const cases: [string, string, string][] = [
    ['/api', '/orders', '/api/orders'],
    ['/api/', '/orders', '/api/orders'],
    ['/api', 'orders', '/api/orders'],
    ['/api', '', '/api'],
    ['/api', '/orders?page=2', '/api/orders?page=2'],
    ['', '', '/'],
    ['', '/orders', '/orders'],
    ['/', '?q=1', '/?q=1'],
  ];
  for (const [prefix, path, expected] of cases) {
    const crm = rest(t, sink.url + prefix);
    await crm.call({ method: 'GET', path }, live);
    assert.equal(sink.requests.at(-1)?.url, expected, `${JSON.stringify(prefix)} + ${JSON.stringify(path)}`);
  }
});

test('an answer larger than maxResponseBytes fails with JNC_CONN_NETWORK', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url, { maxResponseBytes: 1000 });
  sink.plan(['big:1000', 'big:5000']);
  const ok = await crm.call({ method: 'GET', path: '/' }, live);
  assert.equal(ok.body.length, 1000);
  const err = await rejection(crm.call({ method: 'GET', path: '/' }, live), 'JNC_CONN_NETWORK');
  assert.match(err.message, /maxResponseBytes \(1000\)/);
});

test('a call after close() rejects with JNC_SHUTDOWN', async (t) => {
  const sink = await startTestSink(t);
  const crm = rest(t, sink.url);
  await crm.call({ method: 'GET', path: '/' }, live);
  await crm.close();
  await rejection(crm.call({ method: 'GET', path: '/' }, live), 'JNC_SHUTDOWN');
});

test('the connector carries its name and retry policy', (t) => {
  const crm = rest(t, 'http://127.0.0.1:1', { retry: { maxAttempts: 3 } });
  assert.equal(crm.name, 'crm');
  assert.deepEqual(crm.retry, { maxAttempts: 3, baseMs: 200, maxMs: 60_000 });
});
