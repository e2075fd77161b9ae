/**
 * @module test/policies/rate-limit
 * The token bucket on a manual clock, and the policy in a real rest connector
 * against a loopback sink: no token means a paused error and no request; a 429
 * pauses every call until its Retry-After.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJunctionError, type JunctionError } from '../../src/core/errors.ts';
import { TokenBucket } from '../../src/policies/rate-limit.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestSink } from '../helpers/sink.ts';

const req = { method: 'POST', path: '/orders', body: '{}' };
const ctx = () => ({ signal: new AbortController().signal });

async function rejection(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isJunctionError(e), `a JunctionError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to reject');
}

describe('token bucket', () => {
  it('lets a burst through, then one call per interval', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 3, clock.now());
    assert.deepEqual([bucket.take(clock.now()), bucket.take(clock.now()), bucket.take(clock.now())], [0, 0, 0]);
    assert.equal(bucket.take(clock.now()), 100, 'the next token in 1/10 s');
    clock.advance(100);
    assert.equal(bucket.take(clock.now()), 0);
    clock.advance(10_000);
    assert.equal(bucket.tokens(clock.now()), 3, 'never more than burst');
  });

  it('gives callers turned away successive turns, one interval apart', () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const bucket = new TokenBucket(20, 1, t0);
    assert.equal(bucket.take(t0), 0);
    const turns = [1, 2, 3, 4].map(() => bucket.take(clock.now()));
    assert.deepEqual(turns, [50, 100, 150, 200]);
    // Each comes back at its turn and finds a token.
    for (const turn of turns) {
      clock.set(t0 + turn);
      assert.equal(bucket.take(clock.now()), 0, `token at +${turn}ms`);
    }
  });

  it('a pause stops every call, then lets one through with no burst', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 5, clock.now());
    bucket.pause(clock.now() + 3000, clock.now());
    assert.equal(bucket.tokens(clock.now()), 0);
    assert.equal(bucket.pausedUntil(clock.now()), clock.now() + 3000);
    assert.equal(bucket.take(clock.now()), 3000, 'first turn: the end of the pause');
    assert.equal(bucket.take(clock.now()), 3100, 'then one per interval');
    clock.advance(3000);
    assert.equal(bucket.pausedUntil(clock.now()), undefined);
    assert.equal(bucket.take(clock.now()), 0);
    assert.equal(bucket.tokens(clock.now()), 0, 'no burst saved up during the pause');
  });
});

describe('rate limit policy', () => {
  it('with no token, fails fast with a paused JNC_CONN_RATE_LIMITED and sends nothing', async (t) => {
    const sink = await startTestSink(t);
    const clock = new ManualClock();
    const c = testRestConnector(t, 'crm', { baseUrl: sink.url, rateLimit: { perSecond: 2, burst: 2 } }, { clock });
    assert.equal((await c.call(req, ctx())).status, 200);
    assert.equal((await c.call(req, ctx())).status, 200);
    const e = await rejection(c.call(req, ctx()));
    assert.equal(e.code, 'JNC_CONN_RATE_LIMITED');
    assert.equal(e.family, 'paused');
    assert.equal(e.retryAfterMs, 500);
    assert.equal(sink.requests.length, 2, 'the third call never left');
    assert.deepEqual(c.state().policies.rateLimit, { perSecond: 2, burst: 2, tokens: 0 });
    clock.advance(500);
    assert.equal((await c.call(req, ctx())).status, 200);
  });

  it('a 429 with Retry-After pauses every call until then, as a paused JNC_CONN_THROTTLED', async (t) => {
    const sink = await startTestSink(t);
    const clock = new ManualClock();
    const c = testRestConnector(t, 'crm', { baseUrl: sink.url, rateLimit: { perSecond: 10, burst: 10 } }, { clock });
    sink.plan(['429:3']);
    const e = await rejection(c.call(req, ctx()));
    assert.equal(e.code, 'JNC_CONN_THROTTLED');
    assert.equal(e.family, 'paused', 'no attempt spent');
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterMs, 3000);
    assert.equal(e.response?.status, 429, 'the answer is kept with the attempt');
    assert.deepEqual(c.state().policies.rateLimit, { perSecond: 10, burst: 10, tokens: 0, pausedUntil: clock.now() + 3000 });

    const next = await rejection(c.call(req, ctx()));
    assert.equal(next.code, 'JNC_CONN_RATE_LIMITED');
    assert.equal(next.retryAfterMs, 3100, 'the turn after the first one past the pause');
    assert.equal(sink.requests.length, 1, 'nothing reaches the target during the pause');

    clock.advance(3000);
    assert.equal((await c.call(req, ctx())).status, 200);
  });

  it('a 429 without Retry-After pauses 1 s, doubled for each 429 in a row, capped by retry.maxMs', async (t) => {
    const sink = await startTestSink(t);
    const clock = new ManualClock();
    const c = testRestConnector(t, 'crm', { baseUrl: sink.url, rateLimit: { perSecond: 1000 }, retry: { maxMs: 3000 } }, { clock });
    const pauses: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      sink.plan(['429']);
      pauses.push((await rejection(c.call(req, ctx()))).retryAfterMs);
      clock.advance(pauses.at(-1) ?? 0);
    }
    assert.deepEqual(pauses, [1000, 2000, 3000, 3000]);
    assert.equal((await c.call(req, ctx())).status, 200, 'a success ends the streak');
    clock.advance(1);
    sink.plan(['429']);
    assert.equal((await rejection(c.call(req, ctx()))).retryAfterMs, 1000);
  });

  it('many calls in flight that all get a 429 pause once, not once each', async (t) => {
    const sink = await startTestSink(t);
    const clock = new ManualClock();
    const c = testRestConnector(t, 'crm', { baseUrl: sink.url, rateLimit: { perSecond: 10, burst: 5 } }, { clock });
    sink.plan(['429', '429', '429', '429', '429']);
    const errs = await Promise.all([1, 2, 3, 4, 5].map(() => rejection(c.call(req, ctx()))));
    assert.deepEqual(
      errs.map((e) => e.retryAfterMs),
      [1000, 1100, 1200, 1300, 1400],
      'one pause of 1 s, and the five calls come back one interval apart after it',
    );
  });

  it('passes a 429 through when the connector classifies it permanent', async (t) => {
    const sink = await startTestSink(t);
    const clock = new ManualClock();
    const c = testRestConnector(t, 'crm', { baseUrl: sink.url, rateLimit: { perSecond: 10 }, classify: { '429': 'permanent' } }, { clock });
    sink.plan(['429:60']);
    assert.equal((await c.call(req, ctx())).status, 429);
    assert.equal(c.state().policies.rateLimit && (c.state().policies.rateLimit as { pausedUntil?: number }).pausedUntil, undefined);
  });
});
