/**
 * The worker's hold on a message: a lease that lapses while the message is
 * still running (a stalled process) does not start a second run of it, and a
 * retry claimed before its settle's answer arrives is run, not lost to its lease.
 * Messages taken at ingest beyond the slots (`prefetch`) wait in the worker,
 * start as slots free, and go back to the queue unspent when a drain runs out.
 * A wake that comes while a claim is in flight is not lost with that claim.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { it, type TestContext } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { errors } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { CompiledFlow } from '../../src/runtime/flow.ts';
import { Worker } from '../../src/runtime/worker.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { startTestEngine, tempDir, until } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

it('keeps one run of a message whose lease lapsed and came back to it through a claim', async (t) => {
  const sink = await startTestSink(t);
  sink.plan(['slow:800']);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 60000 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", timeoutMs: 5000 }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps: [ { deliver: { connector: sink } } ]
`,
  );
  const { json } = await engine.post('/orders', { n: 1 });
  const id = json.id as string;
  // The request has reached the sink, whose answer is 800 ms away: the message is mid-delivery.
  await engine.until(() => sink.requests.length === 1 && engine.worker.inFlight === 1);

  // As if the process had stalled past its lease: another connection expires it.
  const db = new DatabaseSync(join(engine.dir, 'junction.db'));
  db.prepare('UPDATE messages SET lease_until = 0 WHERE id = ?').run(id);
  db.close();
  engine.worker.notify();

  await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
  assert.equal(sink.requests.length, 1, 'delivered once: the claim did not start a second run');
  const rec = await engine.store.getMessage(id);
  assert.equal(rec?.history.length, 1);
  assert.equal(rec?.history[0]?.outcome, 'ack', 'the outcome was written under the renewed lease');
});

/**
 * A worker on a real SQLite store seen through `store` (`wrap` overrides one of its members), with one flow,
 * `orders`, that `run` runs with `maxAttempts` tries. Not started: the test starts it when its stage is set.
 * The store is closed and the worker stopped when the test ends.
 */
async function workerOnStore(
  t: TestContext,
  opts: { pollMs: number; maxAttempts: number; run: CompiledFlow['run']; wrap: (real: Store, store: Store) => void },
): Promise<{ real: Store; worker: Worker }> {
  const real = openStore('sqlite:./j.db', { baseDir: tempDir(t) });
  await real.migrate();
  t.after(() => real.close());
  const store: Store = Object.create(real) as Store;
  opts.wrap(real, store);
  const flow: CompiledFlow = {
    name: 'orders',
    retry: { maxAttempts: opts.maxAttempts, baseMs: 1, maxMs: 1 },
    checksAtIngress: false,
    respondTimeoutMs: undefined,
    checkIngress: async () => {},
    run: opts.run,
  };
  const worker = new Worker({
    store,
    flows: new Map([['orders', flow]]),
    options: { concurrency: 4, prefetch: 0, leaseMs: 30_000, pollMs: opts.pollMs, drainMs: 1000 },
    logger: silentLogger,
    clock: systemClock,
  });
  t.after(() => worker.stop());
  return { real, worker };
}

it('runs a retry that is claimed before the answer to its own settle comes back', async (t) => {
  // A retry due at once can be claimed while the settle that scheduled it is still on its
  // way back (the store answers both in one batch). The claim is a new attempt, not the
  // same run with a new lease: it must run, not wait 30 s for its lease to lapse.
  const attempts: number[] = [];
  const { real, worker } = await workerOnStore(t, {
    pollMs: 10,
    maxAttempts: 5,
    wrap: (real, store) => {
      store.settle = async (...args) => {
        const held = await real.settle(...args);
        await new Promise((r) => setTimeout(r, 150));
        return held;
      };
    },
    run: async (msg) => {
      attempts.push(msg.attempt);
      if (msg.attempt === 1) throw errors.STEP_FAILED.create(['orders.deliver', 'not yet']);
      return { kind: 'done' };
    },
  });
  const id = (await real.enqueue([{ flow: 'orders', body: { n: 1 } }]))[0]!.id;
  worker.start();
  await until(async () => (await real.getMessage(id))?.state === 'done', 10_000, 20);
  assert.deepEqual(attempts, [1, 2]);
  assert.deepEqual((await real.getMessage(id))?.history.map((a) => a.outcome), ['retry', 'ack']);
});

