/**
 * `junction send` as an operator runs it: files of each format and stdin into a
 * real store, bad records reported by line while the rest go in, `--key` making
 * a second run add nothing, and a running engine delivering what was sent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseProgress } from '../../src/cli/progress.ts';
import { openStore } from '../../src/store/open.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { junction, type CliResult } from '../helpers/cli.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

// The connector's secret is never set: send reads the store and the flow's steps only.
const CONFIG = `
store: sqlite:./j.db
connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010", auth: { bearer: "\${env:CRM_SECRET}" } }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: crm } } ]
  checked:
    trigger: { http: { path: /hooks/checked } }
    steps:
      - validate: { at: ingress, schema: { type: object, required: [id], properties: { id: { type: string } } } }
      - deliver: { connector: crm }
`;

interface Stored {
  flow: string;
  body: unknown;
  dedupeKey: string | null;
  meta: Record<string, unknown>;
}

function project(t: TestContext, files: Record<string, string> = {}): { dir: string; config: string } {
  const dir = tempDir(t);
  const config = join(dir, 'junction.yaml');
  writeFileSync(config, CONFIG);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, config };
}

/** Every message in the store, oldest first, read with SQL once the CLI has exited. */
function stored(dir: string): Stored[] {
  const db = new DatabaseSync(join(dir, 'j.db'), { readOnly: true });
  try {
    return db
      .prepare('SELECT flow, body, dedupe_key, meta FROM messages ORDER BY id')
      .all()
      .map((r) => ({ flow: String(r.flow), body: JSON.parse(String(r.body)), dedupeKey: r.dedupe_key as string | null, meta: JSON.parse(String(r.meta)) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

function send(config: string, args: string[]): Promise<CliResult> {
  return junction(['send', ...args, '-c', config], { CRM_SECRET: undefined });
}

function sendStdin(config: string, args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'send', ...args, '-c', config, '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('junction send stores each record as a message', () => {
  it('a .json array: one message per element, in order, with its line in meta', async (t) => {
    const { dir, config } = project(t, { 'data.json': '[\n  {"id": "a", "n": [1, 2]},\n  {"id": "b, ]"},\n  3\n]\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sent 3 new messages to orders\n$/);
    const rows = stored(dir);
    assert.deepEqual(rows.map((m) => m.body), [{ id: 'a', n: [1, 2] }, { id: 'b, ]' }, 3]);
    assert.deepEqual(rows.map((m) => m.meta.line), [2, 3, 4]);
    assert.ok(rows.every((m) => m.flow === 'orders' && m.meta.source === 'data.json' && m.dedupeKey === null));
  });

  it('a .json file holding one object is one message', async (t) => {
    const { dir, config } = project(t, { 'one.json': '{\n "id": "only"\n}' });
    const r = await send(config, ['orders', '-f', join(dir, 'one.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stored(dir).map((m) => m.body), [{ id: 'only' }]);
  });

  it('a .csv file: one object per row, keyed by the header row', async (t) => {
    const { dir, config } = project(t, { 'data.csv': 'id,email\n1,a@example.com\n2,"b, c@example.com"\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.csv')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stored(dir).map((m) => m.body), [{ id: '1', email: 'a@example.com' }, { id: '2', email: 'b, c@example.com' }]);
  });

  it('stdin: JSON lines by default, a JSON array when it starts with [, CSV with --format csv', async (t) => {
    const { dir, config } = project(t);
    assert.equal((await sendStdin(config, ['orders'], '{"n":1}\n\n{"n":2}\n')).code, 0);
    assert.equal((await sendStdin(config, ['orders'], ' [{"n":3},{"n":4}]')).code, 0);
    const csv = await sendStdin(config, ['orders', '--format', 'csv'], 'n\n5\n');
    assert.equal(csv.code, 0, csv.stderr);
    assert.deepEqual(stored(dir).map((m) => m.body), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: '5' }]);
    assert.equal(stored(dir)[0]!.meta.source, 'stdin');
  });

  it('stores in batches: more records than one batch all arrive', async (t) => {
    const lines = Array.from({ length: 23 }, (_, i) => JSON.stringify({ i })).join('\n');
    const { dir, config } = project(t, { 'many.jsonl': lines });
    const r = await send(config, ['orders', '-f', join(dir, 'many.jsonl'), '--batch', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stored(dir).map((m) => (m.body as { i: number }).i), Array.from({ length: 23 }, (_, i) => i));
  });
});

describe('junction send reports what it refuses, by line, and loses nothing else', () => {
  it('a line that is not JSON is refused with its number; the lines around it are stored; exit 1', async (t) => {
    const { dir, config } = project(t, { 'data.jsonl': '{"n":1}\n{"n":2}\n{"n":3,}\n{"n":4}\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.jsonl')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^line 3: not JSON: /m);
    assert.match(r.stdout, /sent 3 new messages to orders; 1 refused \(line 3\)/);
    assert.deepEqual(stored(dir).map((m) => m.body), [{ n: 1 }, { n: 2 }, { n: 4 }]);
  });

  it('a CSV row with too many fields is refused at its line', async (t) => {
    const { dir, config } = project(t, { 'data.csv': 'id,name\n1,a\n2,b,extra\n3,c\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.csv'), '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), { flow: 'orders', read: 3, sent: 2, duplicates: 0, refused: 1, refusedLines: [3] });
    assert.match(r.stderr, /^line 3: CSV: /m);
    assert.deepEqual(stored(dir).map((m) => (m.body as { id: string }).id), ['1', '3']);
  });

  it('runs the flow\'s ingress validate: a body it refuses is reported with the violation and not stored', async (t) => {
    const { dir, config } = project(t, { 'data.json': '[{"id":"a"},\n{"id":7},\n{"id":"c"}]' });
    const r = await send(config, ['checked', '-f', join(dir, 'data.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^line 2: JNC_INPUT_SCHEMA: .*\/id/m);
    assert.deepEqual(stored(dir).map((m) => m.body), [{ id: 'a' }, { id: 'c' }]);
  });

  it('a key reused for another body refuses that record only, not the rest of its batch', async (t) => {
    const { dir, config } = project(t, { 'data.jsonl': '{"id":"a","v":1}\n{"id":"b","v":1}\n{"id":"a","v":2}\n{"id":"c","v":1}\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.jsonl'), '--key', 'id']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^line 3: JNC_IDEMPOTENCY_KEY_REUSED: /m);
    assert.deepEqual(stored(dir).map((m) => m.dedupeKey), ['a', 'b', 'c']);
  });
});

describe('junction send --key', () => {
  it('sending the same file again after a failure adds only what was missing', async (t) => {
    const { dir, config } = project(t, {
      'first.jsonl': '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n',
      'again.jsonl': '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n{"id":"d"}\n',
    });
    assert.equal((await send(config, ['orders', '-f', join(dir, 'first.jsonl'), '--key', 'id'])).code, 0);
    const again = await send(config, ['orders', '-f', join(dir, 'again.jsonl'), '--key', 'id', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { flow: 'orders', read: 4, sent: 1, duplicates: 3, refused: 0, refusedLines: [] });
    assert.deepEqual(stored(dir).map((m) => m.dedupeKey), ['a', 'b', 'c', 'd']);
  });

  it('a key expression that yields nothing for a record refuses that record', async (t) => {
    const { dir, config } = project(t, { 'data.jsonl': '{"id":"a"}\n{"other":1}\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.jsonl'), '--key', 'id']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^line 2: JNC_INPUT_IDEMPOTENCY_KEY: /m);
    assert.equal(stored(dir).length, 1);
  });
});

describe('junction send refuses to start', () => {
  it('an unknown flow, listing the flows there are', async (t) => {
    const { dir, config } = project(t, { 'data.json': '[1]' });
    const r = await send(config, ['ordrs', '-f', join(dir, 'data.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /JNC_SEND_FLOW_UNKNOWN: No flow "ordrs" in the configuration; flows: orders, checked/);
  });

  it('a file that is not there', async (t) => {
    const { dir, config } = project(t);
    const r = await send(config, ['orders', '-f', join(dir, 'missing.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /JNC_SEND_INPUT_UNREADABLE: Cannot read .*missing\.json/);
  });

  it('a file whose format its extension does not name, nor --format: a usage error', async (t) => {
    const { dir, config } = project(t, { 'data.txt': '{}' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.txt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: cannot tell the format/);
    assert.equal((await send(config, ['orders', '-f', join(dir, 'data.txt'), '--format', 'jsonl'])).code, 0);
  });
});

describe('junction send into a running engine', () => {
  it('the engine\'s worker delivers what was sent to the receiver, each once', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./j.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: ${sink.url} }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: sink, request: { method: POST, path: /orders }, idempotencyKey: "{{ id }}" } } ]
`,
    );
    const file = join(engine.dir, 'orders.csv');
    writeFileSync(file, 'id,total\nA-1,10\nA-2,20\nA-3,30\n');
    const r = await junction(['send', 'orders', '-f', file, '-c', engine.configFile, '--key', 'id']);
    assert.equal(r.code, 0, r.stderr);
    await sink.waitFor((s) => s.received().size === 3, 10_000);
    assert.deepEqual([...sink.received()].sort(), [['A-1', 1], ['A-2', 1], ['A-3', 1]]);
    assert.deepEqual(sink.requests.map((q) => JSON.parse(q.body) as unknown).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      { id: 'A-1', total: '10' },
      { id: 'A-2', total: '20' },
      { id: 'A-3', total: '30' },
    ]);
  });
});

const pgUnavailable = await postgresUnavailable();

describe('junction send on PostgreSQL', { skip: pgUnavailable ?? false }, () => {
  it('stores into the shared store, and a second run with --key adds nothing; status counts them', async (t) => {
    const admin = new SchemaAdmin();
    t.after(() => admin.end());
    const schema = schemaName(fileURLToPath(import.meta.url), t.fullName);
    await admin.create(schema);
    const url = new URL(PG_URL);
    url.searchParams.set('schema', schema);
    const dir = tempDir(t);
    const config = join(dir, 'junction.yaml');
    writeFileSync(config, `store: "${url.toString()}"\nflows:\n  orders:\n    trigger: { http: { path: /o } }\n    steps: [ { map: { id: id } } ]\n`);
    writeFileSync(join(dir, 'data.csv'), 'id\n1\n2\n3\n');
    const first = await send(config, ['orders', '-f', join(dir, 'data.csv'), '--key', 'id', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const again = await send(config, ['orders', '-f', join(dir, 'data.csv'), '--key', 'id', '--json']);
    assert.deepEqual(JSON.parse(again.stdout), { flow: 'orders', read: 3, sent: 0, duplicates: 3, refused: 0, refusedLines: [] });
    const store = openStore(url.toString(), { baseDir: dir });
    await store.migrate();
    assert.deepEqual(await store.stats('orders'), { queued: 3, running: 0, done: 0, dead: 0 });
    await store.close();
    const status = await junction(['status', '--json', '-c', config]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { flows: { messages: { queued: number } }[] }).flows[0]!.messages.queued, 3);
    // Kept for a look with psql when the test fails.
    await admin.drop(schema);
  });
});

describe('progress', () => {
  it('a bar only on a terminal with a known size; plain lines otherwise; nothing with --no-progress', () => {
    assert.equal(chooseProgress({ enabled: true, isTTY: true, total: 1000 }), 'bar');
    assert.equal(chooseProgress({ enabled: true, isTTY: false, total: 1000 }), 'lines');
    assert.equal(chooseProgress({ enabled: true, isTTY: true, total: undefined }), 'lines', 'stdin: no size, no bar');
    assert.equal(chooseProgress({ enabled: true, isTTY: true, total: 0 }), 'lines', 'an empty file has nothing to measure');
    assert.equal(chooseProgress({ enabled: false, isTTY: true, total: 1000 }), 'none');
  });

  it('writes nothing but the summary on stdout, and no bar when stderr is not a terminal', async (t) => {
    const { dir, config } = project(t, { 'data.jsonl': '{"n":1}\n' });
    const r = await send(config, ['orders', '-f', join(dir, 'data.jsonl')]);
    assert.equal(r.stdout, 'sent 1 new message to orders\n');
    // Not a terminal: no bar; at most a plain periodic line, if the run outlasts its first interval.
    for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^send orders: \d+ messages \(\d+\/s, \d+%\)$/);
    assert.ok(!r.stderr.includes('\u001b['), 'no terminal control codes');
  });
});
