/**
 * No accepted message is lost through a `kill -9`, and a graceful stop (SIGTERM)
 * hands in-flight work back without spending attempts.
 *
 * The price of a kill is bounded: only a message that was in flight (claimed,
 * delivered, its outcome not yet committed) may reach the receiver twice, and
 * the worker holds at most `concurrency` of those at once. An outcome is
 * committed before its slot is freed, so an ack written late (or lost) shows
 * as more duplicates than slots.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { openStore } from '../../src/store/open.ts';
import { runJunction } from '../helpers/child.ts';
import { writeTestConfig } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

interface WorkerSettings {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  drainMs: number;
}

function config(sink: Sink, w: WorkerSettings): string {
  const worker = `{ concurrency: ${w.concurrency}, leaseMs: ${w.leaseMs}, pollMs: ${w.pollMs}, drainMs: ${w.drainMs} }`;
  return `
store: sqlite:./junction.db
log: { level: info }
worker: ${worker}
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

/** Posts one message per key; resolves with the keys that got a 202, each with the message id. */
async function postAll(url: string, keys: string[], onAccepted: (n: number) => void): Promise<Map<string, string>> {
  const pool = new Pool(url, { connections: 64 });
  const accepted = new Map<string, string>();
  await Promise.all(
    keys.map(async (key) => {
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/hooks/orders',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ id: key, items: [{ price: 1, qty: 2 }] }),
        });
        const text = await res.body.text();
        if (res.statusCode === 202) {
          accepted.set(key, (JSON.parse(text) as { id: string }).id);
          onAccepted(accepted.size);
        }
      } catch {
        // The server died under us: the sender does not know, and will send again.
      }
    }),
  );
  await pool.destroy();
  return accepted;
}

