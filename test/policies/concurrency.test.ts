/**
 * @module test/policies/concurrency
 * The bulkhead against a real loopback server that holds every request until
 * the test lets it go, and counts how many it holds at once.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { isJunctionError, type JunctionError } from '../../src/core/errors.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';
import { testRestConnector } from '../helpers/connector.ts';

interface Gate {
  url: string;
  inFlight: number;
  maxInFlight: number;
  answered: number;
  /** Answers the `n` oldest requests held. */
  release(n?: number): void;
  /** From now on, answers every request at once. */
  open(): void;
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
}

async function startGate(t: TestContext): Promise<Gate> {
  const held: ServerResponse[] = [];
  let opened = false;
  const gate = {
    url: '',
    inFlight: 0,
    maxInFlight: 0,
    answered: 0,
    release(n = 1) {
      for (const res of held.splice(0, n)) answer(res);
    },
    open() {
      opened = true;
      gate.release(held.length);
    },
    async until(check: () => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`gate: condition not met within ${timeoutMs}ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  function answer(res: ServerResponse): void {
    gate.inFlight--;
    gate.answered++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      gate.inFlight++;
      gate.maxInFlight = Math.max(gate.maxInFlight, gate.inFlight);
      if (opened) answer(res);
      else held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return gate;
}

const req = { method: 'POST', path: '/x', body: '{}' };

async function rejection(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isJunctionError(e), `a JunctionError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to reject');
}

describe('concurrency policy', () => {
  it('holds calls beyond the limit until a slot frees up, and pauses those beyond the waiting room', async (t) => {
    const gate = await startGate(t);
    const c = testRestConnector(t, 'slow', { baseUrl: gate.url, concurrency: 2 });
    const signal = new AbortController().signal;
    const calls = [1, 2, 3, 4].map(() => c.call(req, { signal }));
    await gate.until(() => gate.inFlight === 2);
    assert.deepEqual(c.state().policies.concurrency, { limit: 2, inFlight: 2, waiting: 2 });

    const busy = await rejection(c.call(req, { signal }));
    assert.equal(busy.code, 'JNC_CONN_BUSY');
    assert.equal(busy.family, 'paused', 'no attempt spent');
    assert.ok((busy.retryAfterMs ?? 0) > 0);

    gate.release(1);
    await gate.until(() => gate.answered === 1 && gate.inFlight === 2);
    assert.deepEqual(c.state().policies.concurrency, { limit: 2, inFlight: 2, waiting: 1 }, 'the slot went to a waiting call');
    gate.open();
    assert.deepEqual((await Promise.all(calls)).map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(gate.maxInFlight, 2, 'never a third request in flight');
    assert.deepEqual(c.state().policies.concurrency, { limit: 2, inFlight: 0, waiting: 0 });
  });

  it('does not count the wait for a slot in the call deadline', async (t) => {
    const gate = await startGate(t);
    const c = testRestConnector(t, 'slow', { baseUrl: gate.url, concurrency: 1, timeoutMs: 500 });
    const signal = new AbortController().signal;
    const first = c.call(req, { signal });
    await gate.until(() => gate.inFlight === 1);
    const second = c.call(req, { signal });
    // The first call holds its slot until its own deadline (0.5 s) ends it; the second waits that long, then its exchange is quick.
    const e = await rejection(first);
    assert.equal(e.code, 'JNC_CONN_TIMEOUT');
    gate.open();
    assert.equal((await second).status, 200, 'not timed out: its deadline started when it got the slot');
  });

  it('ends a wait with JNC_SHUTDOWN when the call is aborted, and frees its place', async (t) => {
    const gate = await startGate(t);
    const c = testRestConnector(t, 'slow', { baseUrl: gate.url, concurrency: 1 });
    const first = c.call(req, { signal: new AbortController().signal });
    await gate.until(() => gate.inFlight === 1);
    const stop = new AbortController();
    const waiting = c.call(req, { signal: stop.signal });
    await new Promise((r) => setImmediate(r));
    assert.equal((c.state().policies.concurrency as { waiting: number }).waiting, 1);
    stop.abort();
    const e = await rejection(waiting);
    assert.equal(e.code, 'JNC_SHUTDOWN');
    assert.deepEqual(c.state().policies.concurrency, { limit: 1, inFlight: 1, waiting: 0 });
    gate.open();
    await first;
    assert.equal(gate.answered, 1, 'the aborted call never left');
  });
});

it('in an engine, concurrency 2 never lets a third request reach the server, and a second connector is not slowed', async (t) => {
  const gate = await startGate(t);
  const fast = await startTestSink(t);
  // 8 workers: the slow connector may hold 2 in flight and 2 waiting, never all 8.
  const engine = await startTestEngine(
    t,
    `
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 5, concurrency: 8 }
connectors:
  slow: { type: rest, baseUrl: "${gate.url}", concurrency: 2, timeoutMs: 30000, retry: { maxAttempts: 1 } }
  fast: { type: rest, baseUrl: "${fast.url}" }
flows:
  toSlow:
    trigger: { http: { path: /slow } }
    steps: [ { deliver: { connector: slow } } ]
  toFast:
    trigger: { http: { path: /fast } }
    steps: [ { deliver: { connector: fast } } ]
`,
    { env: { ADMIN_TOKEN: 'admin-token-for-test-1' } },
  );
  for (let i = 0; i < 20; i++) await engine.post('/slow', { i }, { 'idempotency-key': `slow-${i}` });
  await gate.until(() => gate.inFlight === 2);
  const admin = await engine.app.inject({ url: '/admin/connectors', headers: { authorization: 'Bearer admin-token-for-test-1' } });
  const live = (admin.json() as { connectors: { name: string; state: { policies: Record<string, { limit: number; inFlight: number; waiting: number }> } }[] }).connectors;
  const slow = live.find((c) => c.name === 'slow')?.state.policies.concurrency;
  assert.equal(slow?.limit, 2);
  assert.equal(slow?.inFlight, 2, 'live state in the admin API');
  for (let i = 0; i < 10; i++) await engine.post('/fast', { i }, { 'idempotency-key': `fast-${i}` });
  await fast.waitFor((s) => s.received().size === 10, 10_000);
  assert.equal(gate.answered, 0, 'the fast connector delivered all its messages while the slow one answered none');
  assert.equal(gate.maxInFlight, 2);

  gate.open();
  await engine.until(() => engine.settled.filter((e) => e.flow === 'toSlow' && e.outcome === 'ack').length === 20, 20_000);
  assert.equal(gate.maxInFlight, 2, 'never a third request in flight');
  assert.ok(engine.settled.every((e) => e.outcome !== 'dead'), 'waiting for a slot spent no attempt (maxAttempts 1)');
});
