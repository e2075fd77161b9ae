/**
 * @module test/e2e/circuit
 * The circuit breaker end to end (issue 10): a real loopback receiver goes down
 * (503) and comes back. The circuit opens; while it is open no request reaches the
 * receiver and no message spends an attempt; once half-open a single probe goes
 * out while the others wait; delivery resumes and every message is delivered once.
 * Time is a ManualClock shared by the worker and the breaker: nothing sleeps to
 * make the circuit move.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MessageRecord } from '../../src/store/store.ts';
import { subscribe } from '../../src/observability/channels.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

const TOKEN = 'circuit-admin-token-3f';
const MESSAGES = 10;
const OPEN_MS = 60_000;
const TIMEOUT_MS = 2000;

it('opens on a receiver that is down, spends nothing while open, probes once, then delivers every message once', async (t) => {
  const sink = await startTestSink(t, { default: '503' });
  const clock = new ManualClock();
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { concurrency: 4, pollMs: 10, leaseMs: 30000 }
connectors:
  crm:
    type: rest
    baseUrl: ${sink.url}
    timeoutMs: ${TIMEOUT_MS}
    retry: { maxAttempts: 5, baseMs: 10, maxMs: 100 }
    circuitBreaker: { consecutiveFailures: 3, openMs: ${OPEN_MS} }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: crm, request: { path: /orders } }
`,
    { clock, env: { ADMIN_TOKEN: TOKEN } },
  );
  const circuit = async (): Promise<Record<string, unknown>> => {
    const res = await engine.app.inject({ url: '/admin/connectors', headers: { authorization: `Bearer ${TOKEN}` } });
    return (res.json() as { connectors: { state: { policies: { circuit: Record<string, unknown> } } }[] }).connectors[0]!.state.policies.circuit;
  };
  const messages = async (): Promise<MessageRecord[]> => Promise.all(ids.map(async (id) => (await engine.store.getMessage(id))!));
  /** Lets the worker poll a while: whatever it would wrongly send, it has had the time to. */
  const idle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      engine.worker.notify();
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const ids: string[] = [];
  for (let i = 0; i < MESSAGES; i++) ids.push((await engine.post('/orders', { n: i }, { 'idempotency-key': `order-${i}` })).json.id as string);

  // Down: the first calls get 503 and spend an attempt each; then the circuit opens and the rest are paused.
  await engine.until(async () => (await messages()).every((m) => m.history.length >= 1));
  const opened = await circuit();
  assert.equal(opened.state, 'open');
  const reached = sink.requests.length;
  assert.ok(reached >= 3 && reached <= 3 + 3, `3 failures open it; at most the 3 other workers' calls were already on their way (${reached})`);
  const openedAt = Date.parse(String(opened.openedAt));
  for (const m of await messages()) {
    const sent = sink.requests.filter((r) => r.idempotencyKey === m.idempotencyKey).length;
    assert.equal(m.attempts, sent, `${m.idempotencyKey}: an attempt spent for each request sent, none for a refusal`);
    if (sent === 0) {
      assert.equal(m.history[0]?.errorCode, 'JNC_CIRCUIT_OPEN');
      assert.equal(m.runAt, openedAt + OPEN_MS, 'paused until the circuit half-opens');
    }
  }

  // Still open: the retries of the failed ones come due; they are refused without a request and without an attempt.
  clock.advance(1000);
  await engine.until(async () => (await messages()).every((m) => m.runAt > clock.now()));
  await idle();
  assert.equal(sink.requests.length, reached, 'no request reached the receiver while open');
  for (const m of await messages()) assert.equal(m.attempts, sink.requests.filter((r) => r.idempotencyKey === m.idempotencyKey).length);

  // Back up. The probe is slow, so the other workers meet the half-open circuit while it is in flight.
  const seen: { to: string; requests: number; settled: number }[] = [];
  t.after(subscribe('circuit:change', (e) => seen.push({ to: e.to, requests: sink.requests.length, settled: engine.settled.length })));
  sink.setDefault('200');
  sink.plan(['slow:300']);
  clock.set(openedAt + OPEN_MS);
  engine.worker.notify();
  await engine.until(async () => (await circuit()).state === 'closed');
  const [halfOpen, closed] = seen;
  assert.deepEqual([halfOpen?.to, closed?.to], ['halfOpen', 'closed']);
  assert.equal(halfOpen?.requests, reached, 'nothing went out before the circuit half-opened');
  assert.equal(closed?.requests, reached + 1, 'a single probe went out; its success closed the circuit');
  const duringProbe = engine.settled.slice(halfOpen?.settled, closed?.settled);
  assert.ok(duringProbe.some((s) => s.code === 'JNC_CIRCUIT_OPEN' && s.paused === true), 'callers were refused, paused, while the probe was in flight');

  // Closed: everything delivers, at the latest once the refused callers' wait (the probe's timeout) is over.
  clock.advance(TIMEOUT_MS);
  await engine.until(async () => (await messages()).every((m) => m.state === 'done'));
  const received = sink.received();
  for (let i = 0; i < MESSAGES; i++) assert.equal(received.get(`order-${i}`), 1, `order-${i} delivered once`);
  for (const m of await messages()) {
    assert.equal(m.attempts, sink.requests.filter((r) => r.idempotencyKey === m.idempotencyKey).length, `${m.idempotencyKey}: attempts are the requests sent`);
  }
  assert.deepEqual(await circuit(), { state: 'closed', failures: 0, requests: MESSAGES - 1, consecutiveFailures: 0 });
});
