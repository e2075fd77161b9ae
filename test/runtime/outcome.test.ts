import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineError, errors } from '../../src/core/errors.ts';
import { decideOutcome } from '../../src/runtime/outcome.ts';

const retry = { maxAttempts: 3, baseMs: 100, maxMs: 5000 };
const now = 1_000_000;

describe('decideOutcome', () => {
  it('acks when the flow finished', () => {
    assert.deepEqual(decideOutcome({ error: null, attempt: 1, retry, now }), { kind: 'ack' });
  });

  it('retries a transient failure at now + full-jitter backoff', () => {
    const o = decideOutcome({ error: errors.HTTP_RETRYABLE.create(['crm', 503]), attempt: 2, retry, now, random: () => 0.5 });
    assert.equal(o.kind, 'retry');
    // attempt 2: cap = 100 * 2^1 = 200; half of it
    assert.equal(o.kind === 'retry' && o.at, now + 100);
    assert.equal(o.kind === 'retry' && o.spendAttempt, true);
  });

  it('lets Retry-After win over the backoff, capped by maxMs', () => {
    const soon = decideOutcome({ error: errors.HTTP_RETRYABLE.create(['crm', 429], { retryAfterMs: 2000 }), attempt: 1, retry, now, random: () => 0 });
    assert.equal(soon.kind === 'retry' && soon.at, now + 2000);
    const late = decideOutcome({ error: errors.HTTP_RETRYABLE.create(['crm', 429], { retryAfterMs: 3_600_000 }), attempt: 1, retry, now });
    assert.equal(late.kind === 'retry' && late.at, now + retry.maxMs);
  });

  it('dead-letters a transient failure once attempts run out, keeping the last error as the cause', () => {
    const last = errors.CONN_TIMEOUT.create(['crm', 'headers', 200]);
    const o = decideOutcome({ error: last, attempt: 3, retry, now });
    assert.equal(o.kind, 'dead');
    assert.equal(o.kind === 'dead' && o.error.code, 'JNC_ATTEMPTS_EXHAUSTED');
    assert.equal(o.kind === 'dead' && o.error.cause, last);
  });

  it('dead-letters a permanent failure on the first attempt', () => {
    const o = decideOutcome({ error: errors.HTTP_REJECTED.create(['crm', 400]), attempt: 1, retry, now });
    assert.equal(o.kind === 'dead' && o.error.code, 'JNC_HTTP_REJECTED');
  });

  it('gives the attempt back when paused (shutdown), even on the last attempt', () => {
    const o = decideOutcome({ error: errors.SHUTDOWN.create(), attempt: 3, retry, now });
    assert.equal(o.kind, 'retry');
    assert.equal(o.kind === 'retry' && o.spendAttempt, false);
    assert.equal(o.kind === 'retry' && o.at, now);
  });

  it('keeps the time a pause ends: a paused error with retryAfterMs waits that long, and spends no attempt', () => {
    const circuitOpen = defineError('JNC_TEST_CIRCUIT_OPEN', 'Connector %s: circuit open', { family: 'paused' });
    const o = decideOutcome({ error: circuitOpen.create(['crm'], { retryAfterMs: 30_000 }), attempt: 3, retry, now });
    assert.equal(o.kind, 'retry');
    assert.equal(o.kind === 'retry' && o.spendAttempt, false);
    assert.equal(o.kind === 'retry' && o.at, now + 30_000, 'not capped by retry.maxMs: a pause is not a backoff');
  });

  it('treats a foreign error as transient', () => {
    const o = decideOutcome({ error: new Error('socket hang up'), attempt: 1, retry, now, random: () => 0 });
    assert.equal(o.kind === 'retry' && o.error.code, 'JNC_STEP_FAILED');
  });
});
