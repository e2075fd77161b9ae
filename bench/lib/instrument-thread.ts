/**
 * @module bench/lib/instrument-thread
 * Preloaded into a profiled Junction child (`node --import
 * bench/lib/instrument-thread.ts …`): Node runs `--import` modules in every
 * worker thread started from a file, so the SQLite store's thread
 * (src/store/sqlite/thread.ts) gets its node:sqlite statements wrapped as
 * bench/lib/instrument.ts wraps the main thread's. It does nothing on the main
 * thread.
 *
 * The main thread's instrument starts and ends the phase over a
 * BroadcastChannel; this thread answers `started`, then its statements and
 * event-loop utilisation at the end. A thread that ran no statement in the
 * phase is left out by the main side. The channel is unref'd: it never keeps
 * the thread alive. Each thread also records a V8 CPU profile of the phase
 * (its own inspector session), written as `thread-<id>.cpuprofile` into the
 * directory the start names before the thread answers with its statements.
 */
import { join } from 'node:path';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { cpuProfiler, MEASURE_CHANNEL, wrapStatements, type MeasureMessage, type SqlStat } from './instrument.ts';

if (!isMainThread) {
  const stats = new Map<string, SqlStat>();
  let measuring = false;
  let started = 0;
  let elu = performance.eventLoopUtilization();
  wrapStatements(stats, () => measuring);
  const profiler = cpuProfiler();
  let dir = '';
  const channel = new BroadcastChannel(MEASURE_CHANNEL);
  channel.unref();
  channel.onmessage = (event: unknown) => {
    const m = (event as { data: MeasureMessage }).data;
    if (m.kind === 'start') {
      dir = m.dir;
      void (async () => {
        await profiler.start();
        stats.clear();
        measuring = true;
        started = performance.now();
        elu = performance.eventLoopUtilization();
        channel.postMessage({ kind: 'started', threadId } satisfies MeasureMessage);
      })();
    } else if (m.kind === 'stop' && measuring) {
      measuring = false;
      const wallMs = performance.now() - started;
      const utilization = performance.eventLoopUtilization(elu).utilization;
      const sql = [...stats.values()].sort((a, b) => b.ms - a.ms);
      void (async () => {
        await profiler.stop(join(dir, `thread-${threadId}.cpuprofile`));
        channel.postMessage({ kind: 'stats', stats: { threadId, wallMs, elu: utilization, sql } } satisfies MeasureMessage);
      })();
    }
  };
}
