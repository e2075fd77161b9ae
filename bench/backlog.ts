/**
 * @module bench/backlog
 * Bounded state under a backlog (issue 12, DESIGN.md "Bounded state"): Junction
 * (bench/targets/junction.ts in a child process, workers on) takes N messages
 * while its sink is down, then the sink comes back and everything drains, then
 * a steady flow runs through a fresh engine with a short retention.
 *
 * 1. Backlog. The sink is down in the way that keeps a backlog queued and costs
 *    it nothing: it takes each connection and holds every request unanswered
 *    (bench/targets/sink.ts `--hold`), and the connector waits for an answer
 *    for a day. The worker's slots each hold one first attempt; every other
 *    message stays queued, never claimed, spending no attempt. (A closed port
 *    spends an attempt per message; a circuit breaker puts every paused message
 *    back once per open period, work that grows with the backlog.) N POSTs go in over
 *    HTTP (bench/lib/load.ts, bounded concurrency); every second the child's
 *    RSS (VmRSS in /proc/<pid>/status: the whole process, the store's worker
 *    thread included), the 202s so far and the database size (file + -wal) are
 *    sampled.
 * 2. Drain. The sink comes back (`POST /release`: the held requests are
 *    answered, and every later one); the bench waits until it has received every accepted message, counting
 *    each idempotency key: each must arrive exactly once.
 * 3. Steady. A fresh engine on a fresh database, retention `done` 1 s, sweeps
 *    every 1 s; messages are sent at a constant rate to the live sink; the
 *    file size and the rows in the table are sampled. The file must plateau.
 *
 * Checks (each computed from the run): RSS under 200 MB throughout; the rate of
 * 202s over the last 10% of the messages within 20% of the rate over the first
 * 10%; every message delivered exactly once (backlog and steady); the size of
 * the database over the last third of the steady phase at most 5% above its
 * largest size before that third.
 *
 *   node bench/backlog.ts [--messages 1000000] [--steady-seconds 90] [--steady-rate 1000] [--node-options "--max-semi-space-size=4"] [--from-source] [--write]
 *
 * Junction runs from the built package (dist/, built first), as installed; `--from-source` runs src/ instead.
 *
 * `bench/run.ts --only backlog [--messages N]` runs it and writes its section
 * of BENCHMARKS.md and bench/charts/backlog.svg (`--write` here does the same).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { lineChart, type Marker } from './lib/chart.ts';
import { spawnChild, type ChildServer } from './lib/child.ts';
import { junctionBuilds, spawnJunction, type JunctionBuild } from './lib/junction.ts';
import { orderBody, runLoad, sleep } from './lib/load.ts';
import { withTempDir } from './lib/report.ts';
import { PATH, RELAY_FLOW, type SinkStats } from './relay.ts';

export interface BacklogSettings {
  /** Messages taken while the sink is down. */
  messages: number;
  /** POSTs in flight during the backlog. */
  concurrency: number;
  sampleMs: number;
  /** NODE_OPTIONS for Junction's process (heap settings), stated in the report; empty: Node's defaults. */
  nodeOptions: string;
  /**
   * Run the built package (dist/, built first) as an installed Junction runs,
   * rather than the TypeScript sources; stated in the report.
   */
  built: boolean;
  /** Longest wait for the drain, from the sink's return. */
  drainTimeoutMs: number;
  /** Messages per second in the steady phase. */
  steadyRate: number;
  steadySeconds: number;
}

export const backlogDefaults: BacklogSettings = {
  messages: 1_000_000,
  concurrency: 64,
  sampleMs: 1000,
  nodeOptions: '',
  built: true,
  drainTimeoutMs: 30 * 60_000,
  steadyRate: 1000,
  steadySeconds: 90,
};

