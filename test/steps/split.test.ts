/**
 * split: one message becomes one part per array element. The parts are stored
 * durably, continue at the next step and are retried on their own, with keys
 * derived from the parent's, so running the parent again makes no new parts.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { closeConnectors, createConnectors } from '../../src/connectors/registry.ts';
import { isJunctionError } from '../../src/core/errors.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { compileFlow } from '../../src/runtime/flow.ts';
import { splitOptions, splitStep } from '../../src/steps/split.ts';
import { DROP } from '../../src/steps/step.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const ctx = stepContext();
const deps = stepDeps({ index: 1 });

/** Order order-9 from the web shop, in a trace: what each part should carry on. */
function parent(body: Json, headers: Record<string, string> = { 'content-type': 'application/json' }): Message {
  return message(body, { idempotencyKey: 'order-9', headers, meta: { channel: 'web' }, traceparent: '00-abc-def-01' });
}

async function splitWith(options: unknown) {
  return splitStep.create(splitOptions.parse(options), deps);
}

async function parts(options: unknown, msg: Message): Promise<Message[]> {
  const out = await (await splitWith(options))(msg, ctx);
  assert.ok(Array.isArray(out), 'split returns the parts');
  return out;
}

const order = { id: 'A-9', items: [{ sku: 'S-1', qty: 1 }, { sku: 'S-2', qty: 2 }, { sku: 'S-3', qty: 3 }] };

