/**
 * @module test/policies/circuit-breaker
 * The breaker's state machine, driven by a ManualClock: when it opens (ratio over
 * a window with a minimum, or failures in a row), what it refuses while open, the
 * single probe of half-open, and what counts as a failure. Then the same policy in
 * a rest connector against a real loopback sink.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Call, Classification, OutboundResponse } from '../../src/core/call.ts';
import { isJunctionError, errors } from '../../src/core/errors.ts';
import { subscribe, type JunctionEvents } from '../../src/observability/channels.ts';
import { circuitBreakerLayer, circuitBreakerOptions, CircuitBreaker, type CircuitChange } from '../../src/policies/circuit-breaker.ts';
import { ManualClock, START_MS } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestSink } from '../helpers/sink.ts';

const classify = (res: OutboundResponse): Classification =>
  res.status < 300 ? 'ok' : res.status === 401 ? 'refresh' : res.status === 408 || res.status === 429 || res.status >= 500 ? 'retry' : 'permanent';
const response = (status: number): OutboundResponse => ({ status, headers: {}, body: Buffer.alloc(0), durationMs: 1 });
const req = { method: 'POST', path: '/orders' };
const ctx = () => ({ signal: new AbortController().signal });

function breaker(input: Record<string, unknown>, clock = new ManualClock()) {
  const changes: CircuitChange[] = [];
  const opts = circuitBreakerOptions.parse(input);
  const b = new CircuitBreaker('crm', opts, { clock, classify, probeTimeoutMs: 5000, onChange: (c) => changes.push(c) });
  const succeed = (): void => b.record(b.enter(), 'success');
  const fail = (): void => b.record(b.enter(), 'failure');
  return { b, clock, changes, succeed, fail };
}

/** The paused error a refused call throws. */
function refusal(fn: () => unknown): { code: string; retryAfterMs: number | undefined; family: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(isJunctionError(e), 'a JunctionError');
    return { code: e.code, retryAfterMs: e.retryAfterMs, family: e.family };
  }
  assert.fail('expected the call to be refused');
}

describe('circuit breaker: opening', () => {
  it('defaults to the design page: ratio 0.5, at least 20 calls, a 10 s window, open 30 s', () => {
    assert.deepEqual(circuitBreakerOptions.parse({}), { failureRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 30_000 });
  });

  it('opens once the failure ratio is reached with at least minRequests calls in the window', () => {
    const { b, fail, succeed, changes } = breaker({ failureRatio: 0.5, minRequests: 10 });
    for (let i = 0; i < 5; i++) succeed();
    for (let i = 0; i < 4; i++) fail();
    assert.equal(b.state().state, 'closed', '4 of 9: below the minimum of calls');
    assert.deepEqual({ failures: b.state().failures, requests: b.state().requests }, { failures: 4, requests: 9 });
    fail();
    assert.equal(b.state().state, 'open', '5 of 10 failed: ratio 0.5 reached');
    assert.equal(changes.length, 1);
    assert.deepEqual({ from: changes[0]?.from, to: changes[0]?.to, failures: changes[0]?.failures, requests: changes[0]?.requests }, { from: 'closed', to: 'open', failures: 5, requests: 10 });
  });

  it('does not open on a high ratio below minRequests', () => {
    const { b, fail } = breaker({ minRequests: 20 });
    for (let i = 0; i < 19; i++) fail();
    assert.equal(b.state().state, 'closed');
    fail();
    assert.equal(b.state().state, 'open');
  });

  it('forgets failures older than the window (it slides a tenth of it at a time)', () => {
    const { b, fail, succeed, clock } = breaker({ failureRatio: 0.5, minRequests: 4, windowMs: 10_000 });
    fail();
    fail();
    fail();
    clock.advance(9_999);
    assert.equal(b.state().requests, 3, 'still in the window');
    clock.advance(1_001);
    assert.equal(b.state().requests, 0, 'the window slid past them');
    succeed();
    succeed();
    fail();
    assert.equal(b.state().state, 'closed', '1 of 3 in the window');
    succeed();
    assert.equal(b.state().state, 'closed', '1 of 4: below the ratio');
  });

  it('opens after consecutiveFailures in a row, whatever the ratio; a success resets the run', () => {
    const { b, fail, succeed } = breaker({ minRequests: 1000, consecutiveFailures: 3 });
    fail();
    fail();
    succeed();
    fail();
    fail();
    assert.equal(b.state().state, 'closed', 'two in a row, twice');
    fail();
    assert.equal(b.state().state, 'open');
    assert.equal(b.state().consecutiveFailures, 3);
  });

  it('publishes circuit:change on every change of state', (t) => {
    const events: JunctionEvents['circuit:change'][] = [];
    t.after(subscribe('circuit:change', (e) => events.push(e)));
    const { b, fail, succeed, clock } = breaker({ consecutiveFailures: 1, openMs: 1000 });
    fail();
    clock.advance(1000);
    const probe = b.enter();
    b.record(probe, 'success');
    succeed();
    assert.deepEqual(
      events.filter((e) => e.connector === 'crm'),
      [
        { connector: 'crm', from: 'closed', to: 'open' },
        { connector: 'crm', from: 'open', to: 'halfOpen' },
        { connector: 'crm', from: 'halfOpen', to: 'closed' },
      ],
    );
  });
});

