/**
 * @module bench/ingest
 * The ingest benchmark: HTTP POST → durable commit → 202, Junction against a
 * bare `node:http` + `node:sqlite` server measured in the same run.
 *
 * Junction runs in a child process with `workers: false` (only the HTTP side:
 * fastify, the trigger, the SQLite store with group commit); its one flow
 * delivers to a connector on a loopback port nothing listens on, which is never
 * called. The like-for-like baseline (bench/lib/baselines/ingest.ts, `--commit
 * batched`) shares one commit among the INSERTs of an event-loop turn, as
 * Junction's group commit does: its ratio is the headline. The naive baseline
 * (`--commit autocommit`) commits every INSERT on its own. With `--before`, an
 * older commit of Junction is measured as one more row. Every run starts a
 * fresh process on a fresh database in a temp dir, and afterwards the rows in
 * the database are counted against the 202s received. Rates count 202 answers
 * only; a run with any other answer is flagged and left out of the medians.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { spawnChild, type ChildServer } from './lib/child.ts';
import { junctionBuilds, spawnJunction, type JunctionBuild } from './lib/junction.ts';
import { cpuMeter } from './lib/cpu.ts';
import { median, orderBody, percentile, runLoad, type LoadResult } from './lib/load.ts';
import { areaPercent, endPhase, pct, phaseSentence, SOCKET_AREA, sqlThread, sqlTotals, startPhase, storeThread, type ProfileSummary } from './lib/profile.ts';
import type { Revision } from './lib/revision.ts';
import { cpuParagraph, figure, ratioOf, unusedPort, verdict, withTempDir, type BenchmarkReport, type ProfiledRun, type RatioLine, type ResultRow } from './lib/report.ts';

export interface IngestSettings {
  /** Measured requests per run. */
  requests: number;
  /** Requests sent first in each run, not measured (JIT, sockets, SQLite cache). */
  warmup: number;
  /** Requests in flight (and sockets). */
  concurrency: number;
  /** Runs per server; the report shows the median. */
  repeats: number;
  /** Also run Junction once more under `--cpu-prof` and summarise the profile. */
  profile: boolean;
  /** An older commit of Junction, measured as one more row (and profiled too). */
  before?: Revision;
}

export const ingestDefaults: IngestSettings = { requests: 30_000, warmup: 3_000, concurrency: 64, repeats: 3, profile: true };

const BASELINE = fileURLToPath(new URL('./lib/baselines/ingest.ts', import.meta.url));
const PATH = '/in';
/** The targets of the issue: Junction over each baseline, at least this. */
const AIM_BATCHED = 0.9;
const AIM_AUTOCOMMIT = 4;

interface Target {
  name: string;
  what: string;
  start(dir: string, measureDir?: string): Promise<ChildServer>;
  /** The database file the server writes to, in `dir`. */
  db: string;
}

async function junctionConfig(dir: string): Promise<string> {
  const file = join(dir, 'junction.yaml');
  // Workers are off, so this connector is never called; its port has no listener.
  const port = await unusedPort();
  await writeFile(
    file,
    [
      'store: sqlite:./junction.db',
      'server: { port: 0, host: 127.0.0.1 }',
      'connectors:',
      `  nowhere: { type: rest, baseUrl: "http://127.0.0.1:${port}" }`,
      'flows:',
      '  ingest:',
      `    trigger: { http: { path: ${PATH} } }`,
      '    steps:',
      '      - deliver: { connector: nowhere, request: { method: POST, path: /orders } }',
      '',
    ].join('\n'),
  );
  return file;
}

const junctionTarget = (build: JunctionBuild): Target => ({
  name: build.name,
  what:
    build.name === 'junction'
      ? 'Junction engine, workers off: fastify → trigger → SQLite store (WAL, synchronous FULL for the commits that answer, group commit)'
      : `the same at ${build.label}`,
  db: 'junction.db',
  async start(dir, measureDir) {
    return spawnJunction(build, await junctionConfig(dir), ['--workers', 'false'], measureDir);
  },
});

function targetsFor(before: Revision | undefined): Target[] {
  return [
    ...junctionBuilds(before).map(junctionTarget),
    {
      name: 'baseline-batched',
      what: 'bare node:http + node:sqlite, the INSERTs of one event-loop turn in one transaction (one fsync per group), WAL, synchronous FULL: like for like',
      db: 'baseline.db',
      start: (dir) => spawnChild({ name: 'ingest baseline (batched)', script: BASELINE, args: ['--db', join(dir, 'baseline.db'), '--commit', 'batched'] }),
    },
    {
      name: 'baseline-autocommit',
      what: 'the same with one autocommit INSERT (and fsync) per request, as most naturally written',
      db: 'baseline.db',
      start: (dir) => spawnChild({ name: 'ingest baseline (autocommit)', script: BASELINE, args: ['--db', join(dir, 'baseline.db'), '--commit', 'autocommit'] }),
    },
  ];
}

