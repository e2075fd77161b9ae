/**
 * `/metrics`: a whole engine runs a known workload against a real misbehaving
 * sink, and the scrape shows exactly what happened, per flow, connector and
 * consumer, in a text exposition that a strict parser accepts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { consumerLabel } from '../../src/auth/inbound/inbound.ts';
import { publish } from '../../src/observability/channels.ts';
import { Metrics, type MetricsReadings } from '../../src/observability/metrics.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestSink } from '../helpers/sink.ts';

/** One sample of the exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case; prom-client writes
// `Nan` (the event-loop lag before its first sample), so the case is not held to the spec's spelling.
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf|nan)$/i;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line is a HELP, a
 * TYPE, another comment or a sample; every sample belongs to a family declared
 * with HELP and TYPE before it (a histogram's `_bucket`, `_sum` and `_count`
 * included); label values are quoted with only \\, \" and \n escaped; values are
 * floats; no family is declared twice and no sample repeats.
 */
function parseExposition(text: string): Sample[] {
  const help = new Set<string>();
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line feed');
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      assert.match(name, METRIC_NAME, where);
      if (kind === 'HELP') {
        assert.ok(!help.has(name), `HELP twice for ${name}`);
        help.add(name);
      } else {
        assert.ok(TYPES.has(rest), where);
        assert.ok(!types.has(name), `TYPE twice for ${name}`);
        types.set(name, rest);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    assert.ok(m, `not a sample: ${where}`);
    const [, name, rawLabels, value] = m as unknown as [string, string, string | undefined, string];
    assert.match(value, FLOAT, where);
    const labels = parseLabels(rawLabels ?? '', where);
    const family = familyOf(name, types);
    assert.ok(family !== undefined && help.has(family), `${name} has no # HELP and # TYPE before it (${where})`);
    const key = sampleKey(name, labels);
    assert.ok(!seen.has(key), `sample twice: ${key}`);
    seen.add(key);
    samples.push({ name, labels, value: Number(value.replace(/^\+?inf$/i, 'Infinity').replace(/^-inf$/i, '-Infinity')) });
  }
  return samples;
}

function parseLabels(raw: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([^=,]+)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  let at = 0;
  while (at < raw.length) {
    re.lastIndex = at;
    const m = re.exec(raw);
    assert.ok(m, `bad labels at ${at}: ${where}`);
    const [, name, value] = m as unknown as [string, string, string];
    assert.match(name, LABEL_NAME, where);
    assert.ok(!(name in labels), `label ${name} twice: ${where}`);
    labels[name] = value.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    at = re.lastIndex;
  }
  return labels;
}

/** The family a sample belongs to: its own name, or a histogram's or summary's name for its parts. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const part = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!part) return undefined;
  const type = types.get(part[1]!);
  if (type === 'histogram' || (type === 'summary' && part[2] !== 'bucket')) return part[1];
  return undefined;
}

function sampleKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

/** The value of the one sample named so with exactly these labels; undefined when there is none. */
function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const key = sampleKey(name, labels);
  return samples.find((s) => sampleKey(s.name, s.labels) === key)?.value;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

const SHOP_KEY = 'k-shop-0123456789abcdef';

