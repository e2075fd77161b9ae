/**
 * @module test/store/durability.test
 * What makes a 202 survive power loss, asked of the store's own connection.
 *
 * A SIGKILL test cannot see these settings: the page cache outlives the process,
 * so `synchronous = OFF` loses nothing there and only bites when the machine
 * goes down. And both pragmas belong to a connection (`synchronous` is not
 * stored in the file), so another connection to the same file cannot tell what
 * the store's connection runs with. The test therefore watches which
 * connections the engine opens (a spy that records, then calls the real method)
 * and asks those.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';

/** SQLite's numbers for `PRAGMA synchronous`. */
const SYNCHRONOUS = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 } as const;

/** Records every connection that runs a statement from now until the test ends. */
function watchConnections(t: TestContext): () => DatabaseSync[] {
  const exec = t.mock.method(DatabaseSync.prototype, 'exec');
  const prepare = t.mock.method(DatabaseSync.prototype, 'prepare');
  return () => [...new Set([...exec.mock.calls, ...prepare.mock.calls].map((c) => c.this as DatabaseSync))];
}

function pragma(db: DatabaseSync, name: string): unknown {
  return db.prepare(`PRAGMA ${name}`).get()?.[name];
}

describe('store durability settings', () => {
  it('the engine writes through one connection in WAL mode with synchronous = FULL (an fsync per commit)', async (t) => {
    const connections = watchConnections(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { filter: "true" } ]
`,
    );
    const opened = connections();
    assert.equal(opened.length, 1, 'the engine opens one connection to its store');
    const [db] = opened as [DatabaseSync];
    assert.equal(pragma(db, 'journal_mode'), 'wal');
    assert.equal(pragma(db, 'synchronous'), SYNCHRONOUS.FULL);

    // The settings hold on the connection that commits what a 202 promises.
    const res = await engine.post('/hooks/orders', { id: 1 });
    assert.equal(res.status, 202);
    assert.equal(pragma(db, 'synchronous'), SYNCHRONOUS.FULL);
    assert.equal((await engine.store.getMessage(String(res.json.id)))?.flow, 'orders');
  });
});
