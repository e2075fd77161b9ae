/**
 * A parent run again after a crash (its parts stored, its ack not) makes no new
 * parts, even when a step before the split answers otherwise the second time: the
 * parts stored first stand, and the parent is done, not refused for its own keys.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { it } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';

it('keeps the first parts when a parent run again fans out other bodies under the same derived keys', async (t) => {
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20 }
flows:
  lines:
    trigger: { http: { path: /lines } }
    steps:
      - map: { items: "items.{ 'sku': $, 'draw': $random() }" }
      - split: items
`,
  );
  const parent = (await engine.post('/lines', { items: ['a', 'b'] }, { 'idempotency-key': 'order-1' })).json.id as string;
  const done = async (n: number) => (await engine.store.stats()).done === n;
  await engine.until(() => done(3));
  const parts = async () => {
    const db = new DatabaseSync(join(engine.dir, 'junction.db'), { readOnly: true });
    try {
      return db.prepare("SELECT dedupe_key, body FROM messages WHERE dedupe_key LIKE 'order-1:%' ORDER BY dedupe_key").all();
    } finally {
      db.close();
    }
  };
  const before = await parts();

  // As if the process had died after the fan-out committed and before the parent's ack.
  const db = new DatabaseSync(join(engine.dir, 'junction.db'));
  db.prepare("UPDATE messages SET state = 'queued', run_at = 0, ack_started_at = NULL, ack_attempt = NULL WHERE id = ?").run(parent);
  db.close();
  engine.worker.notify();

  await engine.until(async () => (await engine.store.getMessage(parent))?.history.length === 1);
  const history = (await engine.store.getMessage(parent))?.history ?? [];
  assert.equal(history[0]?.outcome, 'ack', `the rerun was ${history[0]?.outcome}: ${history[0]?.error ?? ''}`);
  assert.equal(history[0]?.attempt, 2, 'the second run');
  assert.deepEqual(await parts(), before, 'the parts stored first stand');
  assert.equal((await engine.store.stats()).done, 3);
});