describe('/metrics', () => {
  it('counts a known workload exactly, per flow, connector and consumer', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    retry: { maxAttempts: 4, baseMs: 10, maxMs: 50 }
    circuitBreaker: { failureRatio: 0.9, minRequests: 1000, windowMs: 60000, openMs: 60000 }
  catalog:
    type: rest
    baseUrl: ${sink.url}
    cache: { ttlMs: 3600000 }
  limited:
    type: rest
    baseUrl: ${sink.url}
    rateLimit: { perSecond: 0.01, burst: 1 }
flows:
  orders:
    trigger:
      http:
        path: /hooks/orders
        auth: { apiKeys: [ { key: "\${env:SHOP_KEY}", consumer: shop } ] }
        rateLimit: { perKey: 8, per: 1h }
    steps:
      - deliver: { connector: sink, request: { path: /orders } }
  lookups:
    trigger: { http: { path: /hooks/lookups } }
    steps:
      - call: { connector: catalog, request: { method: GET, path: /items/1 } }
  throttled:
    trigger: { http: { path: /hooks/throttled } }
    steps:
      - deliver: { connector: limited, request: { path: /slow } }
`,
      { env: { SHOP_KEY } },
    );
    const state = async (id: string) => (await engine.store.getMessage(id))?.state;
    // o-1…o-5 are delivered at once, o-6 and o-7 after one retry each, o-8 is refused for good.
    sink.plan(['503'], { key: 'o-6' });
    sink.plan(['500'], { key: 'o-7' });
    sink.plan(['400'], { key: 'o-8' });
    const ids: string[] = [];
    for (let i = 1; i <= 8; i++) {
      const res = await engine.post('/hooks/orders', { n: i }, { 'x-api-key': SHOP_KEY, 'idempotency-key': `o-${i}` });
      assert.equal(res.status, 202);
      ids.push(res.json.id as string);
    }
    assert.equal((await engine.post('/hooks/orders', { n: 9 }, { 'x-api-key': SHOP_KEY })).status, 429, 'the ninth is over the allowance');
    assert.equal((await engine.post('/hooks/orders', { n: 10 }, { 'x-api-key': 'wrong-key' })).status, 401);
    // The same GET twice, one after the other: a miss, then a hit.
    for (let i = 0; i < 2; i++) {
      const { json } = await engine.post('/hooks/lookups', {});
      ids.push(json.id as string);
      await engine.until(async () => (await state(json.id as string)) === 'done');
    }
    // The bucket holds one token: the first goes, the second waits its turn (100 s away), paused.
    for (let i = 0; i < 2; i++) ids.push((await engine.post('/hooks/throttled', { i })).json.id as string);
    await engine.until(async () => {
      const states = await Promise.all(ids.map(state));
      return states.filter((s) => s === 'done').length === 10 && states.includes('dead') && engine.settled.some((e) => e.paused === true);
    });

    const samples = await scrape(engine.metricsUrl!);
    assert.equal(engine.metricsUrl, `${engine.url}/metrics`);
    const v = (name: string, labels: Record<string, string> = {}) => value(samples, name, labels);

    assert.equal(v('junction_ingress_requests_total', { flow: 'orders', status: '202', consumer: 'shop' }), 8);
    assert.equal(v('junction_ingress_requests_total', { flow: 'orders', status: '429', consumer: 'shop' }), 1);
    assert.equal(v('junction_ingress_requests_total', { flow: 'orders', status: '401', consumer: 'unauthenticated' }), 1);
    assert.equal(v('junction_ingress_requests_total', { flow: 'lookups', status: '202', consumer: 'anonymous' }), 2);
    assert.equal(v('junction_ingress_rate_limited_total', { flow: 'orders', consumer: 'shop' }), 1);
    assert.equal(samples.filter((s) => s.name === 'junction_ingress_requests_total').length, 5, 'no other ingress series');

    assert.equal(v('junction_messages_enqueued_total', { flow: 'orders', duplicate: 'false' }), 8);
    assert.equal(v('junction_message_attempts_total', { flow: 'orders' }), 10, '8 first attempts and 2 retries');
    assert.equal(v('junction_messages_settled_total', { flow: 'orders', outcome: 'ack' }), 7);
    assert.equal(v('junction_messages_settled_total', { flow: 'orders', outcome: 'retry' }), 2);
    assert.equal(v('junction_messages_settled_total', { flow: 'orders', outcome: 'dead' }), 1);
    assert.equal(v('junction_messages_settled_total', { flow: 'orders', outcome: 'paused' }), undefined);
    assert.equal(v('junction_messages_settled_total', { flow: 'throttled', outcome: 'ack' }), 1);
    assert.equal(v('junction_messages_settled_total', { flow: 'throttled', outcome: 'paused' }), 1);
    assert.equal(v('junction_message_processing_seconds_count', { flow: 'orders', outcome: 'ack' }), 7);
    assert.equal(v('junction_message_processing_seconds_bucket', { flow: 'orders', outcome: 'ack', le: '+Inf' }), 7);
    assert.equal(v('junction_message_processing_seconds_count', { flow: 'orders', outcome: 'retry' }), 2);

    assert.equal(v('junction_connector_call_duration_seconds_count', { connector: 'sink', classification: 'ok' }), 7);
    assert.equal(v('junction_connector_call_duration_seconds_count', { connector: 'sink', classification: 'retry' }), 2);
    assert.equal(v('junction_connector_call_duration_seconds_count', { connector: 'sink', classification: 'permanent' }), 1);
    assert.equal(v('junction_connector_call_duration_seconds_count', { connector: 'catalog', classification: 'ok' }), 2, 'a cache hit is a call too');
    assert.equal(v('junction_connector_call_duration_seconds_count', { connector: 'limited', classification: 'error' }), 1);
    assert.equal(v('junction_connector_call_errors_total', { connector: 'limited', code: 'JNC_CONN_RATE_LIMITED' }), 1);
    assert.equal(v('junction_connector_rate_limit_waits_total', { connector: 'limited', reason: 'bucket' }), 1);
    const waited = v('junction_connector_rate_limit_wait_seconds_total', { connector: 'limited' });
    assert.ok(waited !== undefined && waited > 0 && waited <= 100, `waited ${waited} s (the next token is at most 100 s away)`);

    assert.equal(v('junction_cache_requests_total', { connector: 'catalog', result: 'miss' }), 1);
    assert.equal(v('junction_cache_requests_total', { connector: 'catalog', result: 'hit' }), 1);
    assert.equal(v('junction_cache_requests_total', { connector: 'catalog', result: 'revalidated' }), 0);
    assert.equal(v('junction_circuit_state', { connector: 'sink' }), 0);
    assert.equal(v('junction_circuit_state', { connector: 'catalog' }), undefined, 'a connector without a breaker has no circuit');

    assert.equal(v('junction_queue_messages', { flow: 'orders', state: 'queued' }), 0);
    assert.equal(v('junction_queue_messages', { flow: 'orders', state: 'running' }), 0);
    assert.equal(v('junction_queue_messages', { flow: 'throttled', state: 'queued' }), 1, 'the paused one waits for its token');
    assert.equal(v('junction_queue_oldest_age_seconds', { flow: 'throttled' }), 0, 'a message waiting for its turn is not due');
    assert.equal(v('junction_dead_letters', { flow: 'orders' }), 1);
    assert.equal(v('junction_dead_letters', { flow: 'lookups' }), 0);
    assert.equal(v('junction_store_up'), 1);
    assert.ok(v('process_cpu_user_seconds_total') !== undefined, 'the process metrics are there');

    // No label value is a message id, an idempotency key or a credential: only names, codes and outcomes.
    const secrets = [...ids, SHOP_KEY, 'wrong-key', ...Array.from({ length: 8 }, (_, i) => `o-${i + 1}`)];
    for (const s of samples) {
      for (const [label, text] of Object.entries(s.labels)) {
        assert.ok(!secrets.some((x) => text.includes(x)), `${s.name}{${label}="${text}"} carries an id or a key`);
      }
    }
  });

  it('shows how long the oldest due message has waited, and the queue depth', async (t) => {
    const clock = new ManualClock();
    // No worker: the messages stay queued, and time moves only when the test moves it.
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { n: n }
`,
      { clock, workers: false },
    );
    await engine.post('/hooks/orders', { n: 1 });
    clock.advance(30_000);
    await engine.post('/hooks/orders', { n: 2 });
    clock.advance(12_000);
    const samples = await scrape(engine.metricsUrl!);
    assert.equal(value(samples, 'junction_queue_oldest_age_seconds', { flow: 'orders' }), 42);
    assert.equal(value(samples, 'junction_queue_messages', { flow: 'orders', state: 'queued' }), 2);
    assert.equal(value(samples, 'junction_message_attempts_total', { flow: 'orders' }), undefined, 'nothing ran');
  });

  it('is not served when metrics.enabled is false', async (t) => {
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
metrics: { enabled: false }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { n: n }
`,
    );
    assert.equal(engine.metricsUrl, undefined);
    const res = await fetch(`${engine.url}/metrics`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'JNC_NOT_FOUND');
  });

  it('is served on a port of its own when metrics.port is set, and only there', async (t) => {
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
metrics: { port: 0, host: 127.0.0.1 }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { n: n }
`,
    );
    assert.equal((await engine.post('/hooks/orders', { n: 1 })).status, 202);
    const url = engine.metricsUrl!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.notEqual(new URL(url).port, new URL(engine.url).port);
    const samples = await scrape(url);
    assert.equal(value(samples, 'junction_ingress_requests_total', { flow: 'orders', status: '202', consumer: 'anonymous' }), 1);
    assert.equal((await fetch(`${engine.url}/metrics`)).status, 404, 'not on the main server');
    const other = await fetch(new URL('/admin', url));
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, 'JNC_NOT_FOUND');
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  });
});

