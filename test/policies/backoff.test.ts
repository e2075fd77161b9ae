import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, parseRetryAfter } from '../../src/policies/backoff.ts';

const policy = { baseMs: 200, maxMs: 60_000 };

test('full jitter: random 0 waits 0 at every attempt', () => {
  for (const attempt of [1, 2, 10, 100]) assert.equal(backoffMs(attempt, policy, () => 0), 0);
});

test('full jitter: random near 1 waits just under baseMs·2^(attempt-1)', () => {
  assert.equal(backoffMs(1, policy, () => 0.999), 199);
  assert.equal(backoffMs(2, policy, () => 0.999), 399);
  assert.equal(backoffMs(4, policy, () => 0.999), 1598);
});

test('full jitter: the cap holds at high attempts, without overflow', () => {
  for (const attempt of [10, 30, 1000, Number.MAX_SAFE_INTEGER]) {
    const wait = backoffMs(attempt, policy, () => 0.999_999);
    assert.ok(wait <= policy.maxMs && wait >= 59_000, `attempt ${attempt}: ${wait}`);
  }
});

test('full jitter: every wait lies in [0, cap)', () => {
  let seed = 42;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let attempt = 1; attempt <= 20; attempt++) {
    const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
    for (let i = 0; i < 50; i++) {
      const wait = backoffMs(attempt, policy, random);
      assert.ok(Number.isInteger(wait) && wait >= 0 && wait < cap, `attempt ${attempt}: ${wait} not in [0, ${cap})`);
    }
  }
});

test('Retry-After in delay-seconds', () => {
  assert.equal(parseRetryAfter('2', 0), 2000);
  assert.equal(parseRetryAfter(' 120 ', 0), 120_000);
  assert.equal(parseRetryAfter('0', 0), 0);
});

test('Retry-After as an HTTP date, in each of the three forms, from now', () => {
  const at = Date.parse('2015-10-21T07:28:00Z');
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', at - 5000), 5000);
  assert.equal(parseRetryAfter('Wednesday, 21-Oct-15 07:28:00 GMT', at - 5000), 5000);
  assert.equal(parseRetryAfter('Wed Oct 21 07:28:00 2015', at - 5000), 5000);
});

test('Retry-After in the past means now', () => {
  const at = Date.parse('2015-10-21T07:28:00Z');
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', at + 60_000), 0);
});

test('Retry-After that is absent or garbage is undefined', () => {
  for (const v of [undefined, '', 'soon', '2 seconds', '1.5', '-1', '0x10', '1e3', 'Wed, 99 Foo']) {
    assert.equal(parseRetryAfter(v, 0), undefined, JSON.stringify(v));
  }
});
