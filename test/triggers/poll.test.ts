/**
 * The poll trigger (docs/triggers.md): on a real loopback listing, each new
 * record becomes one message, the checkpoint (the largest updatedAt seen) is
 * committed with the last page and bound as `$checkpoint` in the next run's
 * request, records read again are not made twice, and a failing run leaves the
 * checkpoint where it was.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { startTestEngine, tempDir, type TestEngine } from '../helpers/engine.ts';
import { startListing } from '../helpers/listing.ts';

function config(url: string, extra = ''): string {
  return `
store: sqlite:./junction.db
server: { adminToken: admin-t }
worker: { pollMs: 20 }
connectors:
  listing: { type: rest, baseUrl: ${url}, retry: { maxAttempts: 2, baseMs: 10, maxMs: 100 } }
flows:
  items:
    trigger:
      poll:
        connector: listing
        every: 50ms
        request: { method: GET, path: "/cursor/items?updated_after={{ $checkpoint }}" }
        paginate: { cursor: { param: cursor, from: next_cursor }, items: data }
        checkpoint: updatedAt${extra}
    steps:
      - filter: "true"
`;
}

/** Dedupe keys of the flow's messages, read from the file through a connection of the test's own. */
function stored(dir: string): string[] {
  const db = new DatabaseSync(join(dir, 'junction.db'), { readOnly: true });
  try {
    return (db.prepare("SELECT dedupe_key FROM messages WHERE flow = 'items' ORDER BY id").all() as { dedupe_key: string }[]).map((r) => r.dedupe_key);
  } finally {
    db.close();
  }
}

/** The value the poll resumes after. */
async function checkpoint(engine: TestEngine): Promise<unknown> {
  return ((await engine.store.checkpoints.get('poll:items')) as { checkpoint?: unknown } | undefined)?.checkpoint;
}

describe('poll trigger', () => {
  it('makes each record one message, keeps the largest updatedAt, and asks after it next time', { timeout: 30_000 }, async (t) => {
    const listing = await startListing(t, { count: 230 });
    const engine = await startTestEngine(t, config(listing.url));
    const last = listing.records.at(-1)!.updatedAt;
    await engine.until(async () => (await checkpoint(engine)) === last);
    assert.equal(stored(engine.dir).length, 230);
    // The next run (50 ms on) binds the saved checkpoint in its request.
    await engine.until(() => listing.requests.some((p) => p.includes(`updated_after=${encodeURIComponent(last)}`)));

    listing.add(20);
    const newLast = listing.records.at(-1)!.updatedAt;
    await engine.until(async () => (await checkpoint(engine)) === newLast);
    const keys = stored(engine.dir);
    assert.equal(keys.length, 250);
    assert.equal(new Set(keys).size, 250);
    assert.equal(keys[0], `r-1@${listing.records[0]!.updatedAt}`);
    await engine.until(() => engine.settled.length === 250);

    const res = await engine.app.inject({ method: 'GET', url: '/admin/flows', headers: { authorization: 'Bearer admin-t' } });
    assert.equal(res.statusCode, 200, res.body);
    const flow = (res.json() as { flows: { name: string; trigger: Record<string, unknown> }[] }).flows.find((f) => f.name === 'items');
    assert.equal(flow?.trigger.type, 'poll');
    assert.equal(flow?.trigger.checkpoint, newLast);
  });

  it('a record whose updatedAt changed is a new message; one read again is not', { timeout: 30_000 }, async (t) => {
    const listing = await startListing(t, { count: 60 });
    const engine = await startTestEngine(t, config(listing.url));
    const last = listing.records.at(-1)!.updatedAt;
    await engine.until(async () => (await checkpoint(engine)) === last);
    const before = listing.requests.length;
    await engine.until(() => listing.requests.length >= before + 2);
    assert.equal(stored(engine.dir).length, 60, 'runs that find nothing new add nothing');

    const moved = listing.records.splice(10, 1)[0]!;
    listing.records.push({ ...moved, updatedAt: new Date(Date.parse(last) + 5000).toISOString() });
    await engine.until(() => stored(engine.dir).length === 61);
    assert.ok(stored(engine.dir).includes(`r-11@${listing.records.at(-1)!.updatedAt}`));
  });

  it('two nodes polling one store make each record once', { timeout: 30_000 }, async (t) => {
    const listing = await startListing(t, { count: 300 });
    const dir = tempDir(t);
    const yaml = config(listing.url).replace('store: sqlite:./junction.db', `store: sqlite:${join(dir, 'junction.db')}`);
    const a = await startTestEngine(t, yaml);
    const b = await startTestEngine(t, yaml);
    const last = listing.records.at(-1)!.updatedAt;
    await a.until(async () => (await checkpoint(a)) === last);
    listing.add(30);
    const newLast = listing.records.at(-1)!.updatedAt;
    await b.until(async () => (await checkpoint(b)) === newLast);
    const keys = stored(dir);
    assert.equal(keys.length, 330);
    assert.equal(new Set(keys).size, 330);
  });

  it('a run that fails half-way leaves the checkpoint unmoved; the next one reads again and makes nothing twice', { timeout: 30_000 }, async (t) => {
    let failPage3 = true;
    const listing = await startListing(t, {
      count: 200,
      onPage: (path) => {
        if (failPage3 && path.includes('cursor=100')) {
          failPage3 = false;
          throw new Error('drop the connection');
        }
      },
    });
    const engine = await startTestEngine(t, config(listing.url));
    const last = listing.records.at(-1)!.updatedAt;
    await engine.until(async () => (await checkpoint(engine)) === last);
    const keys = stored(engine.dir);
    assert.equal(keys.length, 200);
    assert.equal(new Set(keys).size, 200);
  });
});
