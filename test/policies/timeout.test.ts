import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test, type TestContext } from 'node:test';
import type { Call, CallContext, OutboundResponse } from '../../src/core/call.ts';
import { errors, isJunctionError } from '../../src/core/errors.ts';
import { timeoutPolicy } from '../../src/policies/timeout.ts';

const ok: OutboundResponse = { status: 200, headers: {}, body: Buffer.alloc(0), durationMs: 1 };
const req = { method: 'GET', path: '/' };

/** An inner call that never settles and ignores its signal, recording the context it got. */
function stuck(seen: CallContext[]): Call {
  return (_req, ctx) => {
    seen.push(ctx);
    return new Promise<never>(() => {});
  };
}

function fakeTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

test('passes the answer through and combines the signals', async () => {
  let inner: CallContext | undefined;
  const call = timeoutPolicy('crm', 1000)((_r, ctx) => {
    inner = ctx;
    return Promise.resolve(ok);
  });
  const outer = new AbortController();
  assert.equal(await call(req, { signal: outer.signal }), ok);
  assert.notEqual(inner?.signal, outer.signal);
});

test('rejects with JNC_CONN_TIMEOUT at the deadline, even when the inner call ignores its signal', async (t) => {
  fakeTimers(t);
  const seen: CallContext[] = [];
  const pending = timeoutPolicy('crm', 250)(stuck(seen))(req, { signal: new AbortController().signal });
  t.mock.timers.tick(249);
  assert.equal(seen[0]?.signal.aborted, false);
  t.mock.timers.tick(1);
  await assert.rejects(pending, (e) => isJunctionError(e) && e.code === 'JNC_CONN_TIMEOUT' && /crm: call timed out after 250ms/.test(e.message));
  assert.equal(seen[0]?.signal.aborted, true, 'the inner call was told to stop');
  assert.ok(isJunctionError(seen[0]?.signal.reason), 'with the timeout as the reason');
});

test('an abort of ctx.signal rejects with JNC_SHUTDOWN', async (t) => {
  fakeTimers(t);
  const ac = new AbortController();
  const seen: CallContext[] = [];
  const pending = timeoutPolicy('crm', 250)(stuck(seen))(req, { signal: ac.signal });
  ac.abort();
  await assert.rejects(pending, (e) => isJunctionError(e) && e.code === 'JNC_SHUTDOWN');
  assert.equal(seen[0]?.signal.aborted, true);
});

test('shutdown wins when the inner call rejects with the timeout after ctx.signal aborted', async () => {
  const ac = new AbortController();
  const call = timeoutPolicy('crm', 1000)(() => {
    ac.abort();
    return Promise.reject(errors.CONN_TIMEOUT.create(['crm', 'headers', 5]));
  });
  await assert.rejects(call(req, { signal: ac.signal }), (e) => isJunctionError(e) && e.code === 'JNC_SHUTDOWN');
});

test('an already aborted ctx.signal rejects with JNC_SHUTDOWN without calling next', async () => {
  const seen: CallContext[] = [];
  await assert.rejects(timeoutPolicy('crm', 1000)(stuck(seen))(req, { signal: AbortSignal.abort() }), (e) => isJunctionError(e) && e.code === 'JNC_SHUTDOWN');
  assert.equal(seen.length, 0);
});

test('other errors of the inner call pass through', async () => {
  const boom = errors.CONN_NETWORK.create(['crm', 'ECONNRESET']);
  const call = timeoutPolicy('crm', 1000)(() => Promise.reject(boom));
  await assert.rejects(call(req, { signal: new AbortController().signal }), (e) => e === boom);
});

test("leaves nothing on the caller's long-lived signal once a call is over, whether it answered or failed", async () => {
  const worker = new AbortController();
  const answers = timeoutPolicy('crm', 1000)(() => Promise.resolve(ok));
  const failures = timeoutPolicy('crm', 1000)(() => Promise.reject(new Error('reset')));
  for (let i = 0; i < 50; i++) {
    await answers(req, { signal: worker.signal });
    await assert.rejects(failures(req, { signal: worker.signal }), /reset/);
  }
  assert.equal(getEventListeners(worker.signal, 'abort').length, 0);
});