describe('the metrics server of its own', () => {
  it('stops start-up with JNC_LISTEN_FAILED when its port is taken, and leaves nothing open', async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as AddressInfo;
    const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = listening();
    await assert.rejects(
      startTestEngine(
        t,
        `
store: sqlite:./junction.db
metrics: { port: ${port} }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { n: n }
`,
      ),
      (e: unknown) => (e as { code?: string }).code === 'JNC_LISTEN_FAILED' && (e as Error).message.includes(`127.0.0.1:${port}`),
    );
    assert.equal(listening(), before, 'the main server was closed again');
  });
});

describe('Metrics on its own', () => {
  const idle: MetricsReadings = { queue: async () => ({ queued: 0, running: 0, done: 0, dead: 0 }), oldestDue: async () => ({}), connector: () => undefined };

  it('counts only the events of its own engine and connectors', async (t) => {
    const metrics = new Metrics({ worker: 'w1', flows: ['orders'], connectors: ['crm'], clock: new ManualClock(), read: idle, processMetrics: false });
    t.after(() => metrics.close());
    for (const worker of ['w1', 'w2']) {
      publish('ingress:response', { worker, flow: 'orders', status: 202, consumer: 'shop' });
      publish('message:settled', { worker, flow: 'orders', id: 'm', attempt: 1, outcome: 'ack', durationMs: 30 });
    }
    for (const connector of ['crm', 'erp']) publish('call:end', { connector, method: 'GET', path: '/x', status: 200, classification: 'ok', durationMs: 2 });
    const samples = parseExposition(await metrics.render());
    assert.equal(value(samples, 'junction_ingress_requests_total', { flow: 'orders', status: '202', consumer: 'shop' }), 1);
    assert.equal(value(samples, 'junction_messages_settled_total', { flow: 'orders', outcome: 'ack' }), 1);
    assert.equal(value(samples, 'junction_message_processing_seconds_sum', { flow: 'orders', outcome: 'ack' }), 0.03, 'in seconds');
    assert.equal(value(samples, 'junction_message_processing_seconds_bucket', { flow: 'orders', outcome: 'ack', le: '0.025' }), 0);
    assert.equal(value(samples, 'junction_message_processing_seconds_bucket', { flow: 'orders', outcome: 'ack', le: '0.05' }), 1);
    assert.equal(value(samples, 'junction_connector_call_duration_seconds_count', { connector: 'crm', classification: 'ok' }), 1);
    assert.equal(value(samples, 'junction_connector_call_duration_seconds_count', { connector: 'erp', classification: 'ok' }), undefined);
    assert.equal(samples.filter((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_')).length, 0, 'processMetrics: false');

    metrics.close();
    publish('ingress:response', { worker: 'w1', flow: 'orders', status: 202, consumer: 'shop' });
    assert.equal(value(parseExposition(await metrics.render()), 'junction_ingress_requests_total', { flow: 'orders', status: '202', consumer: 'shop' }), 1, 'closed: no longer counting');
  });

  it('reads circuit states as 0, 1, 2 and says when the store did not answer', async (t) => {
    const circuits: Record<string, string> = { crm: 'closed', erp: 'halfOpen', shop: 'open' };
    let storeUp = true;
    const read: MetricsReadings = {
      queue: async () => {
        if (!storeUp) throw new Error('the store is down');
        return { queued: 3, running: 1, done: 9, dead: 2 };
      },
      oldestDue: async () => ({}),
      connector: (name) => ({ circuit: circuits[name], cache: name === 'crm' ? { hits: 4, misses: 2, revalidated: 1, stale: 0 } : undefined }),
    };
    const metrics = new Metrics({ worker: 'w1', flows: ['orders'], connectors: ['crm', 'erp', 'shop', 'plain'], clock: new ManualClock(), read, processMetrics: false });
    t.after(() => metrics.close());
    let samples = parseExposition(await metrics.render());
    assert.deepEqual(
      ['crm', 'erp', 'shop', 'plain'].map((connector) => value(samples, 'junction_circuit_state', { connector })),
      [0, 1, 2, undefined],
    );
    assert.equal(value(samples, 'junction_cache_requests_total', { connector: 'crm', result: 'hit' }), 4);
    assert.equal(value(samples, 'junction_cache_requests_total', { connector: 'erp', result: 'hit' }), undefined);
    assert.equal(value(samples, 'junction_queue_messages', { flow: 'orders', state: 'queued' }), 3);
    assert.equal(value(samples, 'junction_queue_messages', { flow: 'orders', state: 'done' }), undefined, 'done messages are history, not depth');
    assert.equal(value(samples, 'junction_dead_letters', { flow: 'orders' }), 2);
    assert.equal(value(samples, 'junction_store_up'), 1);

    storeUp = false;
    samples = parseExposition(await metrics.render());
    assert.equal(value(samples, 'junction_store_up'), 0);
    assert.equal(value(samples, 'junction_queue_messages', { flow: 'orders', state: 'queued' }), undefined, 'no stale figure stands in');
    assert.equal(value(samples, 'junction_dead_letters', { flow: 'orders' }), undefined);
    assert.equal(value(samples, 'junction_circuit_state', { connector: 'shop' }), 2, 'the rest is still shown');
  });

  it('labels a caller by a configured name, never by what the request brings', () => {
    assert.equal(consumerLabel({ consumer: 'shop', via: 'apiKeys' }), 'shop');
    assert.equal(consumerLabel({ consumer: 'stripe', via: 'signature', messageId: 'evt_1' }), 'stripe');
    assert.equal(consumerLabel({ consumer: 'anonymous', via: 'none' }), 'anonymous');
    assert.equal(consumerLabel({ consumer: 'user-8d1f…', via: 'jwt' }), 'jwt');
    assert.equal(consumerLabel(undefined), 'unauthenticated');
  });
});
