/**
 * @module test/observability/tracing
 * OpenTelemetry spans of a whole engine against a real sink: one trace per
 * message from ingress to every attempt, step and call, the caller's trace id
 * on every request the sink receives, and nothing at all with tracing off.
 * Also how the config and the `OTEL_*` variables resolve, and the traceparent
 * check.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { traceIdOf, validTraceparent } from '../../src/core/trace-context.ts';
import { resolveTracing } from '../../src/observability/tracing-config.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startListing } from '../helpers/listing.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_PARENT = '00f067aa0ba902b7';

async function engineWithSink(t: TestContext, tracing: string, env: NodeJS.ProcessEnv = {}): Promise<{ engine: TestEngine; sink: Sink; exporter: InMemorySpanExporter }> {
  const sink = await startTestSink(t);
  const exporter = new InMemorySpanExporter();
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20 }
${tracing}
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 5, baseMs: 1, maxMs: 5 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - map: { id: id }
      - deliver: { connector: sink, request: { path: "/orders?token=s3cret&page=1" } }
`,
    { env, spanExporter: exporter },
  );
  return { engine, sink, exporter };
}

/** Waits until the message is delivered and its last attempt's span has ended. */
async function delivered(engine: TestEngine, exporter: InMemorySpanExporter, attempts: number): Promise<ReadableSpan[]> {
  await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
  await engine.until(() => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER).length === attempts);
  // The ingress span ends when the 202 has been sent, which may be after the first attempt.
  await engine.until(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER));
  return exporter.getFinishedSpans();
}

const ofKind = (spans: ReadableSpan[], kind: SpanKind): ReadableSpan[] => spans.filter((s) => s.kind === kind);
const byStart = (a: ReadableSpan, b: ReadableSpan): number => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];