describe('crash safety', () => {
  it('delivers every message that got a 202 through a SIGKILL mid-load, each key at least once', { timeout: 120_000 }, async (t) => {
    const N = 2000;
    const sink = await startTestSink(t);
    const worker: WorkerSettings = { concurrency: 32, leaseMs: 3000, pollMs: 20, drainMs: 2000 };
    const { dir, configFile } = writeTestConfig(t, config(sink, worker));
    const keys = Array.from({ length: N }, (_, i) => `order-${i}`);

    const first = await runJunction(configFile);
    t.after(() => first.child.kill('SIGKILL'));
    // The process delivers until it is actually gone, a moment after the signal: that is the bound.
    let goneAt = Infinity;
    first.child.once('exit', () => (goneAt = Date.now()));
    let killAt = Infinity;
    const acceptedBefore = await postAll(first.url, keys, (n) => {
      if (n === N / 2 && killAt === Infinity) {
        killAt = Date.now();
        first.child.kill('SIGKILL');
      }
    });
    assert.equal(await first.exited, 'SIGKILL');
    assert.ok(acceptedBefore.size >= N / 2 && acceptedBefore.size < N, `accepted before the kill: ${acceptedBefore.size}`);

    // Restart on the same file; a sender that got no answer sends again with the same key.
    const restartAt = Date.now();
    const second = await runJunction(configFile);
    t.after(() => second.child.kill('SIGKILL'));
    const unanswered = keys.filter((k) => !acceptedBefore.has(k));
    const acceptedAfter = await postAll(second.url, unanswered, () => {});
    const ids = new Map([...acceptedBefore, ...acceptedAfter]);
    const accepted = new Set(ids.keys());
    assert.equal(accepted.size, N, 'every message is accepted once the server is back');

    await sink.waitFor(() => sink.received().size === N, 60_000);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());

    const received = sink.received();
    assert.deepEqual(new Set(received.keys()), accepted, 'the keys delivered are exactly the keys accepted');
    const twice = [...received].filter(([, n]) => n > 1).map(([k]) => k);
    console.log(`# crash test: ${acceptedBefore.size} accepted before SIGKILL, ${unanswered.length} sent again, ${twice.length} delivered twice (in flight at the kill)`);

    const store = openStore('sqlite:./junction.db', { baseDir: dir });
    await store.migrate();
    t.after(() => store.close());
    assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: N, dead: 0 });

    // What was in flight at the kill: each slot holds its message until the outcome is
    // committed, so no more than `concurrency` messages can have been delivered and not acked.
    assert.ok(twice.length <= worker.concurrency, `${twice.length} keys delivered twice, more than the ${worker.concurrency} the worker can hold in flight`);
    for (const key of twice) {
      const deliveries = sink.requests.filter((r) => r.idempotencyKey === key && r.status !== undefined && r.status < 300);
      assert.equal(deliveries.length, 2, `${key}: one delivery before the kill, one after the restart`);
      assert.ok(deliveries[0]!.at <= goneAt, `${key} was first delivered after the first process was gone`);
      assert.ok(deliveries[1]!.at >= restartAt, `${key} was delivered twice by the first process`);
      // The first process committed no outcome for it: its only ack is the second process's.
      const record = await store.getMessage(ids.get(key)!);
      assert.equal(record?.state, 'done', key);
      const outcomes = record.history.map((h) => `${h.outcome}@${h.startedAt >= restartAt ? 'after restart' : 'before kill'}`);
      assert.deepEqual(outcomes, ['ack@after restart'], `${key}: outcomes recorded ${outcomes.join(', ')}`);
      assert.ok(record.updatedAt >= restartAt, `${key} was marked done before the kill`);
    }
  });

  it('loses nothing to a SIGKILL while the fast paths are in use: messages handed to the worker as they are stored, leases and acks committed without their own fsync', { timeout: 120_000 }, async (t) => {
    const N = 1200;
    // A sink that takes a while keeps the worker's slots full of handed-off messages when the kill comes.
    const sink = await startTestSink(t, { default: 'slow:15' });
    const worker: WorkerSettings = { concurrency: 32, leaseMs: 3000, pollMs: 20, drainMs: 2000 };
    const { dir, configFile } = writeTestConfig(t, `${config(sink, worker)}server: { adminToken: crash-test-token }\n`);
    const keys = Array.from({ length: N }, (_, i) => `fast-${i}`);
    const first = await runJunction(configFile);
    t.after(() => first.child.kill('SIGKILL'));
    const view = async () => (await (await fetch(`${first.url}/admin/worker`, { headers: { authorization: 'Bearer crash-test-token' } })).json()) as { handedOff: number; claimed: number; inFlight: number };
    let atKill: Promise<{ handedOff: number; claimed: number; inFlight: number }> | undefined;
    let killAt = Infinity;
    const acceptedBefore = await postAll(first.url, keys, (n) => {
      if (n === N / 3 && atKill === undefined) {
        // The worker's view just before the kill: how its messages came to it.
        atKill = view().then((v) => {
          killAt = Date.now();
          first.child.kill('SIGKILL');
          return v;
        });
      }
    });
    assert.equal(await first.exited, 'SIGKILL');
    const seen = await atKill!;
    assert.ok(seen.handedOff > 0, `the hand-off was in use before the kill: ${JSON.stringify(seen)}`);
    assert.ok(seen.inFlight > 0, `messages were in flight at the kill: ${JSON.stringify(seen)}`);

    const second = await runJunction(configFile);
    t.after(() => second.child.kill('SIGKILL'));
    const acceptedAfter = await postAll(second.url, keys.filter((k) => !acceptedBefore.has(k)), () => {});
    const accepted = new Set([...acceptedBefore.keys(), ...acceptedAfter.keys()]);
    assert.equal(accepted.size, N);
    await sink.waitFor(() => sink.received().size === N, 90_000);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());

    const received = sink.received();
    assert.deepEqual(new Set(received.keys()), accepted, 'every key that got a 202 is delivered');
    const twice = [...received].filter(([, n]) => n > 1).length;
    console.log(`# fast-path crash test: worker at the kill ${JSON.stringify(seen)}; ${acceptedBefore.size} accepted before, ${twice} delivered twice`);
    assert.ok(twice <= worker.concurrency, `${twice} keys delivered twice, more than the ${worker.concurrency} slots`);
    assert.ok(killAt < Infinity);
    const store = openStore('sqlite:./junction.db', { baseDir: dir });
    await store.migrate();
    t.after(() => store.close());
    assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: N, dead: 0 });
  });

  it('on SIGTERM drains: exits 0 and hands unfinished messages back without spending an attempt', { timeout: 60_000 }, async (t) => {
    const sink = await startTestSink(t, { default: 'hang' });
    const { dir, configFile } = writeTestConfig(t, config(sink, { concurrency: 8, leaseMs: 30000, pollMs: 20, drainMs: 300 }));
    const proc = await runJunction(configFile);
    t.after(() => proc.child.kill('SIGKILL'));

    const accepted = await postAll(proc.url, ['a', 'b', 'c'], () => {});
    assert.equal(accepted.size, 3);
    await sink.waitFor(() => sink.requests.length === 3, 10_000);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output());

    const store = openStore('sqlite:./junction.db', { baseDir: dir });
    await store.migrate();
    t.after(() => store.close());
    assert.deepEqual(await store.stats(), { queued: 3, running: 0, done: 0, dead: 0 });
    const messages = await store.claim({ worker: 'test', limit: 10, leaseMs: 1000 });
    assert.equal(messages.length, 3, 'claimable at once, not after a lease expiry');
    for (const m of messages) assert.equal(m.attempt, 1, 'the interrupted attempt was given back');
  });
});
