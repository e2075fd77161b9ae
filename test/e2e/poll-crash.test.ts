/**
 * A poll killed mid-page loses and duplicates nothing (docs/triggers.md): a
 * `junction run` polls 1,000 records in pages of 50 and is killed with SIGKILL
 * while it waits for page 8, with pages before it committed and no checkpoint
 * saved; the restarted process takes the poll's lock once the dead holder's
 * lease runs out (30 s), reads from the checkpoint again, and across both
 * runs the store holds every record exactly once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { runJunction } from '../helpers/child.ts';
import { until, writeTestConfig } from '../helpers/engine.ts';
import { startListing } from '../helpers/listing.ts';

function config(url: string): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  listing: { type: rest, baseUrl: ${url} }
flows:
  items:
    trigger:
      poll:
        connector: listing
        every: 1h
        request: { method: GET, path: "/offset/items?updated_after={{ $checkpoint }}" }
        paginate: { offset: { param: offset, limit: 50, limitParam: limit }, items: items }
        checkpoint: updatedAt
    steps:
      - filter: "true"
`;
}

function read<T>(file: string, sql: string): T[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('a poll survives SIGKILL', () => {
  it('killed mid-page and restarted, it yields every record exactly once across both runs', { timeout: 120_000 }, async (t) => {
    let hold: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (hold = resolve));
    let holding = true;
    const listing = await startListing(t, {
      count: 1000,
      // The first process's request for page 8 is never answered: it dies waiting for it.
      onPage: (path) => (holding && path.includes('offset=350') ? held : undefined),
    });
    t.after(() => hold?.());
    const { dir, configFile } = writeTestConfig(t, config(listing.url));
    const file = join(dir, 'junction.db');

    const first = await runJunction(configFile);
    t.after(() => first.child.kill('SIGKILL'));
    await until(() => listing.requests.some((p) => p.includes('offset=350')), 20_000, 20);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    holding = false;
    hold?.();

    const before = read<{ dedupe_key: string }>(file, "SELECT dedupe_key FROM messages WHERE flow = 'items'");
    assert.ok(before.length > 0 && before.length < 1000, `the first run committed ${before.length} records before it died`);
    assert.deepEqual(read(file, 'SELECT key FROM checkpoints'), [], 'no checkpoint: the run did not finish');

    const second = await runJunction(configFile);
    t.after(() => second.child.kill('SIGKILL'));
    const last = listing.records.at(-1)!.updatedAt;
    await until(() => read<{ value: string }>(file, 'SELECT value FROM checkpoints').some((r) => (JSON.parse(r.value) as { checkpoint: string }).checkpoint === last), 60_000, 50);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());

    const rows = read<{ dedupe_key: string; body: string }>(file, "SELECT dedupe_key, body FROM messages WHERE flow = 'items'");
    assert.equal(rows.length, 1000, 'one message per record');
    const ids = rows.map((r) => (JSON.parse(r.body) as { id: string }).id).sort();
    assert.deepEqual(ids, listing.records.map((r) => r.id).sort(), 'every record, none twice');
    assert.equal(new Set(rows.map((r) => r.dedupe_key)).size, 1000);
  });
});