interface RunResult {
  /** 202 answers per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** The server's CPU (all threads) per measured request, µs. */
  cpuUs: number;
  /** Event-loop utilisation of the load generator (this process) over the measured requests. */
  loaderElu: number;
  problems: string[];
  /** Only for a profiled run. */
  profile?: ProfileSummary;
}

/**
 * One run on a fresh server and database: warm-up, then the measured requests.
 * `profile`: the server is started with `--measure-dir dir`; the measured
 * requests are profiled (bench/lib/instrument.ts).
 */
async function runOnce(target: Target, s: IngestSettings, dir: string, profile = false): Promise<RunResult> {
  const server = await target.start(dir, profile ? dir : undefined);
  const problems: string[] = [];
  let accepted = 0;
  let result: LoadResult;
  let loaderElu: number;
  let cpuUs: number;
  let summary: ProfileSummary | undefined;
  try {
    const load = (requests: number, firstIndex: number): Promise<LoadResult> =>
      runLoad({ url: server.url, path: PATH, requests, concurrency: s.concurrency, body: orderBody, expectStatus: 202, firstIndex });
    const warm = await load(s.warmup, 0);
    if (profile) await startPhase(server);
    const elu = performance.eventLoopUtilization();
    const cpu = cpuMeter(server.child.pid);
    result = await load(s.requests, s.warmup);
    cpuUs = cpu(result.requests);
    loaderElu = performance.eventLoopUtilization(elu).utilization;
    if (profile) summary = await endPhase(server, dir, s.requests);
    accepted = warm.requests - warm.failures + result.requests - result.failures;
    if (warm.failures + result.failures > 0) problems.push(`${warm.failures + result.failures} answers not 202 (${[...warm.failureSamples, ...result.failureSamples][0]})`);
  } finally {
    await server.stop();
    if (problems.length > 0) console.error(`${server.name} printed (last 2000 characters):\n${server.output().slice(-2000)}`);
  }
  // Every 202 must be a row in the database once the server is gone.
  const db = new DatabaseSync(join(dir, target.db), { readOnly: true });
  try {
    const n = Number(db.prepare('SELECT count(*) AS n FROM messages').get()?.n);
    if (n !== accepted) problems.push(`${n} rows stored for ${accepted} answers 202`);
  } finally {
    db.close();
  }
  return {
    rate: ((result.requests - result.failures) / result.elapsedMs) * 1000,
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    failures: result.failures,
    cpuUs,
    loaderElu,
    problems,
    ...(summary ? { profile: summary } : {}),
  };
}

export async function runIngest(s: IngestSettings = ingestDefaults): Promise<BenchmarkReport> {
  const targets = targetsFor(s.before);
  const rows: ResultRow[] = targets.map((t) => ({ name: t.name, what: t.what, rates: [], flaggedRuns: [], p50Ms: [], p99Ms: [], cpuUs: [], failures: 0, problems: [] }));
  const loaderElu: number[] = [];
  // Servers take turns within each round, so that a slow minute of the machine hits all of them.
  for (let round = 1; round <= s.repeats; round++) {
    for (const [i, target] of targets.entries()) {
      const r = await withTempDir(`ingest-${target.name}`, (dir) => runOnce(target, s, dir));
      const row = rows[i]!;
      if (r.problems.length > 0) row.flaggedRuns.push(row.rates.length);
      row.rates.push(r.rate);
      row.p50Ms!.push(r.p50Ms);
      row.p99Ms!.push(r.p99Ms);
      row.cpuUs!.push(r.cpuUs);
      row.failures += r.failures;
      row.problems.push(...r.problems.map((p) => `run ${round}: ${p}`));
      if (i === 0) loaderElu.push(r.loaderElu);
      console.log(
        `ingest ${target.name.padEnd(19)} run ${round}/${s.repeats}: ${r.rate.toFixed(0)} req/s (202s), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms` +
          (r.problems.length > 0 ? `  FLAGGED: ${r.problems.join('; ')}` : ''),
      );
    }
  }

  const profiles: ProfiledRun[] = [];
  if (s.profile) {
    for (const target of targets.filter((t) => t.name.startsWith('junction'))) {
      const r = await withTempDir(`ingest-profile-${target.name}`, (dir) => runOnce(target, s, dir, true));
      console.log(`ingest ${target.name} profiled (not counted): ${r.rate.toFixed(0)} req/s`);
      if (!r.profile) continue;
      console.log(`  ${phaseSentence(r.profile)}`);
      const title = target.name === 'junction' ? 'Junction (this checkout)' : `Junction at ${s.before?.short ?? '?'} (before)`;
      profiles.push({ title, summary: r.profile });
    }
  }

  const ratios: RatioLine[] = [
    { of: 'junction', to: 'baseline-batched', aim: AIM_BATCHED },
    { of: 'junction', to: 'baseline-autocommit', aim: AIM_AUTOCOMMIT },
    ...(s.before ? [{ of: 'junction-before', to: 'baseline-batched' }, { of: 'junction-before', to: 'baseline-autocommit' }] : []),
  ];
  const report: BenchmarkReport = {
    name: 'ingest',
    title: 'Ingest: HTTP POST → durable commit → 202',
    unit: 'req/s',
    settings: {
      'requests per run': s.requests,
      'warm-up requests': s.warmup,
      concurrency: `${s.concurrency} (undici Pool, ${s.concurrency} connections, pipelining 1)`,
      runs: s.repeats,
      body: `${orderBody(0).length}-byte JSON order, no Idempotency-Key`,
      rate: '202 answers per second of the measured requests',
      ...(s.before ? { before: `junction-before is commit ${s.before.label}` } : {}),
    },
    rows,
    ratios,
    limits: '',
    profiles,
  };
  report.limits = ingestLimits(report, median(loaderElu), profiles[0]?.summary);
  return report;
}

