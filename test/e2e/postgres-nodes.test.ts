/**
 * Several engines on one PostgreSQL schema, as several `junction run` processes
 * would be: what one node does reaches the others through the store alone
 * (LISTEN/NOTIFY wakes, answers of `respond`, `batch`).
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const FILE = 'test/e2e/postgres-nodes.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
let schema = '';

if (unavailable === undefined) {
  beforeEach(async (t) => {
    schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
  });
  afterEach(async (t) => {
    if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });
  after(() => admin.end());
}

const skipAll = unavailable === undefined ? {} : { skip: unavailable };

/** Idle workers poll this seldom, so anything delivered sooner was woken by a notification. */
const POLL_MS = 60_000;
/** Well below POLL_MS: a condition that holds within it was not met by a poll. */
const PROMPTLY_MS = 10_000;

function storeUrl(): string {
  return `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}&pool_max=4`;
}

function config(sink: Sink, flows: string): string {
  return `
store: ${storeUrl()}
worker: { pollMs: ${POLL_MS}, leaseMs: 30000, drainMs: 1000 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    timeoutMs: 5000
    retry: { maxAttempts: 3, baseMs: 10, maxMs: 100 }
flows:
${flows}`;
}

const RELAY = `
  relay:
    trigger: { http: { path: /in } }
    steps:
      - deliver: { connector: sink, request: { path: /out } }
`;

/** Node A takes HTTP only (its workers off); node B runs the flows. */
async function twoNodes(t: TestContext, sink: Sink, flows: string): Promise<{ a: TestEngine; b: TestEngine }> {
  const yaml = config(sink, flows);
  const b = await startTestEngine(t, yaml);
  const a = await startTestEngine(t, yaml, { workers: false });
  return { a, b };
}

