/**
 * call: like deliver, but the answer becomes the body: JSON parsed, else text
 * under the answer's content type, and the next deliver sends it. Against a
 * real answering server on loopback.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { callOptions, callStep } from '../../src/steps/call.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder, type Seen } from '../helpers/servers.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

interface Reply {
  status?: number;
  contentType?: string;
  body?: string;
}

/** A loopback server that answers what `route` says and records every request. */
function startAnswers(t: TestContext, route: (req: Seen) => Reply) {
  return startRecorder(t, (s, res) => {
    const r = route(s);
    res.writeHead(r.status ?? 200, r.contentType === undefined ? {} : { 'content-type': r.contentType }).end(r.body ?? '');
  });
}

async function makeCall(t: TestContext, url: string, options: Record<string, unknown> = {}) {
  const connector = testRestConnector(t, 'quotes', { baseUrl: url, timeoutMs: 2000 });
  return callStep.create(callOptions.parse({ connector: 'quotes', ...options }), stepDeps({ index: 2, connector: () => connector }));
}

/** Order order-1, JSON unless `headers` say otherwise. */
function order(body: Json, headers: Record<string, string> = { 'content-type': 'application/json' }): Message {
  return message(body, { idempotencyKey: 'order-1', headers, meta: { source: 'test' } });
}

const ctx = stepContext();

async function run(step: Awaited<ReturnType<typeof makeCall>>, msg: Message): Promise<Message> {
  const out = await step(msg, ctx);
  assert.ok(typeof out === 'object' && 'body' in out);
  return out as Message;
}

const quote = (req: Seen): Reply => {
  const sent = JSON.parse(req.body) as { total: number };
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ quoteId: 'Q-1', price: sent.total * 2 }) };
};

