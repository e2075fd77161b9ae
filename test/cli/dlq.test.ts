/**
 * `junction dlq` as an operator runs it: on a store with dead letters in it,
 * from a shell that may lack the connectors' secrets, piped into `head`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.ts';
import { ManualClock, START_MS } from '../helpers/clock.ts';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { deadLetter, LEASE_MS, permanentError } from '../store/contract/fixture.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

// The connector's secret comes from CRM_SECRET, which no test here sets unless it says so.
const CONFIG = `
store: sqlite:./j.db
connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010", auth: { bearer: "\${env:CRM_SECRET}" } }
flows:
  orders-to-crm:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: crm } } ]
  invoices:
    trigger: { http: { path: /hooks/invoices } }
    steps: [ { deliver: { connector: crm } } ]
`;

/** A config file beside a store holding `n` dead letters of flow orders-to-crm. */
async function withDeadLetters(t: TestContext, n: number): Promise<{ file: string; ids: string[] }> {
  const dir = tempDir(t);
  const file = join(dir, 'junction.yaml');
  writeFileSync(file, CONFIG);
  const clock = new ManualClock();
  const store = openStore('sqlite:./j.db', { baseDir: dir, clock });
  await store.migrate();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await deadLetter(store, clock, { body: { orderId: i } }));
  await store.close();
  return { file, ids };
}

describe('junction dlq reads only what it uses', () => {
  it('lists dead letters from a shell without the connectors\' secrets; check still needs them', async (t) => {
    const { file, ids } = await withDeadLetters(t, 2);
    const list = await junction(['dlq', 'list', '-c', file], { CRM_SECRET: undefined });
    assert.equal(list.code, 0, list.stderr);
    for (const id of ids) assert.match(list.stdout, new RegExp(id));
    const show = await junction(['dlq', 'show', ids[0]!, '-c', file], { CRM_SECRET: undefined });
    assert.equal(show.code, 0, show.stderr);
    const check = await junction(['check', '-c', file], { CRM_SECRET: undefined });
    assert.equal(check.code, 1);
    assert.match(check.stderr, /environment variable CRM_SECRET is not set/);
  });

  it('still reports a mistake in the store key with file, line and path', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, CONFIG.replace('store: sqlite:./j.db', 'store: ${env:STORE_URL}'));
    const r = await junction(['dlq', 'list', '-c', file], { STORE_URL: undefined });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:2:8 store: environment variable STORE_URL is not set/);
  });
});