describe('engines sharing one PostgreSQL schema', skipAll, () => {
  it('a message posted to a node without workers is delivered by another node, woken by NOTIFY long before its poll', async (t) => {
    const sink = await startTestSink(t);
    const { a, b } = await twoNodes(t, sink, RELAY);
    // B's worker has polled once at start and now sleeps POLL_MS.
    const res = await a.post('/in', { n: 1 });
    assert.equal(res.status, 202);
    const id = res.json.id as string;
    await b.until(async () => (await b.store.getMessage(id))?.state === 'done', PROMPTLY_MS);
    assert.equal(sink.received().get(id), 1);
    assert.equal(b.settled.filter((e) => e.id === id).length, 1, 'node B ran it');
  });

  it('a dead letter replayed on one node is run by another, woken by NOTIFY', async (t) => {
    const sink = await startTestSink(t);
    const { a, b } = await twoNodes(t, sink, RELAY);
    sink.plan(['400']);
    const id = (await a.post('/in', { n: 2 })).json.id as string;
    await b.until(async () => (await b.store.getMessage(id))?.state === 'dead', PROMPTLY_MS);
    assert.deepEqual(await a.store.deadLetters.replay({ ids: [id] }), [id]);
    await b.until(async () => (await b.store.getMessage(id))?.state === 'done', PROMPTLY_MS);
    assert.equal(sink.received().get(id), 1);
  });

  it('respond: the node holding the request answers with the result of the flow another node ran, small or past NOTIFY\'s 8000 bytes', async (t) => {
    const sink = await startTestSink(t);
    const { a, b } = await twoNodes(
      t,
      sink,
      `
  quote:
    trigger: { http: { path: /quote } }
    steps:
      - map: { n: n, text: text, total: n * 2 }
      - respond: { status: 201, timeoutMs: ${PROMPTLY_MS} }
`,
    );
    const small = await a.post('/quote', { n: 21, text: 'x' });
    assert.equal(small.status, 201);
    assert.deepEqual(small.json, { n: 21, text: 'x', total: 42 });
    const id = small.headers.get('junction-message-id') as string;
    // The answer is sent at the respond step; the settle that follows commits on B.
    await b.until(() => b.settled.some((e) => e.id === id), PROMPTLY_MS);
    assert.equal(a.settled.length, 0, 'node A ran nothing');

    const text = 'é'.repeat(6000); // 12,000 bytes of UTF-8: travels through the signals table
    const big = await a.post('/quote', { n: 1, text });
    assert.equal(big.status, 201);
    assert.deepEqual(big.json, { n: 1, text, total: 2 });
  });

  it('respond: a flow that fails on another node answers 502 with its reason', async (t) => {
    const sink = await startTestSink(t);
    sink.setDefault('400');
    const { a } = await twoNodes(
      t,
      sink,
      `
  quote:
    trigger: { http: { path: /quote } }
    steps:
      - call: { connector: sink, request: { path: /price } }
      - respond: { timeoutMs: ${PROMPTLY_MS} }
`,
    );
    const res = await a.post('/quote', { n: 1 });
    assert.equal(res.status, 502);
    assert.equal(res.json.code, 'JNC_FLOW_FAILED');
    assert.equal(res.json.cause, 'JNC_HTTP_REJECTED');
  });

  it('an inbound rate limit per consumer holds across nodes: the allowance spent on one node is spent on the other', async (t) => {
    const sink = await startTestSink(t);
    const yaml = config(
      sink,
      `
  limited:
    trigger: { http: { path: /limited, rateLimit: { perKey: 3, per: 1m } } }
    steps:
      - deliver: { connector: sink, request: { path: /out } }
`,
    );
    const a = await startTestEngine(t, yaml, { workers: false });
    const b = await startTestEngine(t, yaml, { workers: false });
    const statuses = [];
    for (const node of [a, b, a, b]) statuses.push((await node.post('/limited', { n: 1 })).status);
    assert.deepEqual(statuses, [202, 202, 202, 429]);
    const refused = await a.post('/limited', { n: 2 });
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('ratelimit') ?? '', /r=0/);
  });

  it('batch is per node: each node batches what it claimed, and no member is lost, on either node', async (t) => {
    const sink = await startTestSink(t);
    const yaml = config(sink, batchFlow(4, 300)).replace(`pollMs: ${POLL_MS}`, 'pollMs: 50');
    const a = await startTestEngine(t, yaml);
    const b = await startTestEngine(t, yaml);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push((await (n % 2 === 0 ? a : b).post('/orders', { n })).json.id as string);
    await a.until(async () => (await Promise.all(ids.map(async (id) => (await a.store.getMessage(id))?.state))).every((s) => s === 'done'), PROMPTLY_MS);
    const members = sink.requests.flatMap((r) => (JSON.parse(r.body) as { n: number }[]).map((m) => m.n));
    assert.deepEqual(
      members.sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, n) => n),
    );
  });

  it('batch: members waiting on a node that stops go back to the queue, and another node batches them', async (t) => {
    const sink = await startTestSink(t);
    const yaml = config(sink, batchFlow(4, 60_000));
    const a = await startTestEngine(t, yaml);
    const b = await startTestEngine(t, yaml);
    const ids: string[] = [];
    // Three members wait in A's batch of four, which would leave only after a minute.
    for (let n = 0; n < 3; n++) ids.push((await a.post('/orders', { n })).json.id as string);
    await a.until(async () => (await Promise.all(ids.map(async (id) => (await a.store.getMessage(id))?.state))).every((s) => s === 'running'), PROMPTLY_MS);
    await a.stop();
    // Back in the queue, due now: B is woken, claims them, and the fourth fills B's batch.
    await b.until(async () => (await Promise.all(ids.map(async (id) => (await b.store.getMessage(id))?.leaseOwner))).every((o) => o === b.worker.id), PROMPTLY_MS);
    ids.push((await b.post('/orders', { n: 3 })).json.id as string);
    await b.until(async () => (await Promise.all(ids.map(async (id) => (await b.store.getMessage(id))?.state))).every((s) => s === 'done'), PROMPTLY_MS);
    assert.equal(sink.requests.length, 1, 'one batch, on node B');
    assert.deepEqual(
      (JSON.parse(sink.requests[0]!.body) as { n: number }[]).map((m) => m.n).sort(),
      [0, 1, 2, 3],
    );
  });
});

function batchFlow(size: number, maxWaitMs: number): string {
  return `
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - map: { n: n }
      - batch: { size: ${size}, maxWaitMs: ${maxWaitMs} }
      - deliver: { connector: sink, request: { path: /bulk } }
`;
}