const prefetchConfig = (sinkUrl: string, drainMs: number): string => `
store: sqlite:./junction.db
worker: { concurrency: 2, prefetch: 3, pollMs: 20, leaseMs: 60000, drainMs: ${drainMs} }
connectors:
  sink: { type: rest, baseUrl: "${sinkUrl}", timeoutMs: 5000 }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps: [ { deliver: { connector: sink } } ]
`;

it('takes messages at ingest beyond its slots, up to prefetch, runs them as slots free, and claims only the rest', async (t) => {
  const sink = await startTestSink(t);
  sink.plan(['slow:400', 'slow:400']);
  const engine = await startTestEngine(t, prefetchConfig(sink.url, 1000));
  const first = await Promise.all([1, 2].map((n) => engine.post('/orders', { n })));
  await engine.until(() => sink.requests.length === 2);
  // Both slots are busy: three more wait in the worker, leased to it, and the last two go to the queue.
  const rest = [];
  for (const n of [3, 4, 5, 6, 7]) rest.push(await engine.post('/orders', { n }));
  assert.deepEqual(
    { inFlight: engine.worker.view().inFlight, waiting: engine.worker.view().waiting, handedOff: engine.worker.view().handedOff },
    { inFlight: 2, waiting: 3, handedOff: 5 },
  );
  const states = await Promise.all([...first, ...rest].map(async (r) => (await engine.store.getMessage(r.json.id as string))?.state));
  assert.deepEqual(states, ['running', 'running', 'running', 'running', 'running', 'queued', 'queued']);

  await engine.until(async () => (await engine.store.stats('orders')).done === 7);
  assert.equal(sink.requests.length, 7, 'each delivered once');
  assert.deepEqual({ handedOff: engine.worker.view().handedOff, claimed: engine.worker.view().claimed }, { handedOff: 5, claimed: 2 });
});

it('renews the leases of waiting messages, and hands them back unspent when the drain time runs out', async (t) => {
  const sink = await startTestSink(t);
  sink.plan(['hang', 'hang']);
  const engine = await startTestEngine(t, prefetchConfig(sink.url, 200));
  const ids: string[] = [];
  for (const n of [1, 2, 3, 4, 5]) ids.push((await engine.post('/orders', { n })).json.id as string);
  await engine.until(() => sink.requests.length === 2 && engine.worker.view().waiting === 3);
  await engine.stop();
  const store = openStore('sqlite:./junction.db', { baseDir: engine.dir });
  t.after(() => store.close());
  await store.migrate();
  for (const id of ids) {
    const rec = await store.getMessage(id);
    assert.equal(rec?.state, 'queued', `${id} is back in the queue`);
    assert.equal(rec?.attempts, 0, 'no attempt spent by the shutdown');
  }
  assert.equal(sink.requests.length, 2, 'the waiting ones never reached the sink');
});

it('claims again at once when notified while a claim is in flight, not a whole pollMs later', async (t) => {
  // Another node's commit is NOTIFY'd while this node's claim runs on a snapshot from before it: that
  // claim comes back empty, and the wake must not be lost with it (the batch flake in postgres-nodes).
  let entered!: () => void;
  const inClaim = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ran: number[] = [];
  const { real, worker } = await workerOnStore(t, {
    // Far beyond the test's patience: only the wake can get the message run in time.
    pollMs: 120_000,
    maxAttempts: 1,
    wrap: (real, store) => {
      let claims = 0;
      store.claim = async (...args) => {
        const got = await real.claim(...args);
        if (++claims === 1) {
          entered();
          await gate;
        }
        return got;
      };
    },
    run: async (msg) => {
      ran.push((msg.body as { n: number }).n);
      return { kind: 'done' };
    },
  });
  worker.start();
  await inClaim;
  const id = (await real.enqueue([{ flow: 'orders', body: { n: 1 } }]))[0]!.id;
  worker.notify();
  release();
  await until(async () => (await real.getMessage(id))?.state === 'done', 10_000, 20);
  assert.deepEqual(ran, [1]);
});
