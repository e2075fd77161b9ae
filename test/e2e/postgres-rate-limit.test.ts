/**
 * A connector's outbound rate limit shared by three engines on one PostgreSQL
 * schema holds for the three together: a measured property, not a unit test.
 *
 * What is measured: with a backlog on every node (more messages than the limit
 * lets through for the whole measurement), the requests the sink received in a
 * steady window (after the first second, which may carry an opening burst, and
 * after the last message was posted, so that the posting does not take the CPU
 * the deliveries need, and before the backlog runs out) divided by the window's
 * length. It must be within
 * 10% of the limit R. Three separate limits (no sharing) would deliver about 3R,
 * and the bound catches that. The window is several of the limiter's 1 s
 * windows long, since one fixed window may let through up to 2R across its edge.
 * On this 2-core machine the nodes keep up with R = 30 comfortably; a machine
 * too slow to deliver R would fail low, which the message says.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { startTestEngine, until } from '../helpers/engine.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { startTestSink } from '../helpers/sink.ts';

const FILE = 'test/e2e/postgres-rate-limit.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
let schema = '';

if (unavailable === undefined) {
  beforeEach(async (t) => {
    schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
  });
  afterEach(async (t) => {
    if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });
  after(() => admin.end());
}

const R = 30;
const NODES = 3;
/** Messages per node: the backlog lasts about MESSAGES * NODES / R = 13 s, of which posting takes 1–4 s. */
const MESSAGES = 130;
const SKIP_MS = 1000;
const WINDOW_MS = 6000;

describe('an outbound rate limit shared through PostgreSQL', unavailable === undefined ? {} : { skip: unavailable }, () => {
  it(`three nodes sharing ${R}/s deliver within 10% of ${R}/s together`, async (t) => {
    const sink = await startTestSink(t);
    const yaml = `
store: ${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}&pool_max=6
worker: { pollMs: 50, leaseMs: 30000, drainMs: 1000 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    timeoutMs: 5000
    rateLimit: { perSecond: ${R} }
flows:
  relay:
    trigger: { http: { path: /in } }
    steps:
      - deliver: { connector: sink, request: { path: /out } }
`;
    const nodes = [];
    for (let i = 0; i < NODES; i++) nodes.push(await startTestEngine(t, yaml));
    // The backlog goes in across all three nodes at once.
    const ids = (
      await Promise.all(
        nodes.map(async (node, n) => {
          const out: string[] = [];
          for (let i = 0; i < MESSAGES; i++) out.push((await node.post('/in', { node: n, i })).json.id as string);
          return out;
        }),
      )
    ).flat();
    assert.equal(ids.length, NODES * MESSAGES);
    const posted = Date.now();
    await until(() => sink.received().size === ids.length, 60_000, 100);

    const times = sink.requests.map((r) => r.at).sort((a, b) => a - b);
    const from = Math.max(times[0]! + SKIP_MS, posted);
    const to = from + WINDOW_MS;
    assert.ok(times.at(-1)! > to, `the backlog lasted past the measured window (it ran out ${times.at(-1)! - times[0]!} ms after the first request)`);
    const inWindow = times.filter((at) => at >= from && at < to).length;
    const rate = inWindow / (WINDOW_MS / 1000);
    t.diagnostic(`measured ${rate.toFixed(1)}/s over ${WINDOW_MS} ms for a shared limit of ${R}/s (${NODES} nodes, ${ids.length} messages)`);
    assert.ok(Math.abs(rate - R) <= R * 0.1, `${rate}/s is not within 10% of ${R}/s`);
    for (const id of ids) assert.equal(sink.received().get(id), 1, `message ${id} delivered once`);
  });
});
