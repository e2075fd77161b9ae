/**
 * A CSV upload split into one message per record, streamed: never held whole in
 * memory, partial failures keep what was stored, and a repeated upload adds only
 * what is missing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { NewMessage } from '../../src/core/message.ts';
import { ingestRecords, recordsOptions } from '../../src/triggers/records.ts';
import { peakRssBytes, runJunction } from '../helpers/child.ts';
import { startTestEngine, writeTestConfig } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

function config(sink: Sink, records = '{ format: csv }'): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  imports:
    trigger: { http: { path: /imports, records: ${records} } }
    steps:
      - map: { sku: sku, qty: $number(qty) }
      - deliver: { connector: sink, request: { path: /stock } }
`;
}

async function setup(t: TestContext, workers = true, records?: string) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, config(sink, records), { workers });
  const upload = async (csv: string | ReadableStream<Uint8Array>, key?: string) => {
    const res = await fetch(`${engine.url}/imports`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...(key ? { 'idempotency-key': key } : {}) },
      body: csv,
      duplex: 'half',
    } as RequestInit);
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { sink, engine, upload };
}

describe('records: a CSV upload becomes one message per record', () => {
  it('stores each record and delivers each on its own', async (t) => {
    const { sink, engine, upload } = await setup(t);
    const res = await upload('sku,qty\nA-1,5\nB-2,7\nC-3,0\n', 'up-1');
    assert.equal(res.status, 202);
    assert.deepEqual(res.json, { count: 3, created: 3, duplicates: 0 });
    await engine.until(() => sink.received().size === 3);
    assert.deepEqual(new Set(sink.received().keys()), new Set(['up-1:0', 'up-1:1', 'up-1:2']));
    assert.deepEqual(JSON.parse(sink.requests.find((r) => r.idempotencyKey === 'up-1:1')!.body), { sku: 'B-2', qty: 7 });
  });

  it('keeps what was stored before a malformed row, and a resend with the same key adds only the rest', async (t) => {
    const { engine, upload } = await setup(t, false);
    const bad = await upload('sku,qty\nA-1,5\nB-2,7,extra\nC-3,0\n', 'up-2');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'JNC_INPUT_INVALID');
    assert.match(String(bad.json.detail), /CSV line 3/);
    assert.match(String(bad.json.detail), /same Idempotency-Key/);
    const fixed = await upload('sku,qty\nA-1,5\nB-2,7\nC-3,0\n', 'up-2');
    assert.deepEqual(fixed.json, { count: 3, created: 3 - Number(bad.json.stored), duplicates: Number(bad.json.stored) });
    const s = await engine.store.stats();
    assert.equal(s.queued, 3);
  });

  it('reads the rest of an upload refused early, so a sender that goes on sending is not left stuck', { timeout: 30_000 }, async (t) => {
    const { engine } = await setup(t, false);
    // node:http sends the whole body whatever the answer (fetch gives up on it). 8 MB after the
    // malformed row is more than the socket buffers take: unread, the sender would wait forever.
    const agent = new Agent({ keepAlive: true });
    const req = request(`${engine.url}/imports`, { agent, method: 'POST', headers: { 'content-type': 'text/csv' } });
    const answered = new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    const sent = new Promise<void>((resolve, reject) => req.on('finish', resolve).on('error', reject));
    req.end(`sku,qty\nA-1,5\nB-2,7,extra\n${'C-3,1\n'.repeat(8 * 2 ** 20 / 6)}`);
    const res = await answered;
    const ended = once(res.resume(), 'end');
    assert.equal(res.statusCode, 400);
    await Promise.all([sent, ended]);
    agent.destroy(); // its idle socket would hold the engine's close for the keep-alive time
  });

  it('refuses a body that is not CSV with 415', async (t) => {
    const { engine } = await setup(t, false);
    const res = await fetch(`${engine.url}/imports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 415);
  });

  it('refuses a record longer than maxRecordBytes with 400 naming its line, and keeps the records before it', async (t) => {
    const { engine, upload } = await setup(t, false, '{ format: csv, maxRecordBytes: 1000 }');
    // Without the bound the parser holds a record whole, however long it grows.
    const res = await upload(`sku,qty\nA-1,5\nB-2,${'7'.repeat(2000)}\nC-3,0\n`, 'up-long');
    assert.equal(res.status, 400, JSON.stringify(res.json).slice(0, 300));
    assert.equal(res.json.code, 'JNC_INPUT_INVALID');
    assert.match(String(res.json.detail), /CSV line 3: .*1000/);
    assert.equal((await engine.store.stats()).queued, Number(res.json.stored));
  });

  it('commits a chunk early once its records reach 8 MB, whatever chunkRecords says', async () => {
    const field = 'x'.repeat(100_000);
    const rows = 200;
    const source = Readable.from([`sku,description\n`, ...Array.from({ length: rows }, (_, i) => `S-${i},${field}\n`)]);
    const batches: number[] = [];
    const ingest = async (batch: NewMessage[]) => {
      batches.push(batch.length);
      return batch.map((m) => ({ id: String(m.dedupeKey), duplicate: false }));
    };
    const options = recordsOptions.parse({ format: 'csv' });
    assert.deepEqual(await ingestRecords({ source, options, base: { flow: 'imports' }, uploadKey: 'up', keyExpression: undefined, ingest }), { count: rows, created: rows });
    assert.ok(Math.max(...batches) <= 84, `chunks of ${batches.join(', ')} records of 100 KB`);
    assert.equal(batches.reduce((a, b) => a + b, 0), rows);
  });

  it('reads no further into the upload while a chunk of records is being committed', async () => {
    const total = 4 * 2 ** 20;
    let pulled = 0;
    let row = 0;
    // 64 KB pieces of 100-byte rows, made only when the parser asks for more.
    const source = new Readable({
      read() {
        if (pulled >= total) return void this.push(null);
        const lines: string[] = pulled === 0 ? ['sku,qty,description'] : [];
        for (let n = 0; n < 650; n++, row++) lines.push(`S-${String(row).padStart(8, '0')},${row % 50},${'x'.repeat(84)}`);
        const piece = Buffer.from(lines.join('\n') + '\n');
        pulled += piece.length;
        this.push(piece);
      },
    });
    let release!: () => void;
    const committed = new Promise<void>((resolve) => (release = resolve));
    let pulledAtFirstCommit: number | undefined;
    const ingest = async (batch: NewMessage[]) => {
      if (pulledAtFirstCommit === undefined) {
        pulledAtFirstCommit = pulled;
        await committed;
      }
      return batch.map((m) => ({ id: String(m.dedupeKey), duplicate: false }));
    };
    const options = recordsOptions.parse({ format: 'csv' });
    const result = ingestRecords({ source, options, base: { flow: 'imports' }, uploadKey: 'up', keyExpression: undefined, ingest });

    // The first commit hangs: however many turns the event loop takes, the reading stops at a
    // few stream buffers past that chunk (1,000 rows, 100 KB), far from the 4 MB on offer.
    while (pulledAtFirstCommit === undefined) await nextTurn();
    for (let turn = 0; turn < 200; turn++) await nextTurn();
    assert.ok(pulled < 1024 * 1024, `${pulled} bytes were read while the first chunk was being committed`);
    release();
    assert.deepEqual(await result, { count: row, created: row });
    assert.ok(pulled >= total);
  });

  it('streams uploads of 20 MB and 80 MB with the same peak resident memory: it does not grow with the upload', { timeout: 120_000 }, async (t) => {
    const sink = await startTestSink(t);
    const { configFile } = writeTestConfig(t, config(sink).replace('worker: { pollMs: 20 }', 'worker: { pollMs: 20, concurrency: 1, leaseMs: 600000 }'));
    // Both V8 generations are capped: the young one, left alone, grows to 128 MB under this
    // allocation rate, which RSS would count (it is not part of --max-old-space-size). Buffers
    // live outside the heap, so the peak resident memory is what shows an upload held whole.
    const proc = await runJunction(configFile, { env: { NODE_OPTIONS: '--max-old-space-size=64 --max-semi-space-size=1' } });
    t.after(() => proc.child.kill('SIGKILL'));
    const upload = async (key: string, rows: number) => {
      const { body, sent } = csvUpload(rows);
      const res = await fetch(`${proc.url}/imports`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', 'idempotency-key': key },
        body,
        duplex: 'half',
      } as RequestInit);
      const json = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 202, JSON.stringify(json));
      assert.deepEqual(json, { count: rows, created: rows, duplicates: 0 });
      return { sent: sent(), peak: peakRssBytes(proc.child.pid) };
    };
    const mb = (n: number): string => (n / 2 ** 20).toFixed(0);
    const start = peakRssBytes(proc.child.pid);
    // The small upload brings the heap, the JIT code and SQLite's cache to their working size.
    const small = await upload('small', 21_000);
    const large = await upload('large', 84_000);
    assert.ok(large.sent > 80 * 2 ** 20, `sent ${large.sent} bytes`);
    if (start === undefined || small.peak === undefined || large.peak === undefined) {
      t.diagnostic('peak resident memory not checked: no /proc/PID/status on this system');
    } else {
      // Measured: the second peak is within a few MB of the first (both about 25 MB over the
      // idle server). Holding an upload whole adds its size at least (twice, with Buffer.concat),
      // so the 60 MB more of the large one would show as 60 to 120 MB more.
      const growth = large.peak - small.peak;
      const extra = large.sent - small.sent;
      assert.ok(growth < extra / 4, `the peak resident memory grew by ${mb(growth)} MB more for a ${mb(large.sent)} MB upload than for a ${mb(small.sent)} MB one`);
    }
    console.log(`# peak RSS ${mb(start ?? 0)} MB idle, ${mb(small.peak ?? 0)} MB after ${mb(small.sent)} MB of CSV, ${mb(large.peak ?? 0)} MB after ${mb(large.sent)} MB`);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output().slice(-2000));
  });
});

/** A CSV upload of `rows` rows of about 1 KB after `head`, made as it is sent; `done` resolves once all of it was taken. */
function csvUpload(rows: number, head = 'sku,qty,description'): { body: ReadableStream<Uint8Array>; sent: () => number; done: Promise<void> } {
  const pad = 'x'.repeat(1000);
  const encoder = new TextEncoder();
  let i = 0;
  let sent = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const lines: string[] = i === 0 ? [head] : [];
      for (let n = 0; n < 500 && i < rows; n++, i++) lines.push(`S-${i},${i % 50},${pad}`);
      const chunk = encoder.encode(lines.join('\n') + '\n');
      sent += chunk.length;
      controller.enqueue(chunk);
      if (i >= rows) {
        controller.close();
        finished();
      }
    },
  });
  return { body, sent: () => sent, done };
}
