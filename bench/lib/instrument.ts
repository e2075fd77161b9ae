/**
 * @module bench/lib/instrument
 * Child side of a profiled run: measures one phase of a server's life, chosen by
 * the parent with signals, so that start-up and warm-up stay out of the figures.
 *
 * - SIGUSR2 starts the phase: the V8 CPU profiler (node:inspector, in-process:
 *   what `--cpu-prof` records, limited to the phase), a count of every
 *   `node:sqlite` statement run with its wall time, and the event-loop
 *   utilisation. Prints `MEASURING`.
 * - SIGUSR1 ends it: writes `profile.cpuprofile` into the directory given, and
 *   prints `MEASURED {json}` ({@link PhaseStats}).
 *
 * Wrapping `StatementSync.prototype` costs a `performance.now()` pair per
 * statement, so a profiled run is not one of the measured runs.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { StatementSync } from 'node:sqlite';

export interface SqlStat {
  /** The statement's SQL, whitespace collapsed, cut at 70 characters. */
  sql: string;
  calls: number;
  ms: number;
}

export interface PhaseStats {
  wallMs: number;
  /** Event-loop utilisation of the main thread over the phase, 0..1 (synchronous SQLite counts as busy). */
  elu: number;
  /** Every statement run during the phase, by total wall time, descending. */
  sql: SqlStat[];
}

type Method = 'run' | 'get' | 'all';

export function instrument(dir: string): void {
  const stats = new Map<string, SqlStat>();
  let measuring = false;
  const proto = StatementSync.prototype as unknown as Record<Method, (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all'] as const) {
    const original = proto[method];
    proto[method] = function (this: StatementSync, ...args: unknown[]): unknown {
      if (!measuring) return original.apply(this, args);
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        const key = this.sourceSQL;
        let s = stats.get(key);
        if (!s) stats.set(key, (s = { sql: key.replace(/\s+/g, ' ').trim().slice(0, 70), calls: 0, ms: 0 }));
        s.calls++;
        s.ms += ms;
      }
    };
  }

  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  let started = 0;
  let elu = performance.eventLoopUtilization();

  process.on('SIGUSR2', () => {
    void (async () => {
      await post('Profiler.enable');
      await post('Profiler.start');
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
    void (async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(join(dir, 'profile.cpuprofile'), JSON.stringify(profile));
      const out: PhaseStats = { wallMs, elu: utilization, sql: [...stats.values()].sort((a, b) => b.ms - a.ms) };
      process.stdout.write(`MEASURED ${JSON.stringify(out)}\n`);
    })();
  });
}
