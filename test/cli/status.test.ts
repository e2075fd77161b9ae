/**
 * `junction status`: the store's figures per flow for a known store state,
 * with or without a server; and a running engine's live figures and circuits
 * through its admin API.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { formatAge } from '../../src/cli/status/overview.ts';
import { openStore } from '../../src/store/open.ts';
import { ManualClock, START_MS } from '../helpers/clock.ts';
import { junction } from '../helpers/cli.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';
import { LEASE_MS, permanentError } from '../store/contract/fixture.ts';

const CONFIG = `
store: sqlite:./j.db
server: { adminToken: "\${env:STATUS_TOKEN}" }
connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010", auth: { bearer: "\${env:CRM_SECRET}" } }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: crm } } ]
  invoices:
    trigger: { http: { path: /hooks/invoices } }
    steps: [ { deliver: { connector: crm } } ]
`;

interface StatusJson {
  flows: { name: string; messages: Record<string, number>; deadLetters: number; oldestQueuedMs: number | null; live?: { ok: number; rate: number; errorRatio: number; p95Ms?: number } }[];
  connectors?: { name: string; type: string; circuit?: string; live: { ok: number } }[];
  live: { available: boolean; url: string | null; reason?: string };
}

/**
 * orders: 2 queued (the oldest created at START_MS), 1 running, 1 done, 2 dead;
 * invoices: nothing. Made with a clock in 2025, so the oldest has waited since then.
 */
async function knownStore(t: TestContext): Promise<string> {
  const dir = tempDir(t);
  const file = join(dir, 'junction.yaml');
  writeFileSync(file, CONFIG);
  const clock = new ManualClock();
  const store = openStore('sqlite:./j.db', { baseDir: dir, clock });
  await store.migrate();
  const flow = 'orders';
  await store.enqueue([1, 2, 3, 4, 5].map((i) => ({ flow, body: { i } })));
  const [done, running, dead1, dead2] = await store.claim({ worker: 'w', limit: 4, leaseMs: LEASE_MS });
  await store.settle(done!, { kind: 'ack' }, null);
  await store.settle(dead1!, { kind: 'dead', error: permanentError() }, null);
  await store.settle(dead2!, { kind: 'dead', error: permanentError() }, null);
  assert.ok(running);
  clock.advance(60_000);
  await store.enqueue([{ flow, body: { i: 6 } }]);
  await store.close();
  return file;
}

describe('junction status, the store part', () => {
  it('counts messages by state per flow, the oldest queued age and dead letters (--json)', async (t) => {
    const file = await knownStore(t);
    const before = Date.now();
    const r = await junction(['status', '--json', '-c', file], { STATUS_TOKEN: undefined, CRM_SECRET: undefined });
    const after = Date.now();
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusJson;
    assert.deepEqual(s.flows.map((f) => [f.name, f.messages, f.deadLetters]), [
      ['orders', { queued: 2, running: 1, done: 1, dead: 2 }, 2],
      ['invoices', { queued: 0, running: 0, done: 0, dead: 0 }, 0],
    ]);
    const age = s.flows[0]!.oldestQueuedMs!;
    assert.ok(age >= before - START_MS && age <= after - START_MS, `the oldest queued message was created at START_MS (age ${age})`);
    assert.equal(s.flows[1]!.oldestQueuedMs, null);
    assert.equal(s.live.available, false);
    assert.match(s.live.reason!, /server\.adminToken: environment variable STATUS_TOKEN is not set/);
  });

  it('prints a table, and says why the live part is missing when no server answers', async (t) => {
    const file = await knownStore(t);
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const r = await junction(['status', '-c', file, '--url', `http://127.0.0.1:${port}`], { STATUS_TOKEN: 'a-token-of-some-length', CRM_SECRET: undefined });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^FLOW\s+QUEUED\s+RUNNING\s+DONE\s+DEAD\s+OLDEST QUEUED$/);
    assert.match(lines[1]!, /^orders\s+2\s+1\s+1\s+2\s+\d+d \d+h$/);
    assert.match(lines[2]!, /^invoices\s+0\s+0\s+0\s+0\s+-$/);
    assert.match(r.stdout, new RegExp(`live figures unavailable: no server is listening at http://127\\.0\\.0\\.1:${port} `));
  });

  it('ages read in two units at most', () => {
    assert.equal(formatAge(45_000), '45s');
    assert.equal(formatAge(252_000), '4m 12s');
    assert.equal(formatAge((3 * 60 + 5) * 60_000), '3h 5m');
    assert.equal(formatAge((2 * 24 + 4) * 3_600_000), '2d 4h');
  });
});

describe('junction status with a running engine', () => {
  async function running(t: TestContext) {
    const sink = await startTestSink(t);
    const env = { STATUS_TOKEN: 'status-admin-token-1' };
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./j.db
server: { adminToken: "\${env:STATUS_TOKEN}" }
worker: { pollMs: 20 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    circuitBreaker: { failureRatio: 0.5, minRequests: 100, windowMs: 10000, openMs: 30000 }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: sink, request: { method: POST, path: /orders } } } ]
`,
      { env },
    );
    for (let i = 0; i < 4; i++) assert.equal((await engine.post('/hooks/orders', { i })).status, 202);
    await engine.until(async () => (await engine.store.stats('orders')).done === 4);
    return { engine, env };
  }

  it('adds the server\'s live figures per flow and connector, with the circuit', async (t) => {
    const { engine, env } = await running(t);
    const r = await junction(['status', '--json', '-c', engine.configFile, '--url', engine.url], env);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusJson;
    assert.deepEqual(s.live, { available: true, url: engine.url });
    const orders = s.flows.find((f) => f.name === 'orders')!;
    assert.deepEqual(orders.messages, { queued: 0, running: 0, done: 4, dead: 0 });
    assert.equal(orders.live?.ok, 4);
    assert.equal(orders.live?.errorRatio, 0);
    assert.ok(orders.live!.rate > 0);
    assert.deepEqual(s.connectors?.map((c) => [c.name, c.type, c.circuit, c.live.ok]), [['sink', 'rest', 'closed', 4]]);

    const table = await junction(['status', '-c', engine.configFile, '--url', engine.url], env);
    assert.match(table.stdout, /^FLOW\s+QUEUED\s+RUNNING\s+DONE\s+DEAD\s+OLDEST QUEUED\s+RATE\/S\s+ERRORS\s+P95$/m);
    assert.match(table.stdout, /^orders\s+0\s+0\s+4\s+0\s+-\s+\d+\.\d\s+0\.0%\s+\d+ms$/m);
    assert.match(table.stdout, /^sink\s+rest\s+closed\s+\d+\.\d\s+0\.0%\s+\d+ms$/m);
  });

  it('a wrong token: the live part is unavailable, saying the server refused it', async (t) => {
    const { engine } = await running(t);
    const r = await junction(['status', '--json', '-c', engine.configFile, '--url', engine.url], { STATUS_TOKEN: 'not-the-right-token' });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusJson;
    assert.equal(s.live.available, false);
    assert.match(s.live.reason!, /answered 401 JNC_AUTH_DENIED/);
    assert.equal(s.flows[0]!.messages.done, 4);
  });
});
