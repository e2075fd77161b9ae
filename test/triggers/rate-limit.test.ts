/**
 * @module test/triggers/rate-limit
 * `http.rateLimit`: each consumer has an allowance of its own per window; over
 * it, a 429 problem with Retry-After and the draft RateLimit fields; a noisy
 * consumer never spends a quiet one's allowance.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { postJson, startIngressEngine, storedCount } from '../helpers/ingress.ts';

const NOISY = 'noisy_4Fh8Jk2Lq9Zx';
const QUIET = 'quiet_7Yt3Rb6Nm1Wc';
const env = { NOISY, QUIET };

const FLOWS = `
  limited:
    trigger:
      http:
        path: /hooks/limited
        auth:
          apiKeys:
            - { key: "\${env:NOISY}", consumer: noisy }
            - { key: "\${env:QUIET}", consumer: quiet }
        rateLimit: { perKey: 5, per: 1m }
    steps:
      - deliver: { connector: sink }
  open:
    trigger:
      http:
        path: /hooks/open
        rateLimit: { perKey: 2, per: 1m }
    steps:
      - deliver: { connector: sink }
  bursty:
    trigger:
      http:
        path: /hooks/bursty
        rateLimit: { perKey: 2, per: 1m, burst: 3 }
    steps:
      - deliver: { connector: sink }
  brief:
    trigger:
      http:
        path: /hooks/brief
        rateLimit: { perKey: 1, per: 300ms }
    steps:
      - deliver: { connector: sink }
  unlimited:
    trigger: { http: { path: /hooks/unlimited } }
    steps:
      - deliver: { connector: sink }
`;

// Windows of a minute, so that no window resets while a test runs; workers off: nothing here is about delivery.
const start = (t: TestContext) => startIngressEngine(t, FLOWS, { env });

describe('inbound rate limit', () => {
  it('keeps consumers apart: a noisy one gets 429s while a quiet one sending at the same time gets none', async (t) => {
    const engine = await start(t);
    const noisy = Array.from({ length: 20 }, () => postJson(engine, '/hooks/limited', { 'x-api-key': NOISY }));
    const quiet = Array.from({ length: 5 }, () => postJson(engine, '/hooks/limited', { 'x-api-key': QUIET }));
    // Interleaved: both consumers' requests are in flight together.
    const [n, q] = await Promise.all([Promise.all(noisy), Promise.all(quiet)]);
    const count = (rs: typeof n, status: number) => rs.filter((r) => r.statusCode === status).length;
    assert.equal(count(n, 202), 5);
    assert.equal(count(n, 429), 15);
    assert.equal(count(q, 202), 5);
    assert.equal(count(q, 429), 0);
    // A refused request stores nothing.
    assert.equal(await storedCount(engine), 10);
  });

  it('answers 429 with Retry-After, RateLimit-Policy and RateLimit, and a problem that never holds the key', async (t) => {
    const engine = await start(t);
    for (let i = 0; i < 5; i++) assert.equal((await postJson(engine, '/hooks/limited', { 'x-api-key': NOISY })).statusCode, 202);
    const res = await postJson(engine, '/hooks/limited', { authorization: `Bearer ${NOISY}` });
    assert.equal(res.statusCode, 429);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(res.headers['retry-after'])}`);
    assert.equal(res.headers['ratelimit-policy'], '"per-consumer";q=5;w=60');
    assert.equal(res.headers.ratelimit, `"per-consumer";r=0;t=${retryAfter}`);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.status, 429);
    assert.equal(body.code, 'JNC_RATE_LIMITED');
    assert.equal(body.title, 'Too Many Requests');
    assert.match(String(body.detail), new RegExp(`^Too many requests from noisy: the limit is 5 per 1m; retry in ${retryAfter}s$`));
    assert.deepEqual(body['violated-policies'], ['per-consumer']);
    assert.ok(!(JSON.stringify(res.headers) + res.payload).includes(NOISY));
  });

  it('tells every admitted caller what is left of its allowance', async (t) => {
    const engine = await start(t);
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postJson(engine, '/hooks/limited', { 'x-api-key': QUIET });
      assert.equal(res.statusCode, 202);
      assert.equal(res.headers['ratelimit-policy'], '"per-consumer";q=5;w=60');
      const m = /^"per-consumer";r=(\d+);t=(\d+)$/.exec(String(res.headers.ratelimit));
      assert.ok(m, `RateLimit ${String(res.headers.ratelimit)}`);
      assert.ok(Number(m[2]) >= 1 && Number(m[2]) <= 60);
      remaining.push(m[1]!);
    }
    assert.deepEqual(remaining, ['4', '3', '2', '1', '0']);
  });

  it('carries the RateLimit fields on a refusal that comes after admission (a bad body)', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({
      method: 'POST',
      url: '/hooks/limited',
      headers: { 'content-type': 'application/json', 'x-api-key': QUIET, 'idempotency-key': 'k'.repeat(300) },
      payload: { id: 1 },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers.ratelimit?.toString().startsWith('"per-consumer";r=4;'), true);
  });

  it('counts anonymous callers per IP address', async (t) => {
    const engine = await start(t);
    const from = (ip: string) => postJson(engine, '/hooks/open', {}, ip);
    assert.equal((await from('10.0.0.1')).statusCode, 202);
    assert.equal((await from('10.0.0.1')).statusCode, 202);
    const third = await from('10.0.0.1');
    assert.equal(third.statusCode, 429);
    assert.match(String((third.json() as { detail: string }).detail), /from 10\.0\.0\.1 \(anonymous\)/);
    assert.equal((await from('10.0.0.2')).statusCode, 202);
  });

  it('lets a consumer spend its burst reserve once its allowance is gone', async (t) => {
    const engine = await start(t);
    const statuses: number[] = [];
    const left: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await postJson(engine, '/hooks/bursty');
      statuses.push(res.statusCode);
      left.push(/r=(\d+)/.exec(String(res.headers.ratelimit))?.[1] ?? '?');
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429]);
    // The policy advertises the steady allowance; burst requests leave it at 0.
    assert.deepEqual(left, ['1', '0', '0', '0', '0', '0']);
  });

  it('admits a consumer again once its window has passed; a sub-second window has no w', async (t) => {
    const engine = await start(t);
    const first = await postJson(engine, '/hooks/brief');
    assert.equal(first.statusCode, 202);
    assert.equal(first.headers['ratelimit-policy'], '"per-consumer";q=1');
    assert.equal((await postJson(engine, '/hooks/brief')).statusCode, 429);
    await engine.until(async () => (await postJson(engine, '/hooks/brief')).statusCode === 202, 5000);
  });

  it('adds no RateLimit fields to a trigger without rateLimit', async (t) => {
    const engine = await start(t);
    const res = await postJson(engine, '/hooks/unlimited');
    assert.equal(res.statusCode, 202);
    assert.equal(res.headers.ratelimit, undefined);
    assert.equal(res.headers['ratelimit-policy'], undefined);
  });
});

describe('rateLimit config', () => {
  const issues = (rateLimit: string): string[] => {
    const parsed = parseConfigText(
      `flows:\n  a:\n    trigger: { http: { path: /a, rateLimit: ${rateLimit} } }\n    steps: [ { filter: "true" } ]\n`,
      '/nonexistent/junction.yaml',
    );
    return parsed.ok ? [] : parsed.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
  };
  const HINT = /write a number of milliseconds, or a number with a unit: 500ms, 1s, 5m, 1h, 1d$/;

  it('accepts a duration with a unit or a number of milliseconds', () => {
    for (const per of ['1s', '1m', '500ms', '1.5h', '1d', '250']) assert.deepEqual(issues(`{ perKey: 10, per: ${per} }`), [], per);
  });

  it('names a bad duration at its line, with what would be accepted', () => {
    for (const [per, said] of [
      ['1x', /"1x" is not a duration greater than zero; /],
      ['"1 sec"', /"1 sec" is not a duration greater than zero; /],
      ['0', /0 is not a duration greater than zero; /],
      ['-1s', /"-1s" is not a duration greater than zero; /],
      ['true', /expected a duration; /],
    ] as const) {
      const found = issues(`{ perKey: 10, per: ${per} }`);
      assert.equal(found.length, 1, `${per}: ${found.join('; ')}`);
      assert.match(found[0]!, /^3 flows\.a\.trigger\.http\.rateLimit\.per: /);
      assert.match(found[0]!, said);
      assert.match(found[0]!, HINT);
    }
  });

  it('requires perKey and per, and refuses unknown keys', () => {
    const found = issues('{ perSecond: 10 }').join('\n');
    assert.match(found, /rateLimit\.perKey/);
    assert.match(found, /rateLimit\.per\b/);
    assert.match(found, /perSecond/);
  });
});