describe('tracing', () => {
  it("puts ingress, three attempts, their steps and calls in the caller's trace, and sends that trace id to the sink", async (t) => {
    const { engine, sink, exporter } = await engineWithSink(t, 'tracing: { exporter: otlp }');
    sink.plan(['503', '503', '200']);
    const posted = await engine.post('/orders', { id: 'A-1' }, { traceparent: `00-${CALLER_TRACE}-${CALLER_PARENT}-01`, tracestate: 'vendor=abc' });
    assert.equal(posted.status, 202);
    const spans = await delivered(engine, exporter, 3);

    assert.deepEqual(new Set(spans.map((s) => s.spanContext().traceId)), new Set([CALLER_TRACE]), 'one trace: the caller’s');
    const [ingress, ...otherServers] = ofKind(spans, SpanKind.SERVER);
    assert.equal(otherServers.length, 0);
    assert.equal(ingress!.parentSpanContext?.spanId, CALLER_PARENT, 'the ingress span is the caller’s child');
    assert.equal(ingress!.attributes['http.route'], '/orders');
    assert.equal(ingress!.attributes['http.response.status_code'], 202);
    assert.equal(ingress!.attributes['messaging.message.id'], posted.json.id);

    const attempts = ofKind(spans, SpanKind.CONSUMER).sort(byStart);
    assert.deepEqual(
      attempts.map((a) => [a.attributes['junction.attempt'], a.attributes['junction.outcome'], a.status.code, a.status.message]),
      [
        [1, 'retry', SpanStatusCode.ERROR, 'JNC_HTTP_RETRYABLE'],
        [2, 'retry', SpanStatusCode.ERROR, 'JNC_HTTP_RETRYABLE'],
        [3, 'ack', SpanStatusCode.OK, undefined],
      ],
    );
    for (const a of attempts) {
      assert.equal(a.parentSpanContext?.spanId, ingress!.spanContext().spanId, 'every attempt, retries included, is a child of the stored ingress context');
      assert.equal(a.attributes['junction.flow'], 'orders');
      assert.equal(a.attributes['messaging.message.id'], posted.json.id);
    }

    const steps = ofKind(spans, SpanKind.INTERNAL);
    for (const a of attempts) {
      const mine = steps.filter((s) => s.parentSpanContext?.spanId === a.spanContext().spanId).sort(byStart);
      assert.deepEqual(
        mine.map((s) => s.name),
        ['step map#0', 'step deliver#1'],
      );
    }
    const deliverSteps = steps.filter((s) => s.name === 'step deliver#1');
    assert.deepEqual(deliverSteps.map((s) => s.status.code).sort(), [SpanStatusCode.UNSET, SpanStatusCode.ERROR, SpanStatusCode.ERROR].sort());

    const calls = ofKind(spans, SpanKind.CLIENT).sort(byStart);
    assert.deepEqual(
      calls.map((c) => [c.attributes['http.response.status_code'], c.status.code]),
      [
        [503, SpanStatusCode.ERROR],
        [503, SpanStatusCode.ERROR],
        [200, SpanStatusCode.UNSET],
      ],
    );
    for (const c of calls) {
      assert.ok(deliverSteps.some((s) => s.spanContext().spanId === c.parentSpanContext?.spanId), 'a call is a child of its deliver step');
      assert.equal(c.attributes['http.request.method'], 'POST');
      assert.equal(c.attributes['server.address'], '127.0.0.1');
      assert.equal(c.attributes['url.full'], `${sink.url}/orders?token=[redacted]&page=1`, 'a credential in the query is not in the span');
    }
    assert.equal(calls[0]!.attributes['error.type'], '503');

    // What the sink received: each request carries its own call span as parent, in the caller's trace.
    assert.equal(sink.requests.length, 3);
    assert.deepEqual(
      sink.requests.map((r) => r.headers.traceparent),
      calls.map((c) => `00-${CALLER_TRACE}-${c.spanContext().spanId}-01`),
    );
    assert.ok(sink.requests.every((r) => r.headers.tracestate === 'vendor=abc'), 'the caller’s tracestate goes along');
  });

  it('starts a trace at ingress when the caller sends none (or an invalid one), and keeps every attempt in it', async (t) => {
    const { engine, sink, exporter } = await engineWithSink(t, 'tracing: { exporter: otlp }');
    sink.plan(['503', '200']);
    assert.equal((await engine.post('/orders', { id: 'A-2' }, { traceparent: '00-not-a-trace-01', tracestate: 'vendor=orphan' })).status, 202);
    const spans = await delivered(engine, exporter, 2);
    const [ingress] = ofKind(spans, SpanKind.SERVER);
    assert.equal(ingress!.parentSpanContext, undefined, 'a new trace, rooted at ingress');
    const traceId = ingress!.spanContext().traceId;
    assert.deepEqual(new Set(spans.map((s) => s.spanContext().traceId)), new Set([traceId]));
    assert.ok(ofKind(spans, SpanKind.CONSUMER).every((a) => a.parentSpanContext?.spanId === ingress!.spanContext().spanId));
    assert.ok(sink.requests.every((r) => traceIdOf(r.headers.traceparent as string) === traceId));
    assert.ok(sink.requests.every((r) => r.headers.tracestate === undefined), 'a tracestate without a valid traceparent is dropped');
  });

  it('puts every record of a CSV upload in the upload’s trace', async (t) => {
    const sink = await startTestSink(t);
    const exporter = new InMemorySpanExporter();
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
tracing: { exporter: otlp }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  imports:
    trigger: { http: { path: /imports, records: { format: csv } } }
    steps:
      - deliver: { connector: sink, request: { path: /stock } }
`,
      { spanExporter: exporter },
    );
    const res = await fetch(`${engine.url}/imports`, { method: 'POST', headers: { 'content-type': 'text/csv', traceparent: `00-${CALLER_TRACE}-${CALLER_PARENT}-01` }, body: 'sku,qty\nA-1,5\nB-2,7\n' });
    assert.equal(res.status, 202);
    await engine.until(() => engine.settled.filter((e) => e.outcome === 'ack').length === 2);
    const spans = await delivered(engine, exporter, 2);
    const [ingress] = ofKind(spans, SpanKind.SERVER);
    assert.equal(ingress!.parentSpanContext?.spanId, CALLER_PARENT);
    const attempts = ofKind(spans, SpanKind.CONSUMER);
    assert.equal(attempts.length, 2);
    assert.ok(attempts.every((a) => a.parentSpanContext?.spanId === ingress!.spanContext().spanId));
    assert.deepEqual(
      sink.requests.map((r) => traceIdOf(r.headers.traceparent as string)),
      [CALLER_TRACE, CALLER_TRACE],
    );
  });

  it('makes a poll run the root of a trace holding its page calls and every attempt of the records it read', async (t) => {
    const listing = await startListing(t, { count: 5, pageSize: 2 });
    const exporter = new InMemorySpanExporter();
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
tracing: { exporter: otlp }
connectors:
  listing: { type: rest, baseUrl: ${listing.url} }
flows:
  items:
    trigger:
      poll:
        connector: listing
        every: 1h
        request: { method: GET, path: "/cursor/items?updated_after={{ $checkpoint }}" }
        paginate: { cursor: { param: cursor, from: next_cursor }, items: data }
        checkpoint: updatedAt
    steps:
      - filter: "true"
`,
      { spanExporter: exporter },
    );
    await engine.until(() => engine.settled.filter((e) => e.outcome === 'ack').length === 5);
    await engine.until(() => ofKind(exporter.getFinishedSpans(), SpanKind.CONSUMER).length === 5 && exporter.getFinishedSpans().some((s) => s.name === 'poll items'));
    const spans = exporter.getFinishedSpans();
    const [run, ...otherRuns] = spans.filter((s) => s.name === 'poll items');
    assert.equal(otherRuns.length, 0);
    assert.equal(run!.parentSpanContext, undefined, 'a new trace');
    assert.equal(run!.attributes['messaging.batch.message_count'], 5);
    const runId = run!.spanContext().spanId;
    const calls = ofKind(spans, SpanKind.CLIENT);
    assert.equal(calls.length, 3, 'three pages of two');
    assert.ok(calls.every((c) => c.parentSpanContext?.spanId === runId));
    assert.ok(ofKind(spans, SpanKind.CONSUMER).every((a) => a.parentSpanContext?.spanId === runId), 'each record’s attempt is a child of the run');
    assert.deepEqual(new Set(spans.map((s) => s.spanContext().traceId)), new Set([run!.spanContext().traceId]));
  });

  it('makes a schedule firing the root of the trace of the message it fires', async (t) => {
    const clock = new ManualClock(Date.parse('2025-03-28T05:59:00Z'));
    const exporter = new InMemorySpanExporter();
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
tracing: { exporter: otlp }
flows:
  report:
    trigger:
      schedule: { cron: "0 7 * * *", timezone: Europe/Berlin, body: { report: daily } }
    steps:
      - filter: "true"
`,
      { spanExporter: exporter, clock },
    );
    await engine.until(async () => (await engine.store.checkpoints.get('schedule:report')) !== undefined);
    clock.set(Date.parse('2025-03-28T06:00:00.500Z'));
    await engine.until(() => ofKind(exporter.getFinishedSpans(), SpanKind.CONSUMER).length === 1 && exporter.getFinishedSpans().some((s) => s.name === 'schedule report'));
    const spans = exporter.getFinishedSpans();
    const [firing] = spans.filter((s) => s.name === 'schedule report');
    const [attempt] = ofKind(spans, SpanKind.CONSUMER);
    assert.equal(attempt!.parentSpanContext?.spanId, firing!.spanContext().spanId);
    assert.equal(attempt!.spanContext().traceId, firing!.spanContext().traceId);
  });

  it('ends the ingress span of a refused request with its status', async (t) => {
    const { engine, exporter } = await engineWithSink(t, 'tracing: { exporter: otlp }');
    const res = await fetch(`${engine.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": ' });
    assert.equal(res.status, 400);
    await engine.until(() => exporter.getFinishedSpans().length === 1);
    const [ingress] = exporter.getFinishedSpans();
    assert.equal(ingress!.kind, SpanKind.SERVER);
    assert.equal(ingress!.attributes['http.response.status_code'], 400);
    assert.equal(ingress!.status.code, SpanStatusCode.UNSET, "a 4xx is the caller's mistake, not the server's");
  });

  it('keeps the spans of two engines in one process apart', async (t) => {
    const a = await engineWithSink(t, 'tracing: { exporter: otlp }');
    const b = await engineWithSink(t, 'tracing: { exporter: otlp }');
    const traceB = 'abcdef0123456789abcdef0123456789';
    await a.engine.post('/orders', { id: 'A' }, { traceparent: `00-${CALLER_TRACE}-${CALLER_PARENT}-01` });
    await b.engine.post('/orders', { id: 'B' }, { traceparent: `00-${traceB}-${CALLER_PARENT}-01` });
    const spansA = await delivered(a.engine, a.exporter, 1);
    const spansB = await delivered(b.engine, b.exporter, 1);
    assert.deepEqual(new Set(spansA.map((s) => s.spanContext().traceId)), new Set([CALLER_TRACE]));
    assert.deepEqual(new Set(spansB.map((s) => s.spanContext().traceId)), new Set([traceB]));
    assert.equal(spansA.length, 5, 'ingress, attempt, two steps, one call: each once');
    assert.equal(spansB.length, 5);
  });

  it('exports over OTLP/HTTP to the configured endpoint, flushed when the engine stops', async (t) => {
    const posts: { url: string; contentType: string | undefined; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ url: req.url ?? '', contentType: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    t.after(() => collector.close());
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
tracing: { exporter: otlp, endpoint: "${endpoint}", serviceName: orders-relay }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: sink, request: { path: /orders } }
`,
    );
    await engine.post('/orders', { id: 'A-6' }, { traceparent: `00-${CALLER_TRACE}-${CALLER_PARENT}-01` });
    await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
    await engine.stop();
    assert.ok(posts.length > 0, 'the batch was exported on stop');
    assert.ok(posts.every((p) => p.url === '/v1/traces' && p.contentType === 'application/json'), 'OTLP/HTTP with JSON bodies');
    const exported = posts.map((p) => p.body).join('');
    assert.match(exported, /orders-relay/);
    // OTLP/JSON carries ids as hex (protobuf would be binary): the caller's trace id is there.
    assert.match(exported, new RegExp(CALLER_TRACE, 'i'));
  });

  it('delivers and stops as usual while the collector is down', async (t) => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: sink, request: { path: /orders } }
`,
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } },
    );
    assert.equal((await engine.post('/orders', { id: 'A-7' })).status, 202);
    await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
    assert.match(sink.requests[0]?.headers.traceparent as string, /^00-[\da-f]{32}-[\da-f]{16}-01$/, 'traced: the endpoint variable turned it on');
    await engine.stop();
  });

  it('with tracing off, makes no span and sends no traceparent', async (t) => {
    const { engine, sink, exporter } = await engineWithSink(t, '', { OTEL_SERVICE_NAME: 'not-asked-to-trace' });
    sink.plan(['503', '200']);
    assert.equal((await engine.post('/orders', { id: 'A-3' })).status, 202);
    await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
    assert.equal(sink.requests.length, 2);
    assert.deepEqual(exporter.getFinishedSpans(), []);
    assert.ok(sink.requests.every((r) => r.headers.traceparent === undefined));
  });

  it('with tracing off, passes a valid caller traceparent through unchanged', async (t) => {
    const { engine, sink, exporter } = await engineWithSink(t, 'tracing: { exporter: none }', { OTEL_TRACES_EXPORTER: 'otlp' });
    const caller = `00-${CALLER_TRACE}-${CALLER_PARENT}-01`;
    assert.equal((await engine.post('/orders', { id: 'A-4' }, { traceparent: caller })).status, 202);
    await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
    assert.deepEqual(exporter.getFinishedSpans(), []);
    assert.equal(sink.requests[0]?.headers.traceparent, caller);
  });

  it('OTEL_TRACES_EXPORTER=otlp turns tracing on when the config says nothing', async (t) => {
    const { engine, exporter } = await engineWithSink(t, '', { OTEL_TRACES_EXPORTER: 'otlp' });
    assert.equal((await engine.post('/orders', { id: 'A-5' })).status, 202);
    const spans = await delivered(engine, exporter, 1);
    assert.equal(ofKind(spans, SpanKind.CLIENT).length, 1);
  });
});