describe('split step', () => {
  it('makes one part per element, keeping headers, meta and trace, and leaving the key for the runtime to derive', async () => {
    const out = await parts('items', parent(order));
    assert.deepEqual(out.map((p) => p.body), order.items);
    for (const p of out) {
      assert.equal(p.idempotencyKey, 'order-9', 'the parent key: the runtime derives order-9:<index>');
      assert.deepEqual(p.headers, { 'content-type': 'application/json' });
      assert.deepEqual(p.meta, { channel: 'web' });
      assert.equal(p.traceparent, '00-abc-def-01');
    }
  });

  it('gives each part the key its template renders on the part', async () => {
    const out = await parts({ expr: 'items', key: "{{ $meta.channel }}-{{ sku }}" }, parent(order));
    assert.deepEqual(out.map((p) => p.idempotencyKey), ['web-S-1', 'web-S-2', 'web-S-3']);
  });

  it('makes one part of a single value (JSONata returns a path that matches once as the value itself)', async () => {
    const out = await parts('items.sku', parent({ items: [{ sku: 'only' }] }));
    assert.deepEqual(out.map((p) => p.body), ['only']);
  });

  it('drops a message whose expression yields nothing or an empty array: nothing to do', async () => {
    const step = await splitWith('items');
    assert.equal(await step(parent({ other: 1 }), ctx), DROP);
    assert.equal(await step(parent({ items: [] }), ctx), DROP);
  });

  it('refuses a text body, naming the step and its content type: split JSON, so convert text first', async () => {
    const step = await splitWith('$split($, "\\n")');
    for (const contentType of ['text/csv', 'text/html; charset=utf-8']) {
      await assert.rejects(step(parent('sku,qty\nS-1,1', { 'content-type': contentType }), ctx), (e) => {
        assert.ok(isJunctionError(e));
        assert.equal(e.code, 'JNC_BODY_NOT_JSON');
        assert.equal(e.retryable, false);
        assert.ok(e.message.includes(`Step orders[1].split needs a JSON body`) && e.message.includes(`(content-type ${contentType})`), e.message);
        return true;
      });
    }
  });

  it('splits a JSON value left under a text header (a CSV record keeps the upload\'s text/csv), and its parts are JSON', async () => {
    const out = await parts('skus', parent({ skus: ['S-1', 'S-2'] }, { 'content-type': 'text/csv' }));
    assert.deepEqual(out.map((p) => [p.body, p.headers['content-type']]), [['S-1', 'application/json'], ['S-2', 'application/json']]);
  });

  describe('bad input', () => {
    const invalid = (pattern: RegExp) => (e: unknown) => {
      assert.ok(isJunctionError(e));
      assert.equal(e.code, 'JNC_STEP_INVALID');
      assert.equal(e.retryable, false);
      assert.match(e.message, pattern);
      return true;
    };

    it('turns an expression that throws on this message into a permanent STEP_INVALID', async () => {
      const step = await splitWith('$split(items, ",")');
      await assert.rejects(step(parent(order), ctx), invalid(/orders\[1\]\.split.*`\$split\(items, ","\)` failed: Argument 1 of function "split"/));
    });

    it('refuses two parts with the same key: the second would be lost as a duplicate', async () => {
      const step = await splitWith({ expr: 'items', key: '{{ kind }}' });
      await assert.rejects(step(parent({ items: [{ kind: 'a' }, { kind: 'b' }, { kind: 'a' }] }), ctx), invalid(/parts 0 and 2 have the same key "a"/));
    });

    it('refuses a key that renders empty or fails on a part', async () => {
      await assert.rejects((await splitWith({ expr: 'items', key: '{{ nope }}' }))(parent(order), ctx), invalid(/key template failed on part 0: Template "\{\{ nope \}\}": \{\{ nope \}\} gave nothing/));
      await assert.rejects((await splitWith({ expr: 'items', key: 'line-{{ note }}' }))(parent({ items: [{ note: '' }] }), ctx), invalid(/\{\{ note \}\} gave an empty string/));
      await assert.rejects((await splitWith({ expr: 'items', key: '{{ $number(sku) }}' }))(parent(order), ctx), invalid(/key template failed on part 0/));
    });

    it('refuses a syntax error, a constant key or an unknown option at config time', () => {
      for (const bad of ['items[', { expr: 'items', key: '{{ a b }}' }, { expr: 'items', key: 'line' }, { expr: 'items', by: 'x' }, {}]) {
        assert.equal(splitOptions.safeParse(bad).success, false, JSON.stringify(bad));
      }
    });
  });

  describe('in a flow', () => {
    function config(sink: Sink): string {
      return `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 4, baseMs: 10, maxMs: 100 } }
flows:
  lines:
    trigger: { http: { path: /orders } }
    steps:
      - map: { orderId: id, items: items }
      - split: "items.{ 'orderId': %.orderId, 'sku': sku, 'qty': qty }"
      - deliver: { connector: sink, request: { path: "/lines/{{ sku }}" } }
  keyed:
    trigger: { http: { path: /keyed } }
    steps:
      - split: { expr: items, key: "line-{{ sku }}" }
      - deliver: { connector: sink, request: { path: /keyed } }
`;
    }

    async function setup(t: TestContext) {
      const sink = await startTestSink(t);
      const engine = await startTestEngine(t, config(sink));
      const total = async (flow: string) => Object.values(await engine.store.stats(flow)).reduce((a, b) => a + b, 0);
      const settledAll = async (flow: string, n: number) => {
        const s = await engine.store.stats(flow);
        return s.done === n && s.queued === 0 && s.running === 0;
      };
      return { sink, engine, total, settledAll };
    }

    it('delivers each part once under its own derived key, retrying only the part that failed', async (t) => {
      const { sink, engine, total, settledAll } = await setup(t);
      sink.plan(['503'], { key: 'order-9:1' });
      const res = await engine.post('/orders', order, { 'idempotency-key': 'order-9' });
      assert.equal(res.status, 202);
      const parent = res.json.id as string;
      await engine.until(() => settledAll('lines', 4));

      const received = sink.received();
      assert.deepEqual([...received.keys()].sort(), ['order-9:0', 'order-9:1', 'order-9:2']);
      assert.deepEqual([...received.values()], [1, 1, 1], 'each part delivered exactly once');
      const attemptsByKey = new Map<string, number>();
      for (const r of sink.requests) attemptsByKey.set(r.idempotencyKey!, (attemptsByKey.get(r.idempotencyKey!) ?? 0) + 1);
      assert.deepEqual(Object.fromEntries(attemptsByKey), { 'order-9:0': 1, 'order-9:1': 2, 'order-9:2': 1 }, 'only the failed part was retried');
      const first = sink.requests.find((r) => r.url === '/lines/S-1')!;
      assert.deepEqual(JSON.parse(first.body), { orderId: 'A-9', sku: 'S-1', qty: 1 }, 'the steps before split ran once, on the parent');

      const parentRecord = await engine.store.getMessage(parent);
      assert.equal(parentRecord?.state, 'done');
      assert.equal(parentRecord?.history.length, 1, 'the parent did not wait for its parts');
      assert.equal(await total('lines'), 4, 'the parent and three parts');

      // The same order again: a duplicate of the parent, so no new parts and no deliveries.
      const again = await engine.post('/orders', order, { 'idempotency-key': 'order-9' });
      assert.equal(again.json.duplicate, true);
      assert.equal(again.json.id, parent);
      assert.equal(await total('lines'), 4);
    });

    it('running the parent again (a crash after the fan-out, before the ack) makes no new parts', async (t) => {
      const { sink, engine, total, settledAll } = await setup(t);
      const parent = (await engine.post('/orders', order, { 'idempotency-key': 'order-10' })).json.id as string;
      await engine.until(() => settledAll('lines', 4));

      // The same flow, compiled as a restarted process would, runs the stored parent once more.
      const loaded = await loadConfig(engine.configFile);
      const connectors = createConnectors(loaded.config.connectors);
      t.after(() => closeConnectors(connectors));
      const flow = await compileFlow('lines', loaded.config.flows.lines!, { connectors, baseDir: loaded.baseDir });
      const stored = (await engine.store.getMessage(parent))!;
      const results: boolean[] = [];
      const rerun = await flow.run(
        { ...stored, attempt: 2, traceparent: undefined },
        { ...ctx, fanOut: async (p) => void results.push(...(await engine.store.enqueue(p)).map((r) => r.duplicate)) },
      );
      assert.deepEqual(rerun, { kind: 'fanned-out', step: 'split#1', parts: 3 });
      assert.deepEqual(results, [true, true, true], 'every part was already stored');
      assert.equal(await total('lines'), 4);
      assert.equal(sink.requests.length, 3, 'nothing delivered twice');
    });

    it('uses the rendered key for each part, sent as its Idempotency-Key', async (t) => {
      const { sink, engine, settledAll } = await setup(t);
      await engine.post('/keyed', order);
      await engine.until(() => settledAll('keyed', 4));
      assert.deepEqual([...sink.received().keys()].sort(), ['line-S-1', 'line-S-2', 'line-S-3']);
    });

    it('dead-letters the parent when two parts would share a key, and makes no parts', async (t) => {
      const { engine, total } = await setup(t);
      const id = (await engine.post('/keyed', { items: [{ sku: 'S-1' }, { sku: 'S-1' }] })).json.id as string;
      await engine.until(async () => (await engine.store.getMessage(id))?.state === 'dead');
      const dl = await engine.store.deadLetters.get(id);
      assert.equal(dl?.errorCode, 'JNC_STEP_INVALID');
      assert.match(dl?.reason[0] ?? '', /parts 0 and 1 have the same key "line-S-1"/);
      assert.equal(await total('keyed'), 1);
    });
  });
});