describe('circuit breaker: open and half-open', () => {
  it('while open, refuses with a paused JNC_CIRCUIT_OPEN whose retryAfterMs is the time left until half-open', () => {
    const { b, fail, clock } = breaker({ consecutiveFailures: 1, openMs: 30_000 });
    fail();
    assert.deepEqual(refusal(() => b.enter()), { code: errors.CIRCUIT_OPEN.code, retryAfterMs: 30_000, family: 'paused' });
    clock.advance(29_000);
    assert.equal(refusal(() => b.enter()).retryAfterMs, 1000);
    assert.deepEqual(b.state(), {
      state: 'open',
      failures: 0,
      requests: 0,
      consecutiveFailures: 1,
      openedAt: new Date(START_MS).toISOString(),
      halfOpenAt: new Date(START_MS + 30_000).toISOString(),
    });
  });

  it('after openMs lets exactly one probe through; others are refused while it is in flight', () => {
    const { b, fail, clock } = breaker({ consecutiveFailures: 1, openMs: 30_000 });
    fail();
    clock.advance(30_000);
    assert.equal(b.state().state, 'halfOpen', 'shown as half-open once the time is up');
    const probe = b.enter();
    assert.equal(probe.probe, true);
    clock.advance(100);
    const second = refusal(() => b.enter());
    assert.equal(second.code, 'JNC_CIRCUIT_OPEN');
    assert.equal(second.retryAfterMs, 4900, 'come back when the probe has surely ended (its timeout)');
    b.record(probe, 'success');
    assert.equal(b.state().state, 'closed');
    assert.equal(b.enter().probe, false, 'closed: calls go through');
  });

  it('a failed probe opens the circuit again for another openMs', () => {
    const { b, fail, clock, changes } = breaker({ consecutiveFailures: 1, openMs: 30_000 });
    fail();
    clock.advance(30_000);
    b.record(b.enter(), 'failure');
    assert.equal(b.state().state, 'open');
    assert.equal(refusal(() => b.enter()).retryAfterMs, 30_000);
    assert.deepEqual(changes.map((c) => c.to), ['open', 'halfOpen', 'open']);
  });

  it('a probe that tells nothing (shutdown, paused below) hands its turn to the next caller', () => {
    const { b, fail, clock } = breaker({ consecutiveFailures: 1, openMs: 1000 });
    fail();
    clock.advance(1000);
    b.record(b.enter(), 'ignore');
    assert.equal(b.state().state, 'halfOpen');
    assert.equal(b.enter().probe, true, 'the next caller probes');
  });

  it('a call that started before the circuit opened does not count after', () => {
    const { b, fail, clock } = breaker({ consecutiveFailures: 2, openMs: 1000 });
    const slow = b.enter();
    fail();
    fail();
    assert.equal(b.state().state, 'open');
    clock.advance(1000);
    const probe = b.enter();
    b.record(slow, 'success');
    assert.equal(b.state().state, 'halfOpen', 'the late success of an old call does not close it');
    b.record(probe, 'success');
    assert.equal(b.state().state, 'closed');
    assert.equal(b.state().consecutiveFailures, 0);
  });
});

