/**
 * @module bench/lib/instrument
 * Child side of a profiled run: measures one phase of a server's life, chosen by
 * the parent with signals, so that start-up and warm-up stay out of the figures.
 *
 * - SIGUSR2 starts the phase: the V8 CPU profiler of the MAIN thread
 *   (node:inspector, in-process: what `--cpu-prof` records, limited to the
 *   phase), a count of every `node:sqlite` statement run on the main thread with
 *   its wall time, and the main thread's event-loop utilisation. If the child
 *   was started with `--import bench/lib/instrument-thread.ts`, every worker
 *   thread that runs node:sqlite (the store's thread) measures the same phase:
 *   its statements and its event-loop utilisation (see that module). Prints
 *   `MEASURING`.
 * - SIGUSR1 ends it: writes `profile.cpuprofile` (main thread only) into the
 *   directory given, and prints `MEASURED {json}` ({@link PhaseStats}).
 *
 * Wrapping `StatementSync.prototype` costs a `performance.now()` pair per
 * statement, so a profiled run is not one of the measured runs.
 *
 * The protocol is kept as it was before the store moved to a worker thread
 * (`threads` is an addition), so that `bench/run.ts --before <commit>` can
 * profile an older commit with that commit's own copy of this module.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { StatementSync, DatabaseSync } from 'node:sqlite';
import { BroadcastChannel } from 'node:worker_threads';

export interface SqlStat {
  /** The statement's SQL, whitespace collapsed, cut at 70 characters. */
  sql: string;
  calls: number;
  ms: number;
}

/** What one worker thread measured over the phase (bench/lib/instrument-thread.ts). */
export interface ThreadStats {
  threadId: number;
  wallMs: number;
  /** Event-loop utilisation of that thread, 0..1 (a synchronous statement counts as busy). */
  elu: number;
  /** Every statement it ran during the phase, by total wall time, descending. */
  sql: SqlStat[];
}

export interface PhaseStats {
  wallMs: number;
  /** Event-loop utilisation of the main thread over the phase, 0..1 (synchronous SQLite counts as busy). */
  elu: number;
  /** Every statement run on the main thread during the phase, by total wall time, descending. */
  sql: SqlStat[];
  /** Worker threads that ran node:sqlite statements in the phase; absent when they were not measured. */
  threads?: ThreadStats[];
}

/** The channel between this module and bench/lib/instrument-thread.ts. */
export const MEASURE_CHANNEL = 'junction-bench-measure';
export type MeasureMessage = { kind: 'start'; dir: string } | { kind: 'stop' } | { kind: 'started'; threadId: number } | { kind: 'stats'; stats: ThreadStats };

type Method = 'run' | 'get' | 'all';

/**
 * Wraps node:sqlite in this thread (prototypes are per thread): every
 * statement's calls and wall time go into `stats` while `measuring()` is true.
 * `PRAGMA synchronous = …` run through `exec` is followed, so that a COMMIT is
 * listed with the synchronous mode it ran under (FULL: fsync of the WAL).
 */
export function wrapStatements(stats: Map<string, SqlStat>, measuring: () => boolean): void {
  let synchronous = '';
  const record = (key: string, ms: number): void => {
    let s = stats.get(key);
    if (!s) stats.set(key, (s = { sql: key.replace(/\s+/g, ' ').trim().slice(0, 70), calls: 0, ms: 0 }));
    s.calls++;
    s.ms += ms;
  };
  const proto = StatementSync.prototype as unknown as Record<Method, (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all'] as const) {
    const original = proto[method];
    proto[method] = function (this: StatementSync, ...args: unknown[]): unknown {
      if (!measuring()) return original.apply(this, args);
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const sql = this.sourceSQL;
        record(sql === 'COMMIT' && synchronous !== '' ? `COMMIT (synchronous ${synchronous})` : sql, performance.now() - t0);
      }
    };
  }
  const db = DatabaseSync.prototype as unknown as { exec: (sql: string) => void };
  const exec = db.exec;
  db.exec = function (this: DatabaseSync, sql: string): void {
    const mode = /^\s*PRAGMA\s+synchronous\s*=\s*(\w+)/i.exec(sql);
    if (mode) synchronous = mode[1]!.toUpperCase();
    if (!measuring()) return exec.call(this, sql);
    const t0 = performance.now();
    try {
      return exec.call(this, sql);
    } finally {
      record(sql, performance.now() - t0);
    }
  };
}

/** The V8 CPU profiler of the calling thread, through an inspector session of its own. */
export function cpuProfiler(): { start(): Promise<void>; stop(file: string): Promise<void> } {
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, {}, (err, result) => (err ? reject(err) : resolve(result))));
  return {
    async start() {
      await post('Profiler.enable');
      await post('Profiler.start');
    },
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

export function instrument(dir: string): void {
  const stats = new Map<string, SqlStat>();
  let measuring = false;
  wrapStatements(stats, () => measuring);

  const profiler = cpuProfiler();
  let started = 0;
  let elu = performance.eventLoopUtilization();

  // Worker threads started with the preload answer on this channel; none answer otherwise.
  const channel = new BroadcastChannel(MEASURE_CHANNEL);
  channel.unref();
  let threads: ThreadStats[] = [];
  let startedThreads = 0;
  let replies = 0;
  channel.onmessage = (event: unknown) => {
    const m = (event as { data: MeasureMessage }).data;
    if (m.kind === 'started') startedThreads++;
    if (m.kind !== 'stats') return;
    replies++;
    if (m.stats.sql.length > 0) threads.push(m.stats);
  };
  const waitFor = async (done: () => boolean, ms: number): Promise<void> => {
    const until = performance.now() + ms;
    while (!done() && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  };

  process.on('SIGUSR2', () => {
    void (async () => {
      threads = [];
      startedThreads = replies = 0;
      channel.postMessage({ kind: 'start', dir } satisfies MeasureMessage);
      // A thread with the preload acknowledges at once; without it nobody does, and 200 ms are lost before the phase.
      await waitFor(() => startedThreads > 0, 200);
      await profiler.start();
      stats.clear();
      measuring = true;
      started = performance.now();
      elu = performance.eventLoopUtilization();
      process.stdout.write('MEASURING\n');
    })();
  });
  process.on('SIGUSR1', () => {
    const wallMs = performance.now() - started;
    const utilization = performance.eventLoopUtilization(elu).utilization;
    measuring = false;
    channel.postMessage({ kind: 'stop' } satisfies MeasureMessage);
    void (async () => {
      await profiler.stop(join(dir, 'profile.cpuprofile'));
      await waitFor(() => replies >= startedThreads, 2000);
      const out: PhaseStats = { wallMs, elu: utilization, sql: [...stats.values()].sort((a, b) => b.ms - a.ms) };
      if (startedThreads > 0) out.threads = threads;
      process.stdout.write(`MEASURED ${JSON.stringify(out)}\n`);
    })();
  });
}
