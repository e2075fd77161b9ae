/**
 * Templates in steps: a `{{ expr }}` part that gives nothing, null, an empty
 * string, an object or an array fails the message (a dead letter, never a
 * delivery) in an idempotency key, a path, a header or a query value, so two
 * different messages are never sent under one key or to one wrong URL. A header
 * of a respond answer is left out instead: the answer decides nothing about delivery.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import type { Json } from '../../src/core/message.ts';
import { deliverOptions, deliverStep } from '../../src/steps/deliver.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder } from '../helpers/servers.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const json = { 'content-type': 'application/json' };

describe('templates in a flow', () => {
  it('dead-letters orders without an orderId, naming the template and the expression, and never sends them', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  crm: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: crm, request: { path: /orders }, idempotencyKey: "order-{{ orderId }}" }
`,
    );
    const ids: string[] = [];
    for (const body of [{ orderId: 'A-1', total: 5 }, { total: 7 }, { orderId: null, total: 9 }]) {
      ids.push((await engine.post('/orders', body)).json.id as string);
    }
    const [sent, missing, nulled] = ids as [string, string, string];
    await engine.until(async () => {
      const states = await Promise.all(ids.map(async (id) => (await engine.store.getMessage(id))?.state));
      return states.every((s) => s === 'done' || s === 'dead');
    });

    assert.deepEqual([...sink.received()], [['order-A-1', 1]], 'only the order with an orderId went out');
    assert.equal(sink.requests.length, 1);
    assert.equal((await engine.store.getMessage(sent))?.state, 'done');
    for (const [id, gave] of [[missing, 'nothing'], [nulled, 'null']] as const) {
      assert.equal((await engine.store.getMessage(id))?.state, 'dead');
      const dl = await engine.store.deadLetters.get(id);
      assert.equal(dl?.history.length, 1, 'dead at once, not retried');
      const reason = dl?.reason.join('\n') ?? '';
      assert.match(reason, /^JNC_STEP_INVALID: Step orders\[0\]\.deliver cannot process this message: idempotencyKey: /);
      assert.ok(reason.includes(`Template "order-{{ orderId }}": {{ orderId }} gave ${gave}`), reason);
      assert.match(reason, /JNC_TEMPLATE_VALUE/);
    }
  });

  it('leaves a respond header whose part gives nothing out of the answer, and the flow goes on', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  quote:
    trigger: { http: { path: /quote } }
    steps:
      - respond: { headers: { x-order: "{{ id }}", x-note: "{{ note }}" } }
      - deliver: { connector: sink, request: { path: /after } }
`,
    );
    const res = await fetch(`${engine.url}/quote`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'Q-1' }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-order'), 'Q-1');
    assert.equal(res.headers.get('x-note'), null, 'left out, not sent empty');
    const id = res.headers.get('junction-message-id')!;
    await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
    assert.equal(sink.requests[0]?.url, '/after');
  });
});

describe('templates in a request', () => {
  async function setup(t: TestContext, request: Record<string, unknown>) {
    const server = await startRecorder(t, (_req, res) => res.writeHead(200, json).end('{}'));
    const connector = testRestConnector(t, 'crm', { baseUrl: server.url, timeoutMs: 2000 });
    const step = await deliverStep.create(deliverOptions.parse({ connector: 'crm', request }), stepDeps({ index: 3, connector: () => connector }));
    const send = (body: Json) => step(message(body, { headers: json }), stepContext());
    return { server, send };
  }

  const refused = (option: string, gave: string) => (e: unknown) => {
    assert.ok(isJunctionError(e));
    assert.equal(e.code, 'JNC_STEP_INVALID');
    assert.equal(e.retryable, false);
    assert.ok(e.message.startsWith(`Step orders[3].deliver cannot process this message: ${option}: Template `), e.message);
    assert.ok(e.message.includes(` gave ${gave};`), e.message);
    return true;
  };

  it('refuses a path segment that would be empty or hold an object, and sends nothing', async (t) => {
    const { server, send } = await setup(t, { path: '/accounts/{{ email }}/orders' });
    await assert.rejects(send({ id: 1 }), refused('request.path', 'nothing'));
    await assert.rejects(send({ email: '' }), refused('request.path', 'an empty string'));
    await assert.rejects(send({ email: { a: 1 } }), refused('request.path', 'an object with key a'));
    assert.equal(server.seen.length, 0);
    await send({ email: 'a/b@x' });
    assert.equal(server.seen[0]?.url, '/accounts/a%2Fb%40x/orders');
  });

  it('refuses a header or a query value whose part gives nothing or a list', async (t) => {
    const { server, send } = await setup(t, { headers: { 'X-Order': 'o-{{ ref }}' }, query: { id: '{{ id }}' } });
    await assert.rejects(send({ id: 1 }), refused('request.headers.x-order', 'nothing'));
    await assert.rejects(send({ ref: 'r', id: [1, 2] }), refused('request.query.id', 'an array of 2'));
    assert.equal(server.seen.length, 0);
    await send({ ref: 7, id: true });
    assert.equal(server.seen[0]?.url, '/?id=true');
    assert.equal(server.seen[0]?.headers['x-order'], 'o-7');
  });
});