describe('circuit breaker: what counts', () => {
  /** The policy around a terminal that answers from `plan` (statuses or errors), counting what reached it. */
  function layered(plan: (number | Error)[], input: Record<string, unknown>) {
    const clock = new ManualClock();
    let sent = 0;
    const terminal: Call = () => {
      sent++;
      const next = plan.shift() ?? 200;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(response(next));
    };
    const layer = circuitBreakerLayer('crm', circuitBreakerOptions.parse(input), { clock, classify, probeTimeoutMs: 5000 });
    const call = layer.policy(terminal);
    return { call, layer, clock, sent: () => sent };
  }

  it('counts 5xx, 408, timeouts and network errors; not 400, 404, 401 or 429', async () => {
    const failing = [503, 500, 408, errors.CONN_TIMEOUT.create(['crm', 'call', 5000]), errors.CONN_NETWORK.create(['crm', 'ECONNREFUSED'])];
    const { call, layer } = layered([...failing], { minRequests: 1000, consecutiveFailures: 5 });
    for (let i = 0; i < 4; i++) await call(req, ctx()).catch(() => {});
    assert.equal(layer.state().consecutiveFailures, 4);
    await call(req, ctx()).catch(() => {});
    assert.equal(layer.state().state, 'open');

    const callers = layered([400, 404, 401, 429, 422, 400, 429, errors.SHUTDOWN.create(), errors.OAUTH_REFUSED.create(['crm', 'invalid_client'])], { minRequests: 1, failureRatio: 0.1, consecutiveFailures: 1 });
    for (let i = 0; i < 9; i++) await callers.call(req, ctx()).catch(() => {});
    assert.equal(callers.layer.state().state, 'closed', "the caller's faults, pacing and shutdown say nothing of the target");
    assert.equal(callers.layer.state().failures, 0);
  });

  it('while open, nothing below runs', async () => {
    const { call, sent, clock } = layered([503], { consecutiveFailures: 1, openMs: 1000 });
    await call(req, ctx());
    await assert.rejects(call(req, ctx()), { code: 'JNC_CIRCUIT_OPEN', retryAfterMs: 1000 });
    assert.equal(sent(), 1);
    clock.advance(1000);
    assert.equal((await call(req, ctx())).status, 200, 'the probe');
    assert.equal(sent(), 2);
  });
});

describe('circuit breaker in a rest connector, against a real sink', () => {
  it('opens on 503s and connection refused, and shows its state to the admin API', async (t) => {
    const sink = await startTestSink(t, { default: '503' });
    const clock = new ManualClock();
    const lines: { msg: string; to: string }[] = [];
    const logger = { warn: (o: { to: string }, msg: string) => lines.push({ msg, to: o.to }), info: (o: { to: string }, msg: string) => lines.push({ msg, to: o.to }) };
    const crm = testRestConnector(t, 'crm', { baseUrl: sink.url, circuitBreaker: { consecutiveFailures: 3, openMs: 10_000 } }, { clock, logger: logger as never });
    for (let i = 0; i < 3; i++) assert.equal((await crm.call(req, ctx())).status, 503);
    await assert.rejects(crm.call(req, ctx()), { code: 'JNC_CIRCUIT_OPEN', retryAfterMs: 10_000 });
    assert.equal(sink.requests.length, 3, 'the fourth call never left');
    assert.deepEqual(crm.state().policies.circuit, {
      state: 'open',
      failures: 0,
      requests: 0,
      consecutiveFailures: 3,
      openedAt: new Date(START_MS).toISOString(),
      halfOpenAt: new Date(START_MS + 10_000).toISOString(),
    });
    assert.equal(lines[0]?.to, 'open');
    assert.match(lines[0]?.msg ?? '', /connector crm: circuit open: 3 failures in a row/);

    // The target goes away entirely: the probe is refused a connection, and the circuit opens again.
    await sink.close();
    clock.advance(10_000);
    await assert.rejects(crm.call(req, ctx()), { code: 'JNC_CONN_NETWORK' });
    assert.equal((crm.state().policies.circuit as { state: string }).state, 'open');
    assert.deepEqual(lines.map((l) => l.to), ['open', 'halfOpen', 'open']);
  });

  it('is off unless configured', async (t) => {
    const sink = await startTestSink(t, { default: '503' });
    const crm = testRestConnector(t, 'crm', { baseUrl: sink.url });
    for (let i = 0; i < 30; i++) await crm.call(req, ctx());
    assert.equal(sink.requests.length, 30);
    assert.equal(crm.state().policies.circuit, undefined);
  });
});
