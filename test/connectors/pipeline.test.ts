import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Call, OutboundResponse, Policy } from '../../src/core/call.ts';
import { buildPipeline, compose, POLICY_ORDER } from '../../src/connectors/pipeline.ts';

const ok: OutboundResponse = { status: 200, headers: {}, body: Buffer.alloc(0), durationMs: 1 };
const req = { method: 'GET', path: '/' };
const ctx = { signal: new AbortController().signal };

function tracing(log: string[], name: string): Policy {
  return (next) => async (r, c) => {
    log.push(`>${name}`);
    const res = await next(r, c);
    log.push(`<${name}`);
    return res;
  };
}

test('the first policy is the outermost', async () => {
  const log: string[] = [];
  const terminal: Call = () => {
    log.push('terminal');
    return Promise.resolve(ok);
  };
  const call = compose([tracing(log, 'a'), tracing(log, 'b')], terminal);
  assert.equal(await call(req, ctx), ok);
  assert.deepEqual(log, ['>a', '>b', 'terminal', '<b', '<a']);
});

test('buildPipeline orders the slots by POLICY_ORDER, whatever the order given', async () => {
  const log: string[] = [];
  const call = buildPipeline({ auth: tracing(log, 'auth'), timeout: tracing(log, 'timeout') }, () => Promise.resolve(ok));
  await call(req, ctx);
  assert.deepEqual(log, ['>timeout', '>auth', '<auth', '<timeout']);
  assert.deepEqual(POLICY_ORDER, ['trace', 'cache', 'circuit', 'rateLimit', 'concurrency', 'timeout', 'auth'], 'the order DESIGN.md settles');
});

test('a policy that calls next() twice for one call is refused with a clear error', async () => {
  let sent = 0;
  const twice: Policy = (next) => async (r, c) => {
    await next(r, c);
    return next(r, c);
  };
  const call = buildPipeline({ auth: twice }, () => {
    sent++;
    return Promise.resolve(ok);
  });
  await assert.rejects(call(req, ctx), /policy auth called next\(\) twice for one call/);
  assert.equal(sent, 1, 'the request went out once');
});

test('a frozen context is guarded too: passed on twice, it is refused', async () => {
  let sent = 0;
  const twiceFrozen: Policy = (next) => async (r, c) => {
    const fixed = Object.freeze({ ...c });
    await next(r, fixed);
    return next(r, fixed);
  };
  const call = compose([twiceFrozen, tracing([], 'inner')], () => {
    sent++;
    return Promise.resolve(ok);
  });
  await assert.rejects(call(req, ctx), /policy twiceFrozen called next\(\) twice for one call/);
  assert.equal(sent, 1);
});

test('the guard leaves nothing a policy can see on the context: no own enumerable key, nothing in a spread', async () => {
  const seen: string[][] = [];
  const look: Policy = (next) => (r, c) => {
    seen.push(Object.keys(c), Object.keys({ ...c }));
    return next(r, c);
  };
  await compose([tracing([], 'outer'), look], () => Promise.resolve(ok))(req, ctx);
  assert.deepEqual(seen, [Object.keys(ctx), Object.keys(ctx)]);
});

test('one context reused by the caller for many calls is not a double next(): each call goes through to the terminal', async () => {
  const log: string[] = [];
  let sent = 0;
  const call = compose([tracing(log, 'a')], () => {
    sent++;
    return Promise.resolve(ok);
  });
  assert.equal(await call(req, ctx), ok);
  assert.equal(await call(req, ctx), ok);
  assert.deepEqual(await Promise.all([call(req, ctx), call(req, ctx)]), [ok, ok]);
  assert.equal(sent, 4, 'every call reached the transport');
  assert.deepEqual(log, ['>a', '<a', '>a', '<a', '>a', '>a', '<a', '<a']);
});

test('a policy may send again on purpose with a fresh context', async () => {
  let sent = 0;
  const again: Policy = (next) => async (r, c) => {
    await next(r, c);
    return next(r, { ...c });
  };
  await compose([again], () => {
    sent++;
    return Promise.resolve(ok);
  })(req, ctx);
  assert.equal(sent, 2);
});

test('compose checks its inputs', () => {
  const terminal: Call = () => Promise.resolve(ok);
  assert.throws(() => compose([42 as unknown as Policy], terminal), /policy #0 must be a function/);
  assert.throws(() => compose([() => undefined as unknown as Call], terminal), /returned undefined, not a call/);
  assert.throws(() => compose([], undefined as unknown as Call), /terminal call must be a function/);
});
