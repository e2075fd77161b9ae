/**
 * @module test/runtime/retention.test
 * The retention sweeper: a pass deletes every row past its retention, batch by
 * batch, and nothing else; configured from `store.retention`, its done window
 * is the dedupe window.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../../src/observability/logger.ts';
import { startSweeper, SWEEP_BATCH } from '../../src/runtime/retention.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

const DAY = 86_400_000;

async function store(t: TestContext, clock: ManualClock) {
  const dir = mkdtempSync(join(tmpdir(), 'junction-retention-'));
  const s = createSqliteStore({ path: join(dir, 'junction.db'), clock });
  await s.migrate();
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

describe('retention sweeper', () => {
  it('deletes every done message past its retention, batch after batch, and leaves the rest', async (t) => {
    const clock = new ManualClock();
    const s = await store(t, clock);
    const old = SWEEP_BATCH * 2 + 37;
    await s.enqueue(Array.from({ length: old }, (_, i) => ({ flow: 'f', body: { i } })));
    for (const c of await s.claim({ worker: 'w', limit: old, leaseMs: 60_000 })) await s.settle(c, { kind: 'ack' }, null);
    clock.advance(8 * DAY);
    const [recent] = await s.enqueue([{ flow: 'f', body: { recent: true } }]);
    const [claimed] = await s.claim({ worker: 'w', limit: 1, leaseMs: 60_000 });
    await s.settle(claimed!, { kind: 'ack' }, null);
    const [waiting] = await s.enqueue([{ flow: 'f', body: { waiting: true }, runAt: clock.now() + DAY }]);

    const sweeper = startSweeper(s, { done: 7 * DAY, dead: 30 * DAY, sweepEvery: 3_600_000 }, { clock, logger: silentLogger });
    t.after(() => sweeper.stop());
    assert.deepEqual(await sweeper.sweep(), { done: old, dead: 0 });
    assert.deepEqual(await s.stats(), { queued: 1, running: 0, done: 1, dead: 0 });
    assert.equal((await s.getMessage(recent!.id))?.state, 'done');
    assert.equal((await s.getMessage(waiting!.id))?.state, 'queued');
    assert.deepEqual(await sweeper.sweep(), { done: 0, dead: 0 }, 'a second pass finds nothing');
  });

  it('is configured by store.retention: after the done window, the same idempotency key is a new message', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: { url: "sqlite:./junction.db", retention: { done: 1ms, dead: 30d, sweepEvery: 1h } }
connectors: { sink: { type: rest, baseUrl: "${sink.url}" } }
flows:
  orders:
    trigger: { http: { path: /in } }
    steps: [ { deliver: { connector: sink, request: { path: /orders } } } ]
`,
    );
    const first = await engine.post('/in', { id: 1 }, { 'idempotency-key': 'k-1' });
    await engine.until(async () => (await engine.store.getMessage(String(first.json.id)))?.state === 'done');
    assert.equal((await engine.post('/in', { id: 1 }, { 'idempotency-key': 'k-1' })).json.duplicate, true, 'within the window: a duplicate');
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await engine.sweeper.sweep(), { done: 1, dead: 0 });
    const again = await engine.post('/in', { id: 1 }, { 'idempotency-key': 'k-1' });
    assert.equal(again.status, 202);
    assert.notEqual(again.json.id, first.json.id, 'after the window: a new message');
  });
});
