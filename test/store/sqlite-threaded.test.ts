/**
 * @module test/store/sqlite-threaded.test
 * The Store contract on the SQLite store run in a worker thread, then what is
 * the thread's own: errors keep their code across it, a value that cannot
 * cross is refused as input, and the process is not held open by an idle store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { causeChain, errors, isJunctionError } from '../../src/core/errors.ts';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded.ts';
import { storeContract } from './contract.ts';

let dir = '';
let dbPath = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-threaded-'));
  dbPath = join(dir, 'junction.db');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite in a worker thread', async (clock) => createThreadedSqliteStore({ path: dbPath, clock }));

describe('threaded sqlite store', () => {
  it('keeps a JunctionError\'s code, family and details across the thread (a reused key stays a 422)', async (t) => {
    const store = createThreadedSqliteStore({ path: dbPath });
    t.after(() => store.close());
    await store.migrate();
    await store.enqueue([{ flow: 'f', body: { a: 1 }, dedupeKey: 'k' }]);
    const e: unknown = await store.enqueue([{ flow: 'f', body: { a: 2 }, dedupeKey: 'k' }]).catch((x: unknown) => x);
    assert.ok(isJunctionError(e), 'a JunctionError');
    assert.equal(e.code, errors.IDEMPOTENCY_KEY_REUSED.code);
    assert.equal(e.status, 422);
    assert.deepEqual(e.details, { idempotencyKey: 'k' });
  });

  it('refuses a body that cannot be sent to the thread as input, and stays usable', async (t) => {
    const store = createThreadedSqliteStore({ path: dbPath });
    t.after(() => store.close());
    await store.migrate();
    const e: unknown = await store.enqueue([{ flow: 'f', body: { f: (() => 1) as never } }]).catch((x: unknown) => x);
    assert.ok(isJunctionError(e) && e.code === errors.INPUT_INVALID.code, String(e));
    const [ok] = await store.enqueue([{ flow: 'f', body: { a: 1 } }]);
    assert.equal((await store.getMessage(ok!.id))?.state, 'queued');
  });

  it('settles a dead letter with its reason and last response, rebuilt on the thread', async (t) => {
    const store = createThreadedSqliteStore({ path: dbPath });
    t.after(() => store.close());
    await store.migrate();
    const [m] = await store.enqueue([{ flow: 'f', body: { a: 1 } }]);
    const [claimed] = await store.claim({ worker: 'w', limit: 1, leaseMs: 1000 });
    const response = { status: 400, headers: {}, bodyExcerpt: 'no' };
    const error = errors.HTTP_REJECTED.create(['crm', 400], { status: 400, response, cause: new Error('inner') });
    assert.equal(await store.settle(claimed!, { kind: 'dead', error }, null), true);
    const dead = await store.deadLetters.get(m!.id);
    assert.equal(dead?.errorCode, 'JNC_HTTP_REJECTED');
    assert.deepEqual(dead?.reason, causeChain(error));
    assert.deepEqual(dead?.lastResponse, response);
  });

  it('answers every call made while it closes, with JNC_STORE_UNAVAILABLE when the thread is gone first, never leaving one pending', async () => {
    const store = createThreadedSqliteStore({ path: dbPath });
    await store.migrate();
    const closing = store.close();
    const calls: Promise<{ code?: string } | 'answered'>[] = [];
    // Calls in every turn of the event loop until the close ends: some cross with the close,
    // some are sent after its answer, to a thread about to be terminated.
    let closed = false;
    void closing.then(() => (closed = true));
    while (!closed) {
      for (let i = 0; i < 5; i++) calls.push(store.stats().then(() => 'answered' as const, (e: { code?: string }) => e));
      await new Promise((r) => setImmediate(r));
    }
    const settled = await Promise.race([Promise.all(calls), new Promise<'pending'>((r) => setTimeout(r, 5000, 'pending').unref())]);
    assert.notEqual(settled, 'pending', 'a call made during close was never answered');
    for (const r of settled as Awaited<(typeof calls)[number]>[]) {
      if (r !== 'answered') assert.equal(r.code, errors.STORE_UNAVAILABLE.code);
    }
  });

  it('does not keep a process alive once its calls are answered', () => {
    const script = `
      import { createThreadedSqliteStore } from ${JSON.stringify(fileURLToPath(new URL('../../src/store/sqlite/threaded.ts', import.meta.url)))};
      const store = createThreadedSqliteStore({ path: ${JSON.stringify(join(dir, 'alive.db'))} });
      await store.migrate();
      await store.enqueue([{ flow: 'f', body: 1 }]);
      console.log('stored');
    `;
    const file = join(dir, 'alive.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stored/);
  });
});