describe('resolveTracing', () => {
  const off = { exporter: undefined, endpoint: undefined, serviceName: undefined, sampleRatio: undefined };

  it('is off with neither config nor environment', () => {
    assert.deepEqual(resolveTracing(off, {}), { enabled: false, endpoint: 'http://localhost:4318/v1/traces', serviceName: 'junction', sampleRatio: 1, warnings: [] });
  });

  it('turns on for OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint variable, and off for OTEL_SDK_DISABLED or none', () => {
    assert.equal(resolveTracing(off, { OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true);
    assert.equal(resolveTracing(off, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).enabled, true);
    assert.equal(resolveTracing(off, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).enabled, true);
    assert.equal(resolveTracing(off, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).enabled, false);
    assert.equal(resolveTracing(off, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' }).enabled, false);
  });

  it('lets the config win over the environment, key by key', () => {
    const env = { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env:4318/v1/traces', OTEL_SERVICE_NAME: 'from-env', OTEL_TRACES_SAMPLER: 'always_off' };
    const s = resolveTracing({ exporter: 'otlp', endpoint: 'http://cfg:4318/v1/traces', serviceName: 'from-config', sampleRatio: 0.25 }, env);
    assert.deepEqual(s, { enabled: true, endpoint: 'http://cfg:4318/v1/traces', serviceName: 'from-config', sampleRatio: 0.25, warnings: [] });
    assert.equal(resolveTracing({ ...off, exporter: 'none' }, { OTEL_TRACES_EXPORTER: 'otlp' }).enabled, false);
  });

  it('reads endpoint, service name and sampler from the environment', () => {
    const s = resolveTracing(off, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=orders%20relay',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
    assert.deepEqual(s, { enabled: true, endpoint: 'http://collector:4318/v1/traces', serviceName: 'orders relay', sampleRatio: 0.1, warnings: [] });
    assert.equal(resolveTracing(off, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' }).endpoint, 'http://b:9999/traces');
    assert.equal(resolveTracing(off, { OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).serviceName, 'svc');
  });

  it('warns about what it does not understand and falls back', () => {
    const s = resolveTracing(off, { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' });
    assert.equal(s.enabled, false);
    assert.equal(s.sampleRatio, 1);
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings[0]!, /OTEL_TRACES_EXPORTER=zipkin/);
  });
});

describe('validTraceparent', () => {
  it('takes a version-00 header and a future version with more fields; refuses the rest', () => {
    const ok = `00-${CALLER_TRACE}-${CALLER_PARENT}-01`;
    assert.equal(validTraceparent(ok), ok);
    assert.equal(validTraceparent(` ${ok} `), ok);
    assert.equal(validTraceparent(`cc-${CALLER_TRACE}-${CALLER_PARENT}-01-extra`), `cc-${CALLER_TRACE}-${CALLER_PARENT}-01-extra`);
    for (const bad of [
      `${ok}-extra`,
      `ff-${CALLER_TRACE}-${CALLER_PARENT}-01`,
      `00-${'0'.repeat(32)}-${CALLER_PARENT}-01`,
      `00-${CALLER_TRACE}-${'0'.repeat(16)}-01`,
      `00-${CALLER_TRACE.toUpperCase()}-${CALLER_PARENT}-01`,
      `00-${CALLER_TRACE}-${CALLER_PARENT}`,
      '',
    ]) {
      assert.equal(validTraceparent(bad), undefined, bad);
    }
    assert.equal(validTraceparent([ok, ok]), undefined, 'two headers are ambiguous');
    assert.equal(traceIdOf(ok), CALLER_TRACE);
    assert.equal(traceIdOf('garbage'), undefined);
  });
});
