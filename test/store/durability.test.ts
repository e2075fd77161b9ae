/**
 * @module test/store/durability.test
 * What makes a 202 survive power loss, asked of the store's own connection.
 *
 * A SIGKILL test cannot see these settings: the page cache outlives the process,
 * so `synchronous = OFF` loses nothing there and only bites when the machine
 * goes down. And both pragmas belong to a connection (`synchronous` is not
 * stored in the file), so another connection to the same file cannot tell what
 * the store's connection runs with. The test therefore watches which
 * connections the store opens (a spy that records, then calls the real method),
 * and reads `synchronous` on that connection right after each commit: the value
 * is only changed between transactions, so it is the one the commit ran with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.ts';

/** SQLite's numbers for `PRAGMA synchronous`. */
const SYNCHRONOUS = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 } as const;

function pragma(db: DatabaseSync, name: string): unknown {
  return db.prepare(`PRAGMA ${name}`).get()?.[name];
}

/** A migrated store on a temporary file, its one connection, and the `synchronous` of each commit since `commits.length = 0`. */
async function watchedStore(t: TestContext, opts: Partial<SqliteStoreOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'junction-durability-'));
  const exec = t.mock.method(DatabaseSync.prototype, 'exec');
  const prepare = t.mock.method(DatabaseSync.prototype, 'prepare');
  const commits: unknown[] = [];
  // Known once the store has opened it; no commit happens before that.
  const connection: { db?: DatabaseSync } = {};
  const store = createSqliteStore({ path: join(dir, 'junction.db'), ...opts, onCommit: () => commits.push(pragma(connection.db!, 'synchronous')) });
  await store.migrate();
  const opened = [...new Set([...exec.mock.calls, ...prepare.mock.calls].map((c) => c.this as DatabaseSync))];
  assert.equal(opened.length, 1, 'the store opens one connection');
  const db = opened[0]!;
  connection.db = db;
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(pragma(db, 'journal_mode'), 'wal');
  return { store, commits };
}

describe('store durability settings', () => {
  it('fsyncs every commit that acknowledges something, and only those (synchronous FULL, else NORMAL)', async (t) => {
    const { store, commits } = await watchedStore(t);
    const [m] = await store.enqueue([{ flow: 'f', body: { id: 1 } }]);
    assert.deepEqual(commits.splice(0), [SYNCHRONOUS.FULL], 'an enqueue (what a 202 promises) is fsynced');

    const [claimed] = await store.claim({ worker: 'w', limit: 1, leaseMs: 1000 });
    await store.extendLease([claimed!], 1000);
    await store.settle(claimed!, { kind: 'ack' }, null);
    assert.deepEqual(commits.splice(0), [SYNCHRONOUS.NORMAL, SYNCHRONOUS.NORMAL, SYNCHRONOUS.NORMAL], 'a claim, a lease and an ack: a redelivery if lost');

    // A claim that shares its group with an enqueue is fsynced with it.
    await Promise.all([store.claim({ worker: 'w', limit: 1, leaseMs: 1000 }), store.enqueue([{ flow: 'f', body: { id: 2 } }])]);
    assert.deepEqual(commits.splice(0), [SYNCHRONOUS.FULL]);

    await store.tokens.set('t', { accessToken: 'a', expiresAt: null, refreshToken: 'r', obtainedAt: 1 });
    await store.checkpoints.set('c', 1);
    assert.deepEqual(commits.splice(0), [SYNCHRONOUS.FULL, SYNCHRONOUS.FULL], 'a rotated refresh token and a checkpoint are fsynced');
    assert.equal((await store.getMessage(m!.id))?.state, 'done');
  });

  it('fsyncs every commit with synchronous: full', async (t) => {
    const { store, commits } = await watchedStore(t, { synchronous: 'full' });
    await store.enqueue([{ flow: 'f', body: { id: 1 } }]);
    const [claimed] = await store.claim({ worker: 'w', limit: 1, leaseMs: 1000 });
    await store.settle(claimed!, { kind: 'ack' }, null);
    assert.deepEqual(commits, [SYNCHRONOUS.FULL, SYNCHRONOUS.FULL, SYNCHRONOUS.FULL]);
  });
});
