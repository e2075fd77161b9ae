/**
 * @module bench/targets/sink
 * The receiver of the relay benchmark: answers every POST `200 {"ok":true}` and
 * counts requests per `Idempotency-Key`, keeping nothing else (the test sink in
 * test/helpers/sink.ts records every request and has no way to report its counts
 * to another process).
 *
 * - `GET /stats` → `{ requests, unique, duplicates, withoutKey, firstAtMs, lastNewAtMs }`;
 *   times are epoch milliseconds with sub-millisecond precision
 *   (`performance.timeOrigin + performance.now()`), comparable across processes
 *   on one machine.
 * - `POST /reset` forgets everything.
 * - `--hold`: every request is held unanswered (a sink that accepts the
 *   connection and never answers) until `POST /release`, which answers every
 *   held one and the rest as usual; bench/backlog keeps its backlog this way.
 *
 * Run as a child: `node bench/targets/sink.ts [--hold]`; prints `READY <url>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { announce, exitWithParent } from '../lib/child.ts';

const { values } = parseArgs({ options: { hold: { type: 'boolean', default: false } } });

let holding = values.hold;
const held: (() => void)[] = [];

const seen = new Map<string, number>();
let requests = 0;
let duplicates = 0;
let withoutKey = 0;
let firstAtMs = 0;
let lastNewAtMs = 0;
const OK = Buffer.from('{"ok":true}');

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    req.resume();
    const text = JSON.stringify({ requests, unique: seen.size, duplicates, withoutKey, firstAtMs, lastNewAtMs });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if (req.method === 'POST' && req.url === '/release') {
    req.resume();
    holding = false;
    const n = held.length;
    for (const answer of held.splice(0)) answer();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ released: n }));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    req.resume();
    seen.clear();
    requests = duplicates = withoutKey = firstAtMs = lastNewAtMs = 0;
    res.writeHead(204).end();
    return;
  }
  req.resume();
  req.on('end', () => (holding ? held.push(answer) : answer()));
  function answer(): void {
    const now = performance.timeOrigin + performance.now();
    requests++;
    if (firstAtMs === 0) firstAtMs = now;
    const header = req.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined) withoutKey++;
    else {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      if (n > 0) duplicates++;
      else lastNewAtMs = now;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': OK.length });
    res.end(OK);
  }
});

server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
exitWithParent(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
