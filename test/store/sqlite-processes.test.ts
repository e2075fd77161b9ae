/**
 * @module test/store/sqlite-processes.test
 * Two processes on one SQLite file, truly in parallel (the contract tests run
 * two stores in one process, whose synchronous transactions never overlap):
 * claims never hand one message to both, and a lock held by one process
 * excludes the other until it is released, or until the lease of a killed
 * holder has run out.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { message } from './contract/fixture.ts';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-child.ts', import.meta.url));
/** The store's default lock lease, which the children run with. */
const LOCK_LEASE_MS = 30_000;
const LOCK = 'schedule:nightly';

let dir = '';
let dbPath = '';
let stores: Store[] = [];
let children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-procs-'));
  dbPath = join(dir, 'junction.db');
});

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
  await Promise.allSettled(stores.map((s) => s.close()));
  stores = [];
  rmSync(dir, { recursive: true, force: true });
});

async function open(clock = new ManualClock()): Promise<Store> {
  const store = createSqliteStore({ path: dbPath, clock });
  stores.push(store);
  await store.migrate();
  return store;
}

interface Child {
  process: ChildProcess;
  /** Resolves with the next line the child printed that was not read yet. */
  nextLine(): Promise<string>;
  /** Every line printed so far. */
  lines: string[];
  /** Resolves with the exit code once the child has exited; rejects with its stderr otherwise. */
  exited: Promise<number | null>;
}

function child(...args: string[]): Child {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  // A line printed before anyone asked for it waits here, read in order by nextLine.
  let read = 0;
  let waiting: (() => void) | undefined;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    waiting?.();
  });
  const exited = once(proc, 'exit').then(([code]) => {
    if (code !== 0 && proc.signalCode === null) throw new Error(`child ${args.join(' ')} exited with ${code}: ${stderr}`);
    return code as number | null;
  });
  return {
    process: proc,
    lines,
    exited,
    async nextLine() {
      while (read === lines.length) {
        const printed = new Promise<void>((resolve) => (waiting = resolve));
        await Promise.race([printed, exited.then(() => Promise.reject(new Error(`child exited before printing a line: ${stderr}`)))]);
      }
      return lines[read++] as string;
    },
  };
}

describe('SQLite store: two processes on one file', () => {
  it('claimers in two processes at once take every message exactly once', { timeout: 60_000 }, async (t) => {
    const store = await open();
    const total = 600;
    const enqueued = await store.enqueue(Array.from({ length: total }, (_, n) => message({ body: { n } })));
    const claimers = [child('claim', dbPath, '3'), child('claim', dbPath, '3')];
    for (const c of claimers) assert.equal(await c.nextLine(), 'ready');
    for (const c of claimers) c.process.stdin?.end('go\n');
    await Promise.all(claimers.map((c) => c.exited));
    const [a, b] = claimers.map((c) => c.lines.slice(1)) as [string[], string[]];
    const claimed = [...a, ...b];
    const twice = claimed.filter((id, i) => claimed.indexOf(id) !== i);
    assert.deepEqual(twice, [], 'no message was claimed by both');
    assert.deepEqual(new Set(claimed), new Set(enqueued.map((r) => r.id)));
    // How the work was shared depends on scheduling, so it is reported, not asserted.
    t.diagnostic(`claimed ${a.length} and ${b.length}`);
  });

  it('a lock held by another process excludes this one until that process releases it', { timeout: 30_000 }, async () => {
    const store = await open();
    const holder = child('hold', dbPath, LOCK);
    assert.equal(await holder.nextLine(), 'held');
    assert.equal(await store.exclusive(LOCK, async () => assert.fail('must not run')), false);
    const other = child('hold', dbPath, LOCK);
    assert.equal(await other.nextLine(), 'refused');
    holder.process.stdin?.end();
    await holder.exited;
    assert.equal(await store.exclusive(LOCK, async () => {}), true);
  });

  it('the lock of a killed process is taken once its lease has run out, not before', { timeout: 30_000 }, async () => {
    const clock = new ManualClock(Date.now());
    const store = await open(clock);
    const holder = child('hold', dbPath, LOCK);
    assert.equal(await holder.nextLine(), 'held');
    const heldAt = Date.now();
    holder.process.kill('SIGKILL');
    await holder.exited;
    assert.equal(await store.exclusive(LOCK, async () => assert.fail('must not run')), false, 'a dead holder keeps the lock until its lease runs out');
    // The child stamped its lease with the real clock; step past it on ours.
    clock.set(heldAt + LOCK_LEASE_MS + 1);
    assert.equal(await store.exclusive(LOCK, async () => {}), true);
  });
});
