/**
 * Three `junction run` processes on one PostgreSQL schema lose nothing when one
 * is killed (SIGKILL) and another stopped (SIGTERM) in the middle of a load.
 *
 * 5,000 messages are posted across the three, each with its Idempotency-Key. The
 * killed node's leases run out (`leaseMs: 2000`) and the others claim its
 * messages; the stopped node drains and hands back what it could not finish. A
 * sender sends again what got no 202. Every key that got one reaches the sink.
 * Each node marks its deliveries (header `x-node`), so a key delivered twice is
 * checked to be one the killed node had in flight: delivered by it before it
 * died, then by another node once the lease had run out.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { runJunction, type JunctionProcess } from '../helpers/child.ts';
import { writeTestConfig } from '../helpers/engine.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { Sender } from '../helpers/sender.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const FILE = 'test/e2e/postgres-crash.test.ts';
const CONCURRENCY = 16;
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
after(() => admin.end());

function config(storeUrl: string, sink: Sink, node: string): string {
  return `
store: ${storeUrl}
log: { level: info }
worker: { concurrency: ${CONCURRENCY}, leaseMs: 2000, pollMs: 20, drainMs: 3000 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    timeoutMs: 5000
    retry: { maxAttempts: 10, baseMs: 20, maxMs: 1000 }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { orderId: id, total: $sum(items.(price * qty)) }
      - deliver: { connector: sink, request: { path: /orders, headers: { x-node: ${node} } } }
`;
}

describe('three nodes on PostgreSQL', { skip: unavailable ?? false }, () => {
  it('deliver every accepted message through a SIGKILL of one and a SIGTERM of another; only what the killed one had in flight twice', { timeout: 240_000 }, async (t) => {
    const N = 5000;
    const schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
    const storeUrl = `${PG_URL}?schema=${schema}&pool_max=4`;
    const sink = await startTestSink(t);

    const names = ['n0', 'n1', 'n2'];
    const nodes: JunctionProcess[] = [];
    for (const name of names) {
      const { configFile } = writeTestConfig(t, config(storeUrl, sink, name));
      const node = await runJunction(configFile);
      t.after(() => node.child.kill('SIGKILL'));
      nodes.push(node);
    }
    const [killed, stopped, survivor] = nodes as [JunctionProcess, JunctionProcess, JunctionProcess];
    let goneAt = Infinity;
    killed.child.once('exit', () => (goneAt = Date.now()));
    let killAt = Infinity;

    const sender = new Sender(
      nodes.map((n) => n.url),
      '/hooks/orders',
    );
    t.after(() => sender.close());
    const keys = Array.from({ length: N }, (_, i) => `order-${i}`);
    let stopping: Promise<number | string> | undefined;
    await sender.stream(keys, {
      concurrency: 24,
      onAnswer: () => {
        if (killAt === Infinity && sender.accepted.size >= N / 3) {
          killAt = Date.now();
          killed.child.kill('SIGKILL');
        }
        if (stopping === undefined && sender.accepted.size >= (2 * N) / 3) {
          stopped.child.kill('SIGTERM');
          stopping = stopped.exited;
        }
      },
    });
    assert.equal(await killed.exited, 'SIGKILL');
    assert.ok(stopping, 'the second node was stopped during the load');
    assert.equal(await stopping, 0, stopped.output());
    const acceptedBefore = sender.accepted.size;
    assert.ok(acceptedBefore >= (2 * N) / 3 && acceptedBefore < N, `accepted during the load: ${acceptedBefore}`);

    // What got no 202 (the killed node's connections failed, the stopped one answered 503) goes to the survivor.
    const refused = sender.pending().length;
    await sender.resend([2], { concurrency: 24, pauseMs: 200, rounds: 10 });
    assert.equal(sender.accepted.size, N, 'every message is accepted in the end');

    await sink.waitFor((s) => s.received().size === N, 120_000);
    survivor.child.kill('SIGTERM');
    assert.equal(await survivor.exited, 0, survivor.output());

    const received = sink.received();
    assert.deepEqual(new Set(received.keys()), new Set(keys), 'the keys delivered are exactly the keys accepted');
    const twice = [...received].filter(([, n]) => n > 1).map(([k]) => k);
    const byNode = (node: string): number => sink.requests.filter((r) => r.headers['x-node'] === node && r.status === 200).length;
    console.log(
      `# three nodes on PostgreSQL: ${N} messages, ${acceptedBefore} accepted during the load, ${refused} sent again; ` +
        `delivered by n0 (SIGKILL) ${byNode('n0')}, n1 (SIGTERM) ${byNode('n1')}, n2 ${byNode('n2')}; ` +
        `${twice.length} delivered twice (in flight at the kill)`,
    );
    assert.ok(twice.length <= CONCURRENCY, `${twice.length} keys delivered twice, more than the ${CONCURRENCY} the killed node could hold in flight`);
    for (const key of twice) {
      const deliveries = sink.requests.filter((r) => r.idempotencyKey === key && r.status === 200);
      assert.equal(deliveries.length, 2, `${key}: delivered ${deliveries.length} times`);
      const [first, second] = deliveries as [(typeof deliveries)[0], (typeof deliveries)[0]];
      assert.equal(first.headers['x-node'], 'n0', `${key} was first delivered by ${String(first.headers['x-node'])}, not the killed node`);
      assert.ok(first.at <= goneAt, `${key} was first delivered after the killed node was gone`);
      assert.notEqual(second.headers['x-node'], 'n0', `${key} was delivered twice by the killed node`);
    }

    const store = createPostgresStore({ url: PG_URL, schema, pool: { max: 2 } });
    t.after(() => store.close());
    await store.migrate();
    assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: N, dead: 0 });
    assert.ok(killAt < goneAt);
    // Kept for a look with psql when the test failed.
    await admin.drop(schema);
  });
});
