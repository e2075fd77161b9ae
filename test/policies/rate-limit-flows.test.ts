/**
 * @module test/policies/rate-limit-flows
 * The rate limit in a running engine, against a real loopback sink: four flows
 * share one connector and the sink sees the configured rate; a storm of 429s
 * from the sink costs no attempt and no dead letter.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const FLOWS = ['a', 'b', 'c', 'd'];

function config(sink: Sink, rateLimit: string, retry = ''): string {
  return `
worker: { pollMs: 5 }
connectors:
  crm:
    type: rest
    baseUrl: ${sink.url}
    rateLimit: ${rateLimit}
    ${retry}
flows:
${FLOWS.map((f) => `  ${f}:\n    trigger: { http: { path: /${f} } }\n    steps:\n      - deliver: { connector: crm, request: { path: /${f} } }`).join('\n')}
`;
}

it('holds 20 calls per second within 10% over 3 s, with 4 flows sharing the connector', async (t) => {
  const R = 20;
  const BURST = 5;
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, config(sink, `{ perSecond: ${R}, burst: ${BURST} }`));
  // 4 × 20 messages: more than 3 s of work at 20/s, so the bucket, not the backlog, sets the pace.
  await Promise.all(FLOWS.flatMap((f) => Array.from({ length: 20 }, (_, i) => engine.post(`/${f}`, { i }, { 'idempotency-key': `${f}-${i}` }))));
  await sink.waitFor((s) => s.requests.length > 0 && s.requests.at(-1)!.at - s.requests[0]!.at >= 3000, 15_000);

  const start = sink.requests[0]!.at;
  const perSecond = [0, 1, 2].map((s) => sink.requests.filter((r) => r.at >= start + s * 1000 && r.at < start + (s + 1) * 1000).length);
  const total = perSecond.reduce((a, b) => a + b, 0);
  const expected = BURST + 3 * R; // the burst, then R per second
  t.diagnostic(`requests per second: ${perSecond.join(', ')}; total ${total}, expected ${expected}`);
  assert.ok(Math.abs(total - expected) <= expected * 0.1, `total ${total} within 10% of ${expected}`);
  perSecond.forEach((n, s) => assert.ok(n <= (s === 0 ? BURST : 0) + R * 1.1, `no second above the limit: ${perSecond.join(', ')}`));
  assert.deepEqual(new Set(sink.requests.map((r) => new URL(r.url, sink.url).pathname)), new Set(FLOWS.map((f) => `/${f}`)), 'every flow got its share');
  assert.ok(
    engine.settled.every((e) => e.outcome !== 'dead' && (e.outcome === 'ack' || e.paused === true)),
    'waiting for a token never spent an attempt',
  );
});

it('a storm of 429s costs no attempt and no dead letter; every message is delivered once after the pause', async (t) => {
  const clock = new ManualClock();
  const sink = await startTestSink(t);
  // maxAttempts 1: a single spent attempt would make a dead letter.
  const engine = await startTestEngine(t, config(sink, '{ perSecond: 100, burst: 100 }', 'retry: { maxAttempts: 1 }'), { clock });
  sink.setDefault('429:30');
  const ids: string[] = [];
  for (const f of FLOWS) for (let i = 0; i < 5; i++) ids.push((await engine.post(`/${f}`, { i }, { 'idempotency-key': `${f}-${i}` })).json.id as string);
  await engine.until(() => engine.settled.length >= ids.length);
  const storm = sink.requests.length;
  assert.ok(storm >= 1, 'the target was reached');

  // Polls go on for a while in real time; the manual clock stands still inside the pause.
  for (let i = 0; i < 10; i++) {
    engine.worker.notify();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(sink.requests.length, storm, 'no call during the pause');
  for (const id of ids) {
    const m = await engine.store.getMessage(id);
    assert.equal(m?.state, 'queued');
    assert.equal(m?.attempts, 0, 'no attempt spent');
    assert.ok(m.runAt >= clock.now() + 30_000, 'waits for the Retry-After');
  }

  sink.setDefault('200');
  clock.advance(31_000);
  engine.worker.notify();
  await engine.until(async () => (await Promise.all(ids.map((id) => engine.store.getMessage(id)))).every((m) => m?.state === 'done'));
  assert.deepEqual(await engine.store.deadLetters.list(), []);
  assert.equal(sink.received().size, ids.length);
  assert.ok([...sink.received().values()].every((n) => n === 1), 'each delivered once');
  const codes = new Set(engine.settled.filter((e) => e.outcome === 'retry').map((e) => e.code));
  assert.ok([...codes].every((c) => c === 'JNC_CONN_THROTTLED' || c === 'JNC_CONN_RATE_LIMITED'), [...codes].join());
  assert.ok(engine.settled.every((e) => e.outcome !== 'retry' || e.paused === true));
});
