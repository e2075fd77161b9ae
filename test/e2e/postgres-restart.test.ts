/**
 * The database going away and coming back, on a PostgreSQL cluster of the test's
 * own (the shared server on 5432 serves other tests meanwhile and is never stopped):
 * - at start-up, `junction run` stops with an error that names the server and the cause;
 * - under a load, ingest answers 503 with Retry-After while the server is down and
 *   `/readyz` says not ready; once it is back, every post a sender sends again is
 *   accepted, and every key that got a 202 is delivered. Only messages in flight
 *   when the server went down may be delivered twice;
 * - the store's pool keeps no dead connection, and an `exclusive` holder is told
 *   its lock is lost, which can be taken again once the server is back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { runJunction } from '../helpers/child.ts';
import { startTestEngine, until, writeTestConfig } from '../helpers/engine.ts';
import { privatePostgres } from '../helpers/private-postgres.ts';
import { Sender, type Answer } from '../helpers/sender.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';
import { message } from '../store/contract/fixture.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CONCURRENCY = 16;

function config(storeUrl: string, sink: Sink): string {
  return `
store: ${storeUrl}
log: { level: info }
worker: { concurrency: ${CONCURRENCY}, leaseMs: 2000, pollMs: 20, drainMs: 2000 }
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
      - deliver: { connector: sink, request: { path: /orders } }
`;
}

/** The last /readyz answer that was not a 200, to say why a wait for ready failed. */
let lastNotReady = '';