describe('call step', () => {
  it('takes the request\'s keys written on the step itself, as DESIGN.md writes them', async (t) => {
    const server = await startAnswers(t, quote);
    const step = await makeCall(t, server.url, { method: 'PUT', path: '/quotes/{{ id }}', headers: { 'x-order': '{{ id }}' } });
    const out = await run(step, order({ id: 'A-2', total: 4 }));
    assert.deepEqual(out.body, { quoteId: 'Q-1', price: 8 });
    assert.equal(server.seen[0]?.method, 'PUT');
    assert.equal(server.seen[0]?.url, '/quotes/A-2');
    assert.equal(server.seen[0]?.headers['x-order'], 'A-2');
  });

  it('refuses at start-up a key written both on the step and under request', async (t) => {
    const server = await startAnswers(t, quote);
    await assert.rejects(makeCall(t, server.url, { path: '/a', request: { path: '/b' } }), /path is written both on the step and under request/);
  });

  it('sends the body like deliver and continues with the JSON answer as the body', async (t) => {
    const server = await startAnswers(t, quote);
    const step = await makeCall(t, server.url, { request: { path: '/quotes', headers: { 'x-order': '{{ id }}' } } });
    const out = await run(step, order({ id: 'A-1', total: 5 }, { 'content-type': 'application/json', 'x-trace': 'keep' }));
    assert.deepEqual(out.body, { quoteId: 'Q-1', price: 10 });
    assert.equal(out.headers['content-type'], 'application/json');
    assert.equal(out.headers['x-trace'], 'keep', 'other headers kept');
    assert.deepEqual(out.meta, { source: 'test' });
    assert.equal(out.idempotencyKey, 'order-1');
    const req = server.seen[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/quotes');
    assert.deepEqual(JSON.parse(req.body), { id: 'A-1', total: 5 });
    assert.equal(req.headers['idempotency-key'], 'order-1');
    assert.equal(req.headers['x-order'], 'A-1');
  });

  it('renders the idempotencyKey template and refuses an empty one (permanent)', async (t) => {
    const server = await startAnswers(t, quote);
    const step = await makeCall(t, server.url, { idempotencyKey: 'quote-{{ id }}' });
    await run(step, order({ id: 'A-2', total: 1 }));
    assert.equal(server.seen[0]!.headers['idempotency-key'], 'quote-A-2');
    const empty = await makeCall(t, server.url, { idempotencyKey: '{{ missing }}' });
    await assert.rejects(empty(order({ total: 1 }), ctx), (e) => isJunctionError(e) && e.code === 'JNC_STEP_INVALID' && /empty/.test(e.message));
  });

  it('keeps a text answer as text, with its content type on the message', async (t) => {
    const xml = '<quote id="Q-1"><price>10</price></quote>';
    const server = await startAnswers(t, () => ({ contentType: 'application/xml', body: xml }));
    const step = await makeCall(t, server.url);
    const out = await run(step, order({ total: 5 }));
    assert.equal(out.body, xml);
    assert.equal(out.headers['content-type'], 'application/xml');
  });

  it('makes an empty answer (204) a null JSON body', async (t) => {
    const server = await startAnswers(t, () => ({ status: 204 }));
    const out = await run(await makeCall(t, server.url), order({ a: 1 }));
    assert.equal(out.body, null);
    assert.equal(out.headers['content-type'], 'application/json');
  });

  it('sends a text body under its own content type, and no body on GET', async (t) => {
    const server = await startAnswers(t, () => ({ contentType: 'application/json', body: '{"ok":true}' }));
    await run(await makeCall(t, server.url), order('a,b\n1,2\n', { 'content-type': 'text/csv' }));
    assert.equal(server.seen[0]!.body, 'a,b\n1,2\n');
    assert.equal(server.seen[0]!.headers['content-type'], 'text/csv');
    await run(await makeCall(t, server.url, { request: { method: 'GET', path: '/status', query: { id: '{{ id }}' } } }), order({ id: 7 }));
    assert.equal(server.seen[1]!.url, '/status?id=7');
    assert.equal(server.seen[1]!.body, '');
    assert.equal(server.seen[1]!.headers['content-type'], undefined);
  });

  it('classifies failures like deliver: 503 retryable, 422 permanent, bad JSON permanent', async (t) => {
    const replies: Reply[] = [{ status: 503, contentType: 'application/json', body: '{}' }, { status: 422, contentType: 'application/json', body: '{}' }, { contentType: 'application/json', body: 'not json' }];
    const server = await startAnswers(t, () => replies.shift()!);
    const step = await makeCall(t, server.url);
    const codes: [string, boolean][] = [];
    for (let i = 0; i < 3; i++) {
      await assert.rejects(step(order({ a: 1 }), ctx), (e) => {
        assert.ok(isJunctionError(e));
        codes.push([e.code, e.retryable]);
        return true;
      });
    }
    assert.deepEqual(codes, [['JNC_HTTP_RETRYABLE', true], ['JNC_HTTP_REJECTED', false], ['JNC_HTTP_MALFORMED', false]]);
  });

  it('in a flow: the answer becomes the body that the next deliver sends, text under its content type too', async (t) => {
    const server = await startAnswers(t, (req) =>
      req.url === '/render' ? { contentType: 'application/xml', body: '<order>A-9</order>' } : quote(req),
    );
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  quotes: { type: rest, baseUrl: "${server.url}" }
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - call: { connector: quotes, request: { path: /quotes } }
      - map: { quote: quoteId, price: price }
      - deliver: { connector: sink, request: { path: /priced } }
  rendered:
    trigger: { http: { path: /rendered } }
    steps:
      - call: { connector: quotes, request: { path: /render } }
      - deliver: { connector: sink, request: { path: /xml } }
`,
    );
    const a = (await engine.post('/orders', { total: 21 }, { 'idempotency-key': 'order-21' })).json.id as string;
    const b = (await engine.post('/rendered', { id: 'A-9' })).json.id as string;
    await engine.until(async () => (await engine.store.getMessage(a))?.state === 'done' && (await engine.store.getMessage(b))?.state === 'done');
    const priced = sink.requests.find((r) => r.url === '/priced')!;
    assert.deepEqual(JSON.parse(priced.body), { quote: 'Q-1', price: 42 });
    assert.equal(priced.idempotencyKey, 'order-21');
    const xml = sink.requests.find((r) => r.url === '/xml')!;
    assert.equal(xml.body, '<order>A-9</order>');
    assert.equal(xml.headers['content-type'], 'application/xml');
  });
});
