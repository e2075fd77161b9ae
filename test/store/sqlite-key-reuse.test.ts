/**
 * @module test/store/sqlite-key-reuse.test
 * SQLite's own side of the body digest: messages stored before migration 0004 have
 * none, and a key of theirs that comes back is still checked against their body.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { loadMigrations, migrate } from '../../src/store/sqlite/migrate.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { assertRejectsWith, FLOW, message } from './contract/fixture.ts';

/** A database file at schema 3 (before body digests) holding one keyed message. */
function databaseBeforeDigests(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'junction.db');
  const db = new DatabaseSync(path);
  try {
    migrate(db, 0, loadMigrations().slice(0, 3));
    db.prepare(
      `INSERT INTO messages (id, flow, state, body, headers, meta, idempotency_key, dedupe_key, created_at, run_at, updated_at)
       VALUES ('old-1', :flow, 'done', '{"total":10,"order":"A"}', '{}', '{}', 'k-old', 'k-old', 0, 0, 0)`,
    ).run({ flow: FLOW });
  } finally {
    db.close();
  }
  return path;
}

describe('SQLite store: dedupe keys stored before body digests', () => {
  it('checks a key of a message stored before migration 0004 against its stored body', async (t) => {
    const store = createSqliteStore({ path: databaseBeforeDigests(t), clock: new ManualClock() });
    t.after(() => store.close());
    await store.migrate();
    assert.deepEqual(await store.enqueue([message({ dedupeKey: 'k-old', body: { order: 'A', total: 10 } })]), [{ id: 'old-1', duplicate: true }]);
    await assertRejectsWith(store.enqueue([message({ dedupeKey: 'k-old', body: { order: 'B', total: 10 } })]), 'JNC_IDEMPOTENCY_KEY_REUSED');
  });

  it('stores the digest only with a dedupe key: a message keyed by its own id has nothing to compare', async (t) => {
    const path = databaseBeforeDigests(t);
    const store = createSqliteStore({ path, clock: new ManualClock() });
    t.after(() => store.close());
    await store.migrate();
    const [keyed, plain] = await store.enqueue([message({ dedupeKey: 'k', body: { a: 1 } }), message({ body: { a: 1 } })]);
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const digest = (id: string | undefined) => db.prepare('SELECT body_digest FROM messages WHERE id = ?').get(id ?? '')?.body_digest;
      assert.match(String(digest(keyed?.id)), /^[0-9a-f]{64}$/);
      assert.equal(digest(plain?.id), null);
    } finally {
      db.close();
    }
  });
});
