/**
 * respond: the HTTP caller gets the flow's result synchronously; the message is
 * stored first, and later steps still run.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { serve } from '../helpers/servers.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

function config(sink: Sink, timeoutMs = 5000): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", timeoutMs: 3000, retry: { maxAttempts: 3, baseMs: 10, maxMs: 100 } }
flows:
  quote:
    trigger: { http: { path: /quote } }
    steps:
      - map: { orderId: id, total: $sum(items.(price * qty)) }
      - respond: { status: 201, body: "{ 'quoted': total }", headers: { x-order: "{{ orderId }}" }, timeoutMs: ${timeoutMs} }
      - deliver: { connector: sink, request: { path: /after } }
  checked:
    trigger: { http: { path: /checked } }
    steps:
      - deliver: { connector: sink, request: { path: /first } }
      - respond: { timeoutMs: ${timeoutMs} }
`;
}

async function setup(t: TestContext, timeoutMs?: number) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, config(sink, timeoutMs));
  return { sink, engine };
}

const order = { id: 'Q-1', items: [{ price: 3, qty: 2 }] };

describe('respond step', () => {
  it('answers with the rendered result, then the flow goes on to deliver', async (t) => {
    const { sink, engine } = await setup(t);
    const res = await fetch(`${engine.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-order'), 'Q-1');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { quoted: 6 });
    const id = res.headers.get('junction-message-id')!;
    await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
    assert.deepEqual(JSON.parse(sink.requests[0]!.body), { orderId: 'Q-1', total: 6 });
  });

  it('tells the caller the flow failed when it dies before answering: 502 with the id and the cause', async (t) => {
    const { sink, engine } = await setup(t);
    sink.plan(['400']);
    const res = await fetch(`${engine.url}/checked`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(res.status, 502);
    const problem = (await res.json()) as { code: string; cause: string; id: string; detail: string };
    assert.equal(problem.code, 'JNC_FLOW_FAILED');
    assert.equal(problem.cause, 'JNC_HTTP_REJECTED');
    assert.equal((await engine.store.getMessage(problem.id))?.state, 'dead');
  });

  it('answers 504 with the id after timeoutMs, and the message is still delivered', async (t) => {
    const { sink, engine } = await setup(t, 200);
    sink.plan(['slow:600']);
    const res = await fetch(`${engine.url}/checked`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":2}' });
    assert.equal(res.status, 504);
    const problem = (await res.json()) as { code: string; id: string };
    assert.equal(problem.code, 'JNC_RESPOND_TIMEOUT');
    await engine.until(async () => (await engine.store.getMessage(problem.id))?.state === 'done');
  });

  it('answers a duplicate with 202 and the first id: its answer went to the first sender', async (t) => {
    const { engine } = await setup(t);
    const send = () =>
      fetch(`${engine.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'q' }, body: JSON.stringify(order) });
    const first = await send();
    assert.equal(first.status, 201);
    const again = await send();
    assert.equal(again.status, 202);
    assert.deepEqual(await again.json(), { id: first.headers.get('junction-message-id'), duplicate: true });
  });
});

describe('respond step and secrets', () => {
  it('never hands the waiting caller a credential that a failing target echoed', async (t) => {
    const key = 'sk_live_0123456789abcdef';
    // Answers "JSON" that is not JSON and starts with the key it was sent: the parse error quotes it.
    const { port } = await serve(t, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${String(req.headers['x-api-key'])} is not a valid key`);
    });
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  echo: { type: rest, baseUrl: "http://127.0.0.1:${port}", auth: { apiKey: { value: "\${env:ECHO_KEY}" } } }
flows:
  quote:
    trigger: { http: { path: /quote } }
    steps:
      - call: { connector: echo }
      - respond: { timeoutMs: 5000 }
`,
      { env: { ...process.env, ECHO_KEY: key } },
    );
    const res = await fetch(`${engine.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const text = await res.text();
    assert.equal(res.status, 502, text);
    assert.match(text, /JNC_FLOW_FAILED/);
    assert.ok(!text.includes(key.slice(0, 10)), `the answer holds part of the key: ${text}`);
  });
});
