/**
 * A message accepted over HTTP is delivered to a real misbehaving sink on
 * loopback: delivered once on 2xx, retried on 5xx / timeouts / resets, honouring
 * Retry-After, dead-lettered at once on 400, replayed after recovery, with the
 * same Idempotency-Key on every attempt.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

function flowConfig(sink: Sink, opts: { maxAttempts?: number; timeoutMs?: number } = {}): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}/api
    timeoutMs: ${opts.timeoutMs ?? 2000}
    retry: { maxAttempts: ${opts.maxAttempts ?? 4}, baseMs: 10, maxMs: 3000 }
flows:
  passthrough:
    trigger: { http: { path: /hooks/raw, accept: [json, xml] } }
    steps:
      - deliver: { connector: sink, request: { path: /raw } }
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map:
          orderId: id
          total: $sum(items.(price * qty))
      - deliver: { connector: sink, request: { path: /orders } }
`;
}

const order = (id: string) => ({ id, items: [{ price: 2.5, qty: 4 }] });

async function setup(t: TestContext, opts: Parameters<typeof flowConfig>[1] = {}) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, flowConfig(sink, opts));
  const settledFor = (id: string) => engine.settled.filter((s) => s.id === id);
  const stateOf = async (id: string) => (await engine.store.getMessage(id))?.state;
  return { sink, engine, settledFor, stateOf };
}

describe('delivery to a REST sink', () => {
  it('answers 202 with the id once committed, maps the body and delivers it exactly once on 2xx', async (t) => {
    const { sink, engine, stateOf } = await setup(t);
    const res = await engine.post('/hooks/orders', order('A-1'));
    assert.equal(res.status, 202);
    const id = res.json.id as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.requests.length, 1);
    const req = sink.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/orders');
    assert.deepEqual(JSON.parse(req.body), { orderId: 'A-1', total: 10 });
    assert.equal(req.idempotencyKey, id, 'without a sender key the message id is the key');
  });

  it('delivers a text body (XML) as it came, under its own content type', async (t) => {
    const { sink, engine, stateOf } = await setup(t);
    const xml = '<order id="A-7"><total>10</total></order>';
    const res = await fetch(`${engine.url}/hooks/raw`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    const { id } = (await res.json()) as { id: string };
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.requests[0]?.body, xml);
    assert.equal(sink.requests[0]?.headers['content-type'], 'application/xml');
  });

  it('retries 503 and a reset connection, then delivers, with the same Idempotency-Key every time', async (t) => {
    const { sink, engine, stateOf } = await setup(t);
    sink.plan(['503', 'reset', '500']);
    const { json } = await engine.post('/hooks/orders', order('A-2'), { 'idempotency-key': 'order-A-2' });
    const id = json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.requests.length, 4);
    assert.deepEqual(new Set(sink.requests.map((r) => r.idempotencyKey)), new Set(['order-A-2']));
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.history.map((h) => h.errorCode ?? 'ok'), ['JNC_HTTP_RETRYABLE', 'JNC_CONN_NETWORK', 'JNC_HTTP_RETRYABLE', 'ok']);
    assert.equal(rec?.history[0]?.response?.status, 503);
  });

  it('retries a response slower than the timeout, then delivers', async (t) => {
    const { sink, engine, stateOf } = await setup(t, { timeoutMs: 300 });
    sink.plan(['slow:3000']);
    const { json } = await engine.post('/hooks/orders', order('A-3'));
    const id = json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'done');
    const rec = await engine.store.getMessage(id);
    assert.equal(rec?.history[0]?.errorCode, 'JNC_CONN_TIMEOUT');
    assert.equal(rec?.history.at(-1)?.outcome, 'ack');
  });

  it('honours Retry-After: the next attempt is scheduled at least that far ahead', async (t) => {
    const { sink, engine, stateOf, settledFor } = await setup(t);
    sink.plan(['429:1']);
    const { json } = await engine.post('/hooks/orders', order('A-4'));
    const id = json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'done');
    const [first] = settledFor(id);
    assert.equal(first?.outcome, 'retry');
    const rec = await engine.store.getMessage(id);
    const failedAt = rec!.history[0]!.startedAt + rec!.history[0]!.durationMs;
    // Full-jitter backoff with baseMs 10 would have retried within 10 ms; Retry-After asked for 1 s.
    assert.ok(first?.at !== undefined && first.at - failedAt >= 990, `scheduled ${first?.at === undefined ? '?' : first.at - failedAt} ms ahead`);
    assert.ok(sink.requests[1]!.at - sink.requests[0]!.at >= 990);
  });

  it('dead-letters a 400 at once, with the payload, the reason, the last response and the attempt', async (t) => {
    const { sink, engine, stateOf } = await setup(t);
    sink.plan(['400']);
    const { json } = await engine.post('/hooks/orders', order('A-5'));
    const id = json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'dead');
    assert.equal(sink.requests.length, 1, 'no retry after a 400');
    const dl = await engine.store.deadLetters.get(id);
    assert.ok(dl);
    assert.equal(dl.errorCode, 'JNC_HTTP_REJECTED');
    assert.deepEqual(dl.body, order('A-5'), 'the original payload, before mapping');
    assert.equal(dl.lastResponse?.status, 400);
    assert.match(dl.lastResponse?.bodyExcerpt ?? '', /error/);
    assert.equal(dl.history.length, 1);
  });

  it('dead-letters after maxAttempts, and a replay after the sink recovers is delivered with the same key', async (t) => {
    const { sink, engine, stateOf } = await setup(t, { maxAttempts: 3 });
    sink.setDefault('503');
    const { json } = await engine.post('/hooks/orders', order('A-6'), { 'idempotency-key': 'order-A-6' });
    const id = json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'dead');
    assert.equal(sink.requests.length, 3);
    const dl = await engine.store.deadLetters.get(id);
    assert.equal(dl?.errorCode, 'JNC_ATTEMPTS_EXHAUSTED');
    assert.match(dl?.reason.join('\n') ?? '', /JNC_HTTP_RETRYABLE/);

    sink.setDefault('200');
    assert.deepEqual(await engine.store.deadLetters.replay({ ids: [id] }), [id]);
    engine.worker.notify();
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.received().get('order-A-6'), 1);
    assert.deepEqual(new Set(sink.requests.map((r) => r.idempotencyKey)), new Set(['order-A-6']));
    const rec = await engine.store.getMessage(id);
    assert.equal(rec?.replays, 1);
    assert.equal(rec?.history.length, 4, 'the history before the replay is kept');
  });
});
