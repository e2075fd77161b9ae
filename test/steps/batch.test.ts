/**
 * batch: many messages, one outbound call; the batch's outcome is every member's.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

function config(sink: Sink, size: number, maxWaitMs: number): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20, concurrency: 16 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - map: { n: n }
      - batch: { size: ${size}, maxWaitMs: ${maxWaitMs} }
      - deliver: { connector: sink, request: { path: /bulk } }
`;
}

async function setup(t: TestContext, size: number, maxWaitMs: number) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, config(sink, size, maxWaitMs));
  const post = async (n: number) => (await engine.post('/orders', { n, extra: true })).json.id as string;
  const states = async (ids: string[]) => Promise.all(ids.map(async (id) => (await engine.store.getMessage(id))?.state));
  return { sink, engine, post, states };
}

describe('batch step', () => {
  it('stopped with members waiting, hands them back and leaves no timer that keeps the process alive', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, config(sink, 10, 60_000).replace('concurrency: 16', 'concurrency: 16, drainMs: 100'));
    const ids = await Promise.all([1, 2].map(async (n) => (await engine.post('/orders', { n })).json.id as string));
    await engine.until(async () => (await Promise.all(ids.map(async (id) => (await engine.store.getMessage(id))?.state))).every((s) => s === 'running'));
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await engine.stop();
    assert.deepEqual(engine.settled.filter((e) => ids.includes(e.id)).map((e) => e.outcome), ['retry', 'retry'], 'handed back to the queue');
    // Before the fix, the batch's 60 s maxWaitMs timer outlived the stop: one Timeout more than now.
    assert.ok(timers() < before, `the batch's timer was cleared (${before} timers before the stop, ${timers()} after)`);
  });


  it('sends a full batch as one call whose body is the array of member bodies', async (t) => {
    const { sink, engine, post, states } = await setup(t, 3, 10_000);
    const ids = await Promise.all([1, 2, 3].map(post));
    await engine.until(async () => (await states(ids)).every((s) => s === 'done'));
    assert.equal(sink.requests.length, 1);
    const body = JSON.parse(sink.requests[0]!.body) as { n: number }[];
    assert.deepEqual(body.map((b) => b.n).sort(), [1, 2, 3]);
    assert.match(sink.requests[0]!.idempotencyKey ?? '', /^batch-[0-9a-f]{32}$/);
  });

  it('sends what it has after maxWaitMs when the batch does not fill', async (t) => {
    const { sink, engine, post, states } = await setup(t, 10, 100);
    const ids = await Promise.all([1, 2].map(post));
    await engine.until(async () => (await states(ids)).every((s) => s === 'done'));
    assert.equal(sink.requests.length, 1);
    assert.equal((JSON.parse(sink.requests[0]!.body) as unknown[]).length, 2);
  });

  it('records a failed batch call in every member, and retries it', async (t) => {
    const { sink, engine, post, states } = await setup(t, 2, 10_000);
    sink.plan(['503']);
    const ids = await Promise.all([1, 2].map(post));
    await engine.until(async () => (await states(ids)).every((s) => s === 'done'));
    for (const id of ids) {
      const rec = await engine.store.getMessage(id);
      assert.equal(rec?.history[0]?.errorCode, 'JNC_HTTP_RETRYABLE', 'the failed batch is in each member\'s history');
      assert.equal(rec?.history.at(-1)?.outcome, 'ack');
    }
  });

  it('dead-letters every member when the batch is refused', async (t) => {
    const { sink, engine, post, states } = await setup(t, 2, 10_000);
    sink.plan(['400']);
    const ids = await Promise.all([1, 2].map(post));
    await engine.until(async () => (await states(ids)).every((s) => s === 'dead'));
    assert.equal(sink.requests.length, 1);
    for (const id of ids) assert.equal((await engine.store.deadLetters.get(id))?.errorCode, 'JNC_HTTP_REJECTED');
  });
});