describe('junction dlq output', () => {
  it('prints times as ISO 8601 in show, list and list --json', async (t) => {
    const { file, ids } = await withDeadLetters(t, 1);
    const iso = new Date(START_MS).toISOString();
    const show = await junction(['dlq', 'show', ids[0]!, '-c', file]);
    assert.equal(show.code, 0, show.stderr);
    const shown = JSON.parse(show.stdout) as { deadAt: unknown; createdAt: unknown; history: { startedAt: unknown }[] };
    assert.equal(shown.deadAt, iso);
    assert.match(String(shown.createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(shown.history[0]!.startedAt, iso);
    const json = await junction(['dlq', 'list', '--json', '-c', file]);
    assert.equal((JSON.parse(json.stdout.split('\n')[0]!) as { deadAt: unknown }).deadAt, iso);
    const table = await junction(['dlq', 'list', '-c', file]);
    assert.match(table.stdout, new RegExp(iso.replace(/\./g, '\\.')));
  });

  it('exits 0 quietly when the reader of its output goes away (| head -1)', async (t) => {
    const { file } = await withDeadLetters(t, 3);
    const child = spawn(process.execPath, [CLI, 'dlq', 'list', '--json', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the child can write a line: every write it makes meets EPIPE, as behind `head -1` once head has exited.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('junction dlq --flow', () => {
  it('names a flow that is neither configured nor holds dead letters, listing the flows there are', async (t) => {
    const { file } = await withDeadLetters(t, 1);
    for (const args of [['list', '--flow', 'nosuchflow'], ['replay', '--flow', 'nosuchflow'], ['purge', '--flow', 'nosuchflow']]) {
      const r = await junction(['dlq', ...args, '-c', file]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /JNC_DLQ_FLOW_UNKNOWN: .*nosuchflow.*orders-to-crm, invoices/);
      assert.doesNotMatch(r.stdout, /no dead letters|replayed|purged/);
    }
  });

  it('lists a configured flow with no dead letters as empty', async (t) => {
    const { file } = await withDeadLetters(t, 1);
    const r = await junction(['dlq', 'list', '--flow', 'invoices', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no dead letters/);
  });
});

describe('junction dlq filters', () => {
  it('lists, replays and purges by error code and time, as the admin API filters', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, CONFIG);
    const clock = new ManualClock();
    const store = openStore('sqlite:./j.db', { baseDir: dir, clock });
    await store.migrate();
    const early = await deadLetter(store, clock, { body: { n: 1 } });
    clock.advance(60_000);
    const late = await deadLetter(store, clock, { body: { n: 2 } });
    const other = await deadLetter(store, clock, { flow: 'invoices', body: { n: 3 } });
    await store.close();
    const cut = new Date(START_MS + 30_000).toISOString();

    const list = await junction(['dlq', 'list', '--json', '--since', cut, '--code', 'JNC_HTTP_REJECTED', '-c', file]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id), [other, late]);
    const table = await junction(['dlq', 'list', '--until', cut, '--limit', '1', '-c', file]);
    assert.match(table.stdout, new RegExp(early));
    const none = await junction(['dlq', 'list', '--code', 'JNC_NOPE', '-c', file]);
    assert.match(none.stdout, /no dead letters/);

    const replay = await junction(['dlq', 'replay', '--flow', 'orders-to-crm', '--since', cut, '-c', file]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /replayed 1 dead letter\n/);
    const purge = await junction(['dlq', 'purge', '--until', cut, '-c', file]);
    assert.match(purge.stdout, /purged 1 dead letter\n/);
    const left = await junction(['dlq', 'list', '--json', '-c', file]);
    assert.deepEqual(left.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id), [other]);
  });
});

describe('junction dlq usage errors exit 2', () => {
  for (const [what, args] of [
    ['--limit 0, which the admin API refuses too', ['list', '--limit', '0']],
    ['--limit above the admin API\'s page of 500', ['list', '--limit', '501']],
    ['--limit that is no number', ['list', '--limit', 'ten']],
    ['replay naming nothing', ['replay']],
    ['purge naming ids and --all', ['purge', 'a', '--all']],
    ['replay naming a filter and --all', ['replay', '--code', 'JNC_HTTP_REJECTED', '--all']],
    ['--since that is no ISO 8601 time', ['list', '--since', 'yesterday']],
    ['--until without a zone', ['replay', '--until', '2026-12-05T08:00:00']],
  ] as const) {
    it(what, async (t) => {
      const { file } = await withDeadLetters(t, 1);
      const r = await junction(['dlq', ...args, '-c', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: /m);
    });
  }

  it('run --port that is no port', async () => {
    const r = await junction(['run', '--port', '99999', '-c', '/nonexistent.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: .*--port/);
  });
});

describe('junction dlq bulk replay and purge go in pages', () => {
  /** `n` dead letters of orders-to-crm made at once (more than one page of 500), each with a dedupe key. */
  async function manyDeadLetters(t: TestContext, n: number): Promise<{ dir: string; file: string; keys: Map<string, string> }> {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, CONFIG);
    const clock = new ManualClock();
    const store = openStore('sqlite:./j.db', { baseDir: dir, clock });
    await store.migrate();
    await store.enqueue(Array.from({ length: n }, (_, i) => ({ flow: 'orders-to-crm', body: { i }, dedupeKey: `k-${i}` })));
    const claimed = await store.claim({ worker: 'w', limit: n, leaseMs: LEASE_MS });
    await Promise.all(claimed.map((c) => store.settle(c, { kind: 'dead', error: permanentError() }, null)));
    const keys = new Map(claimed.map((c) => [c.id, c.idempotencyKey]));
    await store.close();
    return { dir, file, keys };
  }

  it('replays every dead letter of the flow, past the first page, each keeping its id and key', async (t) => {
    const { dir, file, keys } = await manyDeadLetters(t, 1203);
    const r = await junction(['dlq', 'replay', '--flow', 'orders-to-crm', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'replayed 1203 dead letters\n');
    const store = openStore('sqlite:./j.db', { baseDir: dir });
    t.after(() => store.close());
    await store.migrate();
    assert.deepEqual(await store.stats(), { queued: 1203, running: 0, done: 0, dead: 0 });
    for (const [id, key] of [...keys].slice(0, 3).concat([...keys].slice(-3))) {
      const m = await store.getMessage(id);
      assert.equal(m?.state, 'queued');
      assert.equal(m?.idempotencyKey, key);
    }
  });

  it('purges every dead letter with --all, past the first page', async (t) => {
    const { dir, file } = await manyDeadLetters(t, 1001);
    const r = await junction(['dlq', 'purge', '--all', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'purged 1001 dead letters\n');
    const store = openStore('sqlite:./j.db', { baseDir: dir });
    t.after(() => store.close());
    await store.migrate();
    assert.equal(await store.deadLetters.count(), 0);
  });
});