async function readyz(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/readyz`);
    const text = await res.text();
    if (res.status !== 200) lastNotReady = `${res.status} ${text}`;
    return res.status;
  } catch (e) {
    lastNotReady = String(e);
    return 0;
  }
}

describe('PostgreSQL going away', () => {
  it('at start-up, junction run stops with an error naming the server and the cause', { timeout: 60_000 }, async (t) => {
    const pg = await privatePostgres(t);
    if (!pg) return;
    await pg.stop();
    const sink = await startTestSink(t);
    const { configFile } = writeTestConfig(t, config(`${pg.url}?pool_max=2`, sink));
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)), 'run', '-c', configFile, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0, out);
    assert.match(out, /JNC_STORE_UNAVAILABLE/);
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${pg.port}/postgres`), 'names the host, port and database');
    assert.match(out, /ECONNREFUSED/, 'names the cause');
  });

  it('the pool keeps no dead connection, and an exclusive holder loses its lock with the server and can take it again', { timeout: 60_000 }, async (t) => {
    const pg = await privatePostgres(t);
    if (!pg) return;
    const store = createPostgresStore({ url: pg.url, pool: { max: 4 }, lockHeartbeatMs: 200, connectionTimeoutMs: 2000 });
    t.after(() => store.close());
    await store.migrate();
    // Every connection of the pool opened, then idle in it when the server stops.
    await Promise.all(Array.from({ length: 3 }, (_, i) => store.enqueue([message({ dedupeKey: `before-${i}` })])));
    let reason: unknown;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = store.exclusive('junction:test', async (signal) => {
      held();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      reason = signal.reason;
    });
    await holding;

    await pg.stop();
    assert.equal(await holder, true, 'fn returned once told the lock was lost');
    assert.equal((reason as { code?: string }).code, 'JNC_LOCK_LOST');
    await assert.rejects(store.ping(), { code: 'JNC_STORE_UNAVAILABLE' });
    await assert.rejects(store.enqueue([message({ dedupeKey: 'while-down' })]), { code: 'JNC_STORE_UNAVAILABLE' });

    await pg.start();
    // The first calls after the restart succeed: no connection of before the stop is handed out.
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.enqueue([message({ dedupeKey: `after-${i}` })])));
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    assert.equal((await store.stats()).queued, 3 + 8, 'what was committed before the stop is there, the refused enqueue is not');
    assert.equal(await store.exclusive('junction:test', async () => {}), true, 'the lock is free again');
  });

  it('/readyz says not ready when the store does not answer within its bound, and ready again once it does', { timeout: 60_000 }, async (t) => {
    const pg = await privatePostgres(t);
    if (!pg) return;
    const sink = await startTestSink(t);
    // One connection: a lock holder that keeps it leaves a ping nothing to run on, as a pool exhausted by stuck statements would.
    const engine = await startTestEngine(t, config(`${pg.url}?pool_max=1`, sink), { workers: false });
    assert.equal(await readyz(engine.url), 200);
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = engine.store.exclusive('junction:test', (signal) => {
      holding();
      // Also let go when the store closes, so that a failed assertion does not leave the engine's stop waiting.
      return new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    });
    t.after(() => release());
    assert.equal(await Promise.race([held.then(() => 'held'), holder]), 'held', 'the lock is taken');
    const res = await fetch(`${engine.url}/readyz`);
    const problem = (await res.json()) as { code: string; detail: string };
    assert.equal(res.status, 503);
    assert.equal(problem.code, 'JNC_UNAVAILABLE');
    assert.match(problem.detail, /store does not answer/);
    release();
    await holder;
    await until(async () => (await readyz(engine.url)) === 200, 15_000, 50);
  });

  it('under a load, answers 503 with Retry-After while the server is down, and loses nothing that got a 202 once it is back', { timeout: 180_000 }, async (t) => {
    const pg = await privatePostgres(t);
    if (!pg) return;
    const N = 1500;
    // Slow enough that the worker has messages in flight when the server goes.
    const sink = await startTestSink(t, { default: 'slow:5' });
    const { configFile } = writeTestConfig(t, config(`${pg.url}?pool_max=6&statement_timeout=5000`, sink));
    const node = await runJunction(configFile);
    t.after(() => node.child.kill('SIGKILL'));
    const sender = new Sender([node.url], '/hooks/orders');
    t.after(() => sender.close());
    const keys = Array.from({ length: N }, (_, i) => `order-${i}`);

    let phase: 'up' | 'stopping' | 'down' | 'starting' | 'back' | 'failed' = 'up';
    /** When the server was found stopped (pg_ctl returned) and when it was told to start: posts sent between must all be refused. */
    let downAt = Infinity;
    let startAt = Infinity;
    const sentWhileDown = (): Answer[] => sender.answers.filter((a) => a.sentAt >= downAt && a.at <= startAt);
    const readyWhileDown: number[] = [];
    let outage: Promise<void> | undefined;
    const goDownAndBack = async (): Promise<void> => {
      phase = 'stopping';
      await pg.stop();
      downAt = Date.now();
      phase = 'down';
      // The load goes on against a node whose database is gone.
      await until(() => sentWhileDown().length >= 50, 30_000, 10);
      readyWhileDown.push(await readyz(node.url));
      startAt = Date.now();
      phase = 'starting';
      await pg.start();
      await until(async () => (await readyz(node.url)) === 200, 30_000, 50).catch((e: unknown) => {
        throw new Error(`not ready 30 s after the server started; /readyz: ${lastNotReady}\n${node.output().slice(-4000)}`, { cause: e });
      });
      phase = 'back';
    };

    // The sender: each key once, then, until the server is back, the refused ones again (same key), a little later.
    const fresh = [...keys];
    const poster = async (): Promise<void> => {
      for (;;) {
        // 'failed': the outage went wrong and the test fails on it; the senders stop rather than post forever.
        if (phase === 'failed') return;
        const key = fresh.shift() ?? (phase === 'back' ? undefined : sender.pending()[0]);
        if (key === undefined) {
          if (phase === 'back' || phase === 'up') return;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const answer = await sender.post(key, 0);
        if (phase === 'up' && sender.accepted.size >= N / 3) {
          outage = goDownAndBack().catch((e: unknown) => {
            phase = 'failed';
            throw e;
          });
          // Awaited after the senders stop; until then its failure is not an unhandled rejection.
          outage.catch(() => undefined);
        }
        if (answer.status !== 202) await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.all(Array.from({ length: 8 }, poster));
    await outage;
    assert.equal(phase, 'back', 'the server was stopped and started during the load');

    // Everything sent to the node while its database was down was refused with a 503, Retry-After and our code.
    const down = sentWhileDown();
    assert.ok(down.length >= 50, `${down.length} posts while the server was down`);
    for (const a of down) {
      assert.deepEqual([a.status, a.code, a.retryAfter], [503, 'JNC_STORE_UNAVAILABLE', '5'], `${a.key} while down`);
    }
    assert.deepEqual(readyWhileDown, [503], '/readyz says not ready while the server is down');
    // Around the stop and the start, a post is accepted or refused with a 503: never another answer.
    const statuses = new Set(sender.answers.map((a) => a.status));
    assert.deepEqual([...statuses].filter((s) => s !== 202 && s !== 503), [], 'only 202 and 503');

    // The sender sends again, with the same key, every post that did not get a 202.
    const refused = sender.answers.filter((a) => a.status !== 202).length;
    await sender.resend([0], { concurrency: 8, pauseMs: 200, rounds: 20 });
    assert.equal(sender.accepted.size, N);

    await sink.waitFor((s) => s.received().size === N, 60_000);
    // A message whose delivery was in flight when the server went could not record its outcome: it stays
    // running until its lease (2 s) runs out, then runs again. Wait for those before counting.
    const store = createPostgresStore({ url: pg.url, pool: { max: 2 } });
    t.after(() => store.close());
    await store.migrate();
    await until(async () => (await store.stats()).done === N, 30_000, 100);
    const received = sink.received();
    assert.deepEqual(new Set(received.keys()), new Set(keys), 'every key that got a 202 is delivered');
    const twice = [...received].filter(([, n]) => n > 1).map(([k]) => k);
    console.log(
      `# postgres restart: ${N} keys, ${sender.answers.length} posts, ${down.length} sent while the server was down (all 503), ` +
        `${refused} refused in all and sent again; ${twice.length} delivered twice (in flight when the server went)`,
    );
    // Only a message in flight when the server went down can be delivered twice: its outcome could not be
    // committed, its lease ran out, and it ran again. The worker holds at most `concurrency` of those.
    assert.ok(twice.length <= CONCURRENCY, `${twice.length} keys delivered twice, more than the ${CONCURRENCY} the worker holds in flight`);

    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, node.output());
    assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: N, dead: 0 });
  });
});