/**
 * The "what limits it" paragraphs. Every figure comes from this run; a claim
 * is printed only when this run's figures support it.
 */
function ingestLimits(r: BenchmarkReport, loaderElu: number, p: ProfileSummary | undefined): string {
  const rate = (name: string): number => figure(r.rows.find((x) => x.name === name));
  const [batched, naive] = r.ratios as [RatioLine, RatioLine];
  const parts = [
    `**Targets.** Junction took ${rate('junction').toFixed(0)} req/s: ${ratioOf(r, batched).toFixed(2)}× the like-for-like batched ` +
      `baseline (target ≥ ${AIM_BATCHED}×: ${verdict(r, batched)}) and ${ratioOf(r, naive).toFixed(2)}× the naive autocommit baseline ` +
      `(target ≥ ${AIM_AUTOCOMMIT}×: ${verdict(r, naive)}).`,
  ];
  if (rate('baseline-batched') > rate('baseline-autocommit') && rate('junction') > rate('baseline-autocommit')) {
    parts.push(
      `**Sharing a commit is what the two faster servers have in common.** The autocommit baseline pays one WAL append and ` +
        `one fsync per request and took ${rate('baseline-autocommit').toFixed(0)} req/s; the batched baseline, which commits ` +
        `the INSERTs of one event-loop turn together, took ${rate('baseline-batched').toFixed(0)} req/s. Junction answers 202 only ` +
        'after the commit too, and shares it among the writes that arrive together (src/store/sqlite/group-commit.ts).',
    );
  }
  const cpu = cpuParagraph(r, 'junction', 'baseline-batched');
  if (cpu !== '') parts.push(cpu);
  if (p) {
    const thread = storeThread(p);
    const where = sqlThread(p);
    const t = sqlTotals(p, where);
    const sentences = [`In the profiled run the main thread's event loop was busy ${pct(p.phase.elu, 1)} of the time`];
    if (where === 'main' && t.sqlMs > 0) sentences.push(`${pct(t.sqlMs, p.phase.wallMs)} of the wall time went to synchronous node:sqlite calls on that thread`);
    if (thread) {
      sentences.push(
        `the store's worker thread was busy ${pct(thread.elu, 1)} and committed ${t.commits} times for ${p.messages} requests ` +
          `(${(p.messages / Math.max(1, t.commits)).toFixed(0)} requests per commit${t.fullCommits === undefined ? '' : `, ${t.fullCommits} commits under synchronous FULL`})`,
      );
    }
    let lead = '';
    if (p.phase.elu >= 0.9 && (!thread || thread.elu < p.phase.elu)) lead = '**The main thread is the limit.** ';
    else if (thread && thread.elu >= 0.9) lead = "**The store's thread is the limit.** ";
    parts.push(
      `${lead}${sentences.join('; ')}. On the main thread, socket writes took ${areaPercent(p, SOCKET_AREA).toFixed(1)}% of busy time, ` +
        `fastify ${areaPercent(p, 'fastify').toFixed(1)}%, Junction's trigger (src/triggers) ${areaPercent(p, 'junction src/triggers').toFixed(1)}%, ` +
        `its store client (src/store) ${areaPercent(p, 'junction src/store').toFixed(1)}%, pino with its redaction ` +
        `${(areaPercent(p, 'pino') + areaPercent(p, '@pinojs/redact')).toFixed(1)}%, GC ${areaPercent(p, 'GC').toFixed(1)}%.`,
    );
  }
  parts.push(
    `The load generator shares the machine: its event loop was busy ${pct(loaderElu, 1)} of the time during Junction's measured ` +
      `requests (median over the runs)${loaderElu >= 0.8 ? ', close to saturation, so these rates are a floor for the servers, not the machine\'s ceiling' : ''}.`,
  );
  return parts.join('\n\n');
}
