/**
 * A poll trigger on many nodes: two engines on one PostgreSQL schema poll the
 * same listing. A run holds the flow's lock (an advisory lock), so the API is
 * never read by two runs at once, and each record becomes one message across
 * both nodes (the dedupe key is shared). When a node stops, the other goes on
 * polling alone.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { startTestEngine, until } from '../helpers/engine.ts';
import { serve, startRecorder } from '../helpers/servers.ts';

const FILE = 'test/e2e/poll-postgres.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
after(() => admin.end());

const RECORDS = Array.from({ length: 5 }, (_, i) => ({ id: `item-${i + 1}`, n: i + 1 }));

/**
 * A listing that answers slowly (each read held `holdMs`), counting reads and the most in flight at once.
 * A read is over when it is answered or when its reader hangs up: a node that stops aborts its run's read and
 * lets go of the lock at once, and the other node's next read must not count that abandoned one as in flight
 * (it did, until this listing's timer fired: the flake "2 !== 1" after `a.stop()`).
 */
async function slowListing(t: TestContext, holdMs: number) {
  let inFlight = 0;
  const counts = { reads: 0, maxInFlight: 0 };
  const served = await serve(t, (_req, res) => {
    counts.reads++;
    inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, inFlight);
    let over = false;
    const end = (): void => {
      if (over) return;
      over = true;
      inFlight--;
    };
    res.on('close', end);
    setTimeout(() => {
      end();
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(RECORDS));
    }, holdMs);
  });
  return { url: served.url, counts };
}

describe('poll on two PostgreSQL nodes', { skip: unavailable ?? false }, () => {
  it('never runs twice at once, delivers each record once across both, and goes on when a node stops', { timeout: 60_000 }, async (t) => {
    const schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
    t.after(async () => {
      if (!('passed' in t) || t.passed !== false) await admin.drop(schema);
    });
    const listing = await slowListing(t, 40);
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const yaml = `
store: "${PG_URL}?schema=${schema}&pool_max=4"
worker: { pollMs: 20 }
connectors:
  api: { type: rest, baseUrl: ${listing.url} }
  sink: { type: rest, baseUrl: ${sink.url} }
flows:
  items:
    trigger: { poll: { connector: api, every: 10, request: { path: /items }, key: id } }
    steps:
      - deliver: { connector: sink, request: { path: /items } }
`;
    const a = await startTestEngine(t, yaml);
    const b = await startTestEngine(t, yaml);

    // Every 10 ms on each node, with a read taking 40 ms: without the lock, reads would overlap at once.
    await until(() => listing.counts.reads >= 12, 20_000, 20);
    assert.equal(listing.counts.maxInFlight, 1, 'one run at a time across the two nodes');
    await until(() => sink.seen.length >= RECORDS.length, 10_000, 20);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(sink.seen.map((s) => (JSON.parse(s.body) as { id: string }).id).sort(), RECORDS.map((r) => r.id), 'each record delivered once');

    await a.stop();
    const readsAtStop = listing.counts.reads;
    await until(() => listing.counts.reads >= readsAtStop + 5, 20_000, 20);
    assert.equal(listing.counts.maxInFlight, 1);
    assert.equal(sink.seen.length, RECORDS.length, 'the node left alone finds nothing new to deliver');
    assert.equal((await b.store.stats('items')).done, RECORDS.length);
  });
});
