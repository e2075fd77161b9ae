/**
 * The worker's hold on a message: a lease that lapses while the message is
 * still running (a stalled process) does not start a second run of it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { it } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
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