const SINK = fileURLToPath(new URL('./targets/sink.ts', import.meta.url));
const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const CHART = fileURLToPath(new URL('./charts/backlog.svg', import.meta.url));
const BUILT_TARGET = fileURLToPath(new URL('./targets/junction-built.mjs', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../scripts/build.ts', import.meta.url));
// The relay's flow and path: the backlog is the relay with its sink down.
const RSS_LIMIT_MB = 200;
const RATE_TOLERANCE = 0.2;
const PLATEAU_TOLERANCE = 0.05;
const RETENTION = { done: '1s', dead: '30d', sweepEvery: '1s' };

type Phase = 'backlog' | 'drain' | 'steady';

export interface Sample {
  /** Seconds since the bench started (the steady phase continues the clock). */
  t: number;
  phase: Phase;
  rssMB: number;
  /** 202 answers so far in this phase's engine. */
  accepted: number;
  /** Distinct idempotency keys the sink has received (0 while it is down). */
  delivered: number;
  /** Database file plus its -wal, in MB. */
  dbMB: number;
  /** Rows in the messages table (steady phase only). */
  rows?: number;
}

export interface Check {
  name: string;
  ok: boolean;
  /** What was measured, in a sentence. */
  detail: string;
}

export interface BacklogResult {
  settings: BacklogSettings;
  samples: Sample[];
  accepted: number;
  failures: number;
  ingestSeconds: number;
  rateFirst: number;
  rateLast: number;
  maxRssMB: number;
  /** At the end of the backlog: queued rows, and the most attempts any had spent. */
  queuedAtEnd: number;
  maxAttempts: number;
  dbMBAtBacklogEnd: number;
  /** From the sink's return to its first delivery, and the drain rate after that. */
  firstDeliveryAfterS: number;
  drainRate: number;
  drainSeconds: number;
  delivered: number;
  duplicates: number;
  steady: { sent: number; delivered: number; duplicates: number; rate: number; plateauGrowth: number; maxRows: number; finalMB: number; markerT: number };
  markers: Marker[];
  checks: Check[];
}


async function sinkStats(sink: ChildServer | undefined): Promise<SinkStats | undefined> {
  if (!sink) return undefined;
  const res = await request(`${sink.url}/stats`);
  return (await res.body.json()) as SinkStats;
}

async function config(dir: string, sinkUrl: string): Promise<string> {
  const file = join(dir, 'junction.yaml');
  await writeFile(
    file,
    [
      `store: { url: "sqlite:./junction.db", retention: { done: ${RETENTION.done}, dead: ${RETENTION.dead}, sweepEvery: ${RETENTION.sweepEvery} } }`,
      'server: { port: 0, host: 127.0.0.1 }',
      'log: { level: warn }',
      'connectors:',
      '  sink:',
      '    type: rest',
      `    baseUrl: "${sinkUrl}"`,
      '    pool: { connections: 16 }',
      // A held request is waited for, not timed out: the backlog spends no attempt.
      '    timeoutMs: 86400000',
      '    retry: { maxAttempts: 50 }',
      ...RELAY_FLOW,
    ].join('\n'),
  );
  return file;
}

function rssMB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function dbMB(dir: string): number {
  const size = (f: string): number => {
    try {
      return statSync(join(dir, f)).size;
    } catch {
      return 0;
    }
  };
  return (size('junction.db') + size('junction.db-wal')) / 2 ** 20;
}

/** Samples every `ms` until stopped; `extra` adds what only some phases have. */
function sampler(
  s: BacklogSettings,
  t0: number,
  state: { phase: Phase; accepted: number; sink?: ChildServer; db?: DatabaseSync },
  server: ChildServer,
  dir: string,
  out: Sample[],
): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const stats = await sinkStats(state.sink).catch(() => undefined);
      let rows: number | undefined;
      try {
        rows = state.db ? Number(state.db.prepare('SELECT count(*) AS n FROM messages').get()?.n) : undefined;
      } catch {
        rows = undefined;
      }
      out.push({
        t: (performance.now() - t0) / 1000,
        phase: state.phase,
        rssMB: server.child.pid === undefined ? Number.NaN : rssMB(server.child.pid),
        accepted: state.accepted,
        delivered: stats?.unique ?? 0,
        dbMB: dbMB(dir),
        ...(rows === undefined ? {} : { rows }),
      });
      await sleep(Math.max(0, s.sampleMs - (performance.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function waitDelivered(sink: ChildServer, unique: number, timeoutMs: number): Promise<SinkStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = (await sinkStats(sink))!;
    if (stats.unique >= unique || Date.now() > deadline) return stats;
    await sleep(100);
  }
}

/** Builds dist/ (scripts/build.ts) and names bench/targets/junction-built.mjs, which runs it. */
function builtPackage(): JunctionBuild {
  const built = spawnSync(process.execPath, [BUILD_SCRIPT], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build failed (exit ${built.status})`);
  return { name: 'junction', script: BUILT_TARGET, label: 'the built package' };
}

export async function runBacklog(s: BacklogSettings = backlogDefaults): Promise<BacklogResult> {
  const t0 = performance.now();
  const at = (): number => (performance.now() - t0) / 1000;
  const samples: Sample[] = [];
  const markers: Marker[] = [];
  const build = s.built ? builtPackage() : junctionBuilds(undefined)[0]!;

  // Phases 1 and 2: backlog with the sink down, then the drain.
  const first = await withTempDir('backlog', async (dir) => {
    const held = await spawnChild({ name: 'sink', script: SINK, args: ['--hold'] });
    const server = await spawnJunction(build, await config(dir, held.url), [], undefined, s.nodeOptions);
    const state: { phase: Phase; accepted: number; sink?: ChildServer } = { phase: 'backlog', accepted: 0 };
    const sampling = sampler(s, t0, state, server, dir, samples);
    let sink: ChildServer | undefined;
    try {
      const tenth = Math.floor(s.messages / 10);
      const marks: number[] = [];
      const loadStart = performance.now();
      const load = await runLoad({
        url: server.url,
        path: PATH,
        requests: s.messages,
        concurrency: s.concurrency,
        body: orderBody,
        expectStatus: 202,
        onAnswer: (ok) => {
          if (!ok) return;
          state.accepted++;
          if (state.accepted === tenth || state.accepted === s.messages - tenth) marks.push(performance.now());
        },
      });
      const loadEnd = performance.now();
      const accepted = state.accepted;
      const [t10 = Number.NaN, t90 = Number.NaN] = marks;
      const rateFirst = (tenth / (t10 - loadStart)) * 1000;
      const rateLast = ((accepted - (s.messages - tenth)) / (loadEnd - t90)) * 1000;
      console.log(`backlog: ${accepted} of ${s.messages} accepted in ${((loadEnd - loadStart) / 1000).toFixed(1)} s; first 10% at ${rateFirst.toFixed(0)}/s, last 10% at ${rateLast.toFixed(0)}/s`);

      // What waits in the queue, and what it spent: read-only, beside the running engine (WAL).
      const db = new DatabaseSync(join(dir, 'junction.db'), { readOnly: true });
      const q = db.prepare("SELECT count(*) AS n, coalesce(max(attempts), 0) AS a FROM messages WHERE state IN ('queued', 'running')").get();
      db.close();
      const dbMBAtBacklogEnd = dbMB(dir);

      state.phase = 'drain';
      markers.push({ x: at(), label: 'sink up' });
      const sinkUp = performance.timeOrigin + performance.now();
      sink = held;
      await request(`${sink.url}/release`, { method: 'POST' }).then((r) => r.body.text());
      state.sink = sink;
      const done = await waitDelivered(sink, accepted, s.drainTimeoutMs);
      markers.push({ x: at(), label: 'drained' });
      await sleep(1000);
      const after = (await sinkStats(sink))!;
      console.log(`backlog: drained ${done.unique} of ${accepted}, ${after.duplicates} duplicates`);
      return {
        accepted,
        failures: load.failures,
        ingestSeconds: (loadEnd - loadStart) / 1000,
        rateFirst,
        rateLast,
        queuedAtEnd: Number(q?.n),
        maxAttempts: Number(q?.a),
        dbMBAtBacklogEnd,
        firstDeliveryAfterS: done.firstAtMs > 0 ? (done.firstAtMs - sinkUp) / 1000 : Number.NaN,
        drainRate: (done.unique / Math.max(1e-9, done.lastNewAtMs - done.firstAtMs)) * 1000,
        drainSeconds: done.unique > 0 ? (done.lastNewAtMs - sinkUp) / 1000 : Number.NaN,
        delivered: after.unique,
        duplicates: after.duplicates,
      };
    } finally {
      await sampling.stop();
      await server.stop(30_000);
      await sink?.stop();
      if (state.accepted < s.messages) console.error(`junction printed (last 2000 characters):\n${server.output().slice(-2000)}`);
    }
  });

  // Phase 3: a constant flow through a fresh engine with a short retention.
  const steady = await withTempDir('backlog-steady', async (dir) => {
    const sink = await spawnChild({ name: 'sink', script: SINK });
    const server = await spawnJunction(build, await config(dir, sink.url), [], undefined, s.nodeOptions);
    const state: { phase: Phase; accepted: number; sink?: ChildServer; db?: DatabaseSync } = { phase: 'steady', accepted: 0, sink };
    const markerT = at();
    markers.push({ x: markerT, label: 'steady: fresh engine and database' });
    const sampling = sampler(s, t0, state, server, dir, samples);
    const pool = new Pool(server.url, { connections: s.concurrency, pipelining: 1 });
    let sent = 0;
    let inFlight = 0;
    let failures = 0;
    try {
      const start = performance.now();
      const total = s.steadyRate * s.steadySeconds;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * s.steadyRate));
        while (sent < due && inFlight < s.concurrency) {
          const i = s.messages + sent++;
          inFlight++;
          void pool
            .request({ path: PATH, method: 'POST', headers: { 'content-type': 'application/json' }, body: orderBody(i) })
            .then(async (res) => {
              await res.body.dump();
              if (res.statusCode === 202) state.accepted++;
              else failures++;
            })
            .catch(() => failures++)
            .finally(() => inFlight--);
        }
        // The table exists once the engine has migrated; open it read-only beside it.
        state.db ??= new DatabaseSync(join(dir, 'junction.db'), { readOnly: true });
        await sleep(10);
      }
      while (inFlight > 0) await sleep(10);
      const rate = (sent / (performance.now() - start)) * 1000;
      const done = await waitDelivered(sink, state.accepted, 60_000);
      await sleep(1000);
      const after = (await sinkStats(sink))!;
      await sampling.stop();
      // The plateau: over the last third of the sending, the file is at most 5% above its largest size before.
      const phase = samples.filter((x) => x.phase === 'steady' && x.t <= markerT + s.steadySeconds);
      const cut = markerT + (2 / 3) * s.steadySeconds;
      const before = Math.max(...phase.filter((x) => x.t < cut).map((x) => x.dbMB));
      const last = Math.max(...phase.filter((x) => x.t >= cut).map((x) => x.dbMB));
      console.log(`steady: ${state.accepted} of ${sent} accepted, ${done.unique} delivered, file ${before.toFixed(1)} → ${last.toFixed(1)} MB over the last third`);
      return {
        sent,
        accepted: state.accepted,
        failures,
        delivered: after.unique,
        duplicates: after.duplicates,
        rate,
        plateauGrowth: last / before - 1,
        maxRows: Math.max(0, ...phase.filter((x) => x.t >= cut).map((x) => x.rows ?? 0)),
        finalMB: dbMB(dir),
        markerT,
      };
    } finally {
      await sampling.stop();
      state.db?.close();
      await pool.close();
      await server.stop(30_000);
      await sink.stop();
    }
  });

  const maxRssMB = Math.max(...samples.map((x) => x.rssMB));
  const backlogRss = Math.max(...samples.filter((x) => x.phase === 'backlog').map((x) => x.rssMB));
  const rateChange = first.rateLast / first.rateFirst - 1;
  const checks: Check[] = [
    {
      name: 'RSS under 200 MB',
      ok: maxRssMB < RSS_LIMIT_MB,
      detail: `the child's RSS peaked at ${maxRssMB.toFixed(0)} MB over the whole run (${backlogRss.toFixed(0)} MB during the backlog); limit ${RSS_LIMIT_MB} MB`,
    },
    {
      name: 'ingest rate held',
      ok: Math.abs(rateChange) <= RATE_TOLERANCE,
      detail:
        `202s per second over the last 10% of the messages: ${first.rateLast.toFixed(0)}, over the first 10%: ${first.rateFirst.toFixed(0)} ` +
        `(${(rateChange * 100).toFixed(0)}%; allowed ±${RATE_TOLERANCE * 100}%)`,
    },
    {
      name: 'backlog delivered once each',
      ok: first.failures === 0 && first.delivered === first.accepted && first.duplicates === 0,
      detail: `${first.accepted} accepted (${first.failures} other answers), ${first.delivered} distinct keys delivered, ${first.duplicates} duplicates`,
    },
    {
      name: 'steady flow delivered once each',
      ok: steady.failures === 0 && steady.delivered === steady.accepted && steady.duplicates === 0,
      detail: `${steady.accepted} accepted of ${steady.sent} sent, ${steady.delivered} delivered, ${steady.duplicates} duplicates`,
    },
    {
      name: 'database file plateaus',
      ok: steady.plateauGrowth <= PLATEAU_TOLERANCE,
      detail:
        `over the last third of the steady phase the file (+ -wal) was at most ${(steady.plateauGrowth * 100).toFixed(1)}% above its largest ` +
        `size before that third (allowed ${PLATEAU_TOLERANCE * 100}%)`,
    },
  ];
  for (const c of checks) console.log(`backlog check ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return {
    settings: s,
    samples,
    accepted: first.accepted,
    failures: first.failures,
    ingestSeconds: first.ingestSeconds,
    rateFirst: first.rateFirst,
    rateLast: first.rateLast,
    maxRssMB,
    queuedAtEnd: first.queuedAtEnd,
    maxAttempts: first.maxAttempts,
    dbMBAtBacklogEnd: first.dbMBAtBacklogEnd,
    firstDeliveryAfterS: first.firstDeliveryAfterS,
    drainRate: first.drainRate,
    drainSeconds: first.drainSeconds,
    delivered: first.delivered,
    duplicates: first.duplicates,
    steady: {
      sent: steady.sent,
      delivered: steady.delivered,
      duplicates: steady.duplicates,
      rate: steady.rate,
      plateauGrowth: steady.plateauGrowth,
      maxRows: steady.maxRows,
      finalMB: steady.finalMB,
      markerT: steady.markerT,
    },
    markers,
    checks,
  };
}

/** Per-sample rates (per second) of a cumulative counter, within one phase group. */
function rates(samples: Sample[], pick: (x: Sample) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if ((a.phase === 'steady') !== (b.phase === 'steady')) continue;
    out.push([b.t, Math.max(0, (pick(b) - pick(a)) / (b.t - a.t))]);
  }
  return out;
}

export function backlogChart(r: BacklogResult): string {
  const pts = (f: (x: Sample) => number): [number, number][] => r.samples.map((x) => [x.t, f(x)]);
  return lineChart(
    `Junction under a backlog of ${r.settings.messages} messages, then a steady flow with retention done ${RETENTION.done}`,
    'seconds since the start',
    [
      { title: 'RSS of the Junction process', unit: 'MB', series: [{ label: 'VmRSS', color: '#1f77b4', points: pts((x) => x.rssMB) }], limit: { y: RSS_LIMIT_MB, label: `${RSS_LIMIT_MB} MB limit` } },
      {
        title: 'Rates, per sample',
        unit: 'messages/s',
        series: [
          { label: '202s (ingest)', color: '#2ca02c', points: rates(r.samples, (x) => x.accepted) },
          { label: 'delivered (sink)', color: '#ff7f0e', points: rates(r.samples, (x) => x.delivered), dashed: true },
        ],
      },
      { title: 'Database file + -wal', unit: 'MB', series: [{ label: 'size', color: '#9467bd', points: pts((x) => x.dbMB) }] },
    ],
    r.markers,
  );
}

export function backlogSection(r: BacklogResult): string {
  const s = r.settings;
  const ok = (name: string): string => {
    const c = r.checks.find((x) => x.name === name)!;
    return `${c.ok ? 'ok' : '**FAILED**'}: ${c.detail}`;
  };
  const bytesPerMessage = (r.dbMBAtBacklogEnd * 2 ** 20) / Math.max(1, r.accepted);
  const withoutRetentionMB = (bytesPerMessage * r.steady.sent) / 2 ** 20;
  return [
    '## Backlog: memory and disk under a backlog, then a steady flow with retention',
    '',
    'Written by `node bench/run.ts --only backlog` (bench/backlog.ts), which replaces only this section and',
    '[bench/charts/backlog.svg](bench/charts/backlog.svg). Junction runs in a child process with its workers on;',
    'its sink is down: it takes each connection and holds every request unanswered, and the connector waits a day for',
    'an answer, so the worker\'s slots each hold one first attempt and every other message stays queued, claimed by no',
    'one and spending no attempt (a closed port would spend an attempt per message; a circuit breaker would put every',
    'paused message back once per open period). The sink comes back by answering what it held and all that follows.',
    `Junction's process ran ${s.built ? 'the built package (dist/, `npm run build`), as an installed Junction runs,' : 'the TypeScript sources (src/),'} with ${s.nodeOptions === '' ? "Node's default heap settings" : `NODE_OPTIONS=\`${s.nodeOptions}\``}.`,
    "RSS is VmRSS of the child (the whole process, the store's worker thread included), sampled",
    `every ${s.sampleMs} ms with the 202s so far, the messages the sink has and the database file plus its -wal.`,
    '',
    `![RSS, rates and database size over time](bench/charts/backlog.svg)`,
    '',
    '| phase | measured |',
    '|---|---|',
    `| backlog, sink down | ${r.accepted} of ${s.messages} POSTs answered 202 in ${r.ingestSeconds.toFixed(1)} s (${s.concurrency} in flight); ${r.failures} other answers |`,
    `| | ${r.queuedAtEnd} messages waiting at the end, the most attempts any had spent: ${r.maxAttempts} |`,
    `| | database ${r.dbMBAtBacklogEnd.toFixed(1)} MB (${bytesPerMessage.toFixed(0)} bytes per message) |`,
    `| drain, sink up | first delivery ${r.firstDeliveryAfterS.toFixed(1)} s after the sink came up, all ${r.delivered} delivered ${r.drainSeconds.toFixed(1)} s after it, ${r.drainRate.toFixed(0)} msg/s from first to last |`,
    `| steady, fresh engine, retention done ${RETENTION.done}, sweep every ${RETENTION.sweepEvery} | ${r.steady.sent} messages at ${r.steady.rate.toFixed(0)} msg/s for ${s.steadySeconds} s; at most ${r.steady.maxRows} rows in the table over the last third; database ${r.steady.finalMB.toFixed(1)} MB at the end, where ${bytesPerMessage.toFixed(0)} bytes per message kept would be ${withoutRetentionMB.toFixed(1)} MB |`,
    '',
    '| check | result |',
    '|---|---|',
    ...r.checks.map((c) => `| ${c.name} | ${ok(c.name)} |`),
    '',
  ].join('\n');
}

/** Replaces the Backlog section of BENCHMARKS.md (or adds it at the end), and writes the chart. */
export async function writeBacklogSection(r: BacklogResult): Promise<void> {
  await mkdir(join(CHART, '..'), { recursive: true });
  await writeFile(CHART, backlogChart(r));
  const text = await readFile(OUT, 'utf8');
  const start = text.indexOf('## Backlog:');
  const section = backlogSection(r);
  if (start < 0) return writeFile(OUT, `${text.trimEnd()}\n\n${section}`);
  const end = text.indexOf('\n## ', start + 1);
  // A blank line between this section and the next, however the section ends.
  await writeFile(OUT, text.slice(0, start) + (end < 0 ? section : `${section.trimEnd()}\n\n${text.slice(end + 1)}`));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      'steady-seconds': { type: 'string' },
      'steady-rate': { type: 'string' },
      'node-options': { type: 'string' },
      'from-source': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      chart: { type: 'string' },
    },
  });
  const n = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));
  const result = await runBacklog({
    ...backlogDefaults,
    messages: n(values.messages, backlogDefaults.messages),
    steadySeconds: n(values['steady-seconds'], backlogDefaults.steadySeconds),
    steadyRate: n(values['steady-rate'], backlogDefaults.steadyRate),
    nodeOptions: values['node-options'] ?? backlogDefaults.nodeOptions,
    built: !values['from-source'],
  });
  console.log(backlogSection(result));
  // `--chart FILE` writes the chart elsewhere, to look at a short run without touching the repository.
  if (values.chart) await writeFile(values.chart, backlogChart(result));
  if (values.write) {
    await writeBacklogSection(result);
    console.log(`Wrote the Backlog section of ${OUT} and ${CHART}.`);
  }
  if (result.checks.some((c) => !c.ok)) process.exitCode = 1;
}
