/**
 * @module bench/lib/baselines/ingest
 * The ingest baseline: a bare `node:http` server over `node:sqlite` that does
 * what Junction's HTTP trigger does at its core, and nothing else. It parses the
 * JSON body, INSERTs one row (id, body), and answers `202 {"id"}` after the
 * commit. The database is in WAL mode with `synchronous = FULL`, as in Junction's
 * SQLite store (src/store/sqlite/store.ts, the default there).
 *
 * `--commit autocommit` (the baseline as most naturally written): every INSERT is
 * its own transaction, so one fsync per request. `--commit batched`: the INSERTs
 * that arrive in one turn of the event loop share a transaction (what Junction's
 * group commit does), for reference.
 *
 * Run as a child: `node bench/lib/baselines/ingest.ts --db FILE [--commit autocommit|batched]`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { announce, exitWithParent } from '../child.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    commit: { type: 'string', default: 'autocommit' },
  },
});
if (!values.db) throw new Error('--db FILE is required');
const batched = values.commit === 'batched';
if (!batched && values.commit !== 'autocommit') throw new Error('--commit is autocommit or batched');

const db = new DatabaseSync(values.db);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT');
const insert = db.prepare('INSERT INTO messages (id, body) VALUES (?, ?)');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');

interface Pending {
  id: string;
  body: string;
  res: ServerResponse;
}
let group: Pending[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const writes = group;
  group = [];
  try {
    begin.run();
    for (const w of writes) insert.run(w.id, w.body);
    commit.run();
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    for (const w of writes) fail(w.res, 500, (e as Error).message);
    return;
  }
  for (const w of writes) accepted(w.res, w.id);
}

function accepted(res: ServerResponse, id: string): void {
  const text = JSON.stringify({ id });
  res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({ error: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/in') {
    req.resume();
    return fail(res, 404, 'not found');
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: string;
    try {
      // Parsed to refuse bad JSON, and stored as text, as Junction does.
      body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (e) {
      return fail(res, 400, (e as Error).message);
    }
    const id = randomUUID();
    if (batched) {
      group.push({ id, body, res });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return;
    }
    try {
      insert.run(id, body);
    } catch (e) {
      return fail(res, 500, (e as Error).message);
    }
    accepted(res, id);
  });
}

const server = createServer({ keepAliveTimeout: 30_000 }, handle);
server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
exitWithParent(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (group.length > 0) flush();
  db.close();
});
