/**
 * @module bench/relay
 * The relay benchmark: message in → map (JSONata, the quickstart's map) → POST to
 * a sink, in messages per second end to end: from the first POST to the sink
 * having received every message (each idempotency key once).
 *
 * Junction runs in a child process with its workers on: http trigger → map →
 * deliver (Idempotency-Key `order-<orderId>`). Its 202 means "stored"; delivery
 * follows from the queue. The baselines (bench/lib/baselines/relay.ts) are bare
 * `node:http` servers that map and forward with an undici Pool, and keep nothing.
 * The sink (bench/targets/sink.ts) is a third process that counts requests per
 * idempotency key; duplicates and missing messages flag a run. With `--before`,
 * an older commit of Junction is measured as one more row and profiled too, so
 * that the report compares before and after from one run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { spawnChild, type ChildServer } from './lib/child.ts';
import { cpuMeter } from './lib/cpu.ts';
import { junctionBuilds, spawnJunction, type JunctionBuild } from './lib/junction.ts';
import { median, orderBody, percentile, runLoad, sleep } from './lib/load.ts';
import { areaPercent, endPhase, pct, phaseSentence, sqlThread, sqlTotals, startPhase, statement, storeThread, type ProfileSummary } from './lib/profile.ts';
import type { Revision } from './lib/revision.ts';
import { cpuParagraph, figure, ratioOf, verdict, withTempDir, type BenchmarkReport, type ProfiledRun, type RatioLine, type ResultRow } from './lib/report.ts';

export interface RelaySettings {
  /** Measured messages per run. */
  messages: number;
  /** Messages relayed first in each run (and waited for), not measured. */
  warmup: number;
  /** POSTs in flight (and sockets) from the load generator. */
  concurrency: number;
  repeats: number;
  /** Also run Junction once more under `--cpu-prof` and summarise the profile. */
  profile: boolean;
  /** Longest wait for the sink to have every message, after the last POST. */
  drainTimeoutMs: number;
  /** An older commit of Junction, measured as one more row (and profiled too). */
  before?: Revision;
}

export const relayDefaults: RelaySettings = { messages: 15_000, warmup: 1_500, concurrency: 64, repeats: 3, profile: true, drainTimeoutMs: 60_000 };

const BASELINE = fileURLToPath(new URL('./lib/baselines/relay.ts', import.meta.url));
const SINK = fileURLToPath(new URL('./targets/sink.ts', import.meta.url));
export const PATH = '/in';
/** The target of the issue: Junction over the bare relay, at least this. */
const AIM = 0.6;
/** Sockets from the relay to the sink: Junction's connector default (pool.connections), and the baselines' Pool. */
const SINK_CONNECTIONS = 16;

interface Target {
  name: string;
  what: string;
  start(dir: string, sinkUrl: string, measureDir?: string): Promise<ChildServer>;
}

/** The relayed flow, as YAML lines: HTTP in, the quickstart's map, deliver to the connector `sink`. bench/backlog runs it too. */
export const RELAY_FLOW: readonly string[] = [
  'flows:',
  '  relay:',
  `    trigger: { http: { path: ${PATH} } }`,
  '    steps:',
  '      - map:',
  '          orderId: id',
  '          email: $lowercase(customer.email)',
  '          total: $sum(items.(price * qty))',
  '      - deliver:',
  '          connector: sink',
  '          request: { method: POST, path: /orders }',
  '          idempotencyKey: "order-{{ orderId }}"',
  '',
];

async function junctionConfig(dir: string, sinkUrl: string): Promise<string> {
  const file = join(dir, 'junction.yaml');
  await writeFile(
    file,
    [
      'store: sqlite:./junction.db',
      'server: { port: 0, host: 127.0.0.1 }',
      'connectors:',
      `  sink: { type: rest, baseUrl: "${sinkUrl}", pool: { connections: ${SINK_CONNECTIONS} } }`,
      ...RELAY_FLOW,
    ].join('\n'),
  );
  return file;
}

const baseline = (name: string, what: string, map: 'jsonata' | 'js', ack: 'after' | 'before'): Target => ({
  name,
  what,
  start: (_dir, sinkUrl) =>
    spawnChild({
      name: `relay ${name}`,
      script: BASELINE,
      args: ['--sink', sinkUrl, '--map', map, '--ack', ack, '--connections', String(SINK_CONNECTIONS)],
    }),
});

const junctionTarget = (build: JunctionBuild): Target => ({
  name: build.name,
  what:
    build.name === 'junction'
      ? 'Junction engine: fastify → store → worker (claim, JSONata map, deliver over undici, settle); 202 when stored; worker concurrency 32 (default)'
      : `the same at ${build.label}`,
  async start(dir, sinkUrl, measureDir) {
    return spawnJunction(build, await junctionConfig(dir, sinkUrl), [], measureDir);
  },
});

function targetsFor(before: Revision | undefined): Target[] {
  return [
    ...junctionBuilds(before).map(junctionTarget),
    baseline('baseline', 'bare node:http, JSONata map (3 expressions, compiled once), undici Pool forward, 202 after the sink answered', 'jsonata', 'after'),
    baseline('baseline-js', 'the same with the map in plain JS', 'js', 'after'),
    baseline('baseline-fire', 'JSONata map, 202 at once, forward in the background (fire-and-forget; loses messages on any failure)', 'jsonata', 'before'),
  ];
}

/** What bench/targets/sink.ts counts (`GET /stats`). */
export interface SinkStats {
  requests: number;
  unique: number;
  duplicates: number;
  withoutKey: number;
  firstAtMs: number;
  lastNewAtMs: number;
}

async function sinkCall(sink: ChildServer, method: 'GET' | 'POST', path: string): Promise<SinkStats | undefined> {
  const res = await request(`${sink.url}${path}`, { method });
  if (res.statusCode === 204) {
    await res.body.dump();
    return undefined;
  }
  return (await res.body.json()) as SinkStats;
}

/** Polls the sink until it has `unique` keys, or `timeoutMs` passed; returns the last stats either way. */
async function waitForSink(sink: ChildServer, unique: number, timeoutMs: number): Promise<SinkStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = (await sinkCall(sink, 'GET', '/stats'))!;
    if (stats.unique >= unique || Date.now() > deadline) return stats;
    await sleep(10);
  }
}

interface RunResult {
  rate: number;
  postRate: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** The server's CPU (all threads) per measured message, from the first POST until the sink had them all, µs. */
  cpuUs: number;
  problems: string[];
  /** Only for a profiled run. */
  profile?: ProfileSummary;
}

/**
 * One run on a fresh server (and database): warm-up (waited for), then the
 * measured messages, until the sink has them all. `profile`: the server was
 * started with `--measure-dir dir`; the measured phase is profiled.
 */
async function runOnce(target: Target, s: RelaySettings, sink: ChildServer, dir: string, profile = false): Promise<RunResult> {
  const server = await target.start(dir, sink.url, profile ? dir : undefined);
  const problems: string[] = [];
  let summary: ProfileSummary | undefined;
  try {
    const load = (requests: number, firstIndex: number) =>
      runLoad({ url: server.url, path: PATH, requests, concurrency: s.concurrency, body: orderBody, expectStatus: 202, firstIndex });
    await sinkCall(sink, 'POST', '/reset');
    const warm = await load(s.warmup, 0);
    const warmed = await waitForSink(sink, s.warmup - warm.failures, s.drainTimeoutMs);
    if (warmed.unique < s.warmup - warm.failures) problems.push(`warm-up: ${warmed.unique} of ${s.warmup - warm.failures} delivered`);
    await sinkCall(sink, 'POST', '/reset');

    if (profile) await startPhase(server);
    const cpu = cpuMeter(server.child.pid);
    const run = await load(s.messages, s.warmup);
    const expected = s.messages - run.failures;
    const done = await waitForSink(sink, expected, s.drainTimeoutMs);
    const cpuUs = cpu(done.unique);
    if (profile) summary = await endPhase(server, dir, s.messages);
    // A little longer, so that a late duplicate has time to show.
    await sleep(200);
    const after = (await sinkCall(sink, 'GET', '/stats'))!;
    if (run.failures > 0) problems.push(`${run.failures} answers not 202 (${run.failureSamples[0]})`);
    if (done.unique < expected) problems.push(`only ${done.unique} of ${expected} accepted messages delivered within ${s.drainTimeoutMs} ms`);
    if (after.unique > expected) problems.push(`${after.unique - expected} unexpected keys`);
    if (after.duplicates > 0) problems.push(`${after.duplicates} duplicate deliveries`);
    if (after.withoutKey > 0) problems.push(`${after.withoutKey} deliveries without Idempotency-Key`);
    const endMs = done.unique >= expected ? done.lastNewAtMs : performance.timeOrigin + performance.now();
    return {
      rate: (done.unique / (endMs - run.startedAtEpochMs)) * 1000,
      postRate: (run.requests / run.elapsedMs) * 1000,
      p50Ms: percentile(run.latenciesMs, 50),
      p99Ms: percentile(run.latenciesMs, 99),
      failures: run.failures,
      cpuUs,
      problems,
      ...(summary ? { profile: summary } : {}),
    };
  } finally {
    await server.stop();
    if (problems.length > 0) console.error(`${server.name} printed (last 2000 characters):\n${server.output().slice(-2000)}`);
  }
}

export async function runRelay(s: RelaySettings = relayDefaults): Promise<BenchmarkReport> {
  const targets = targetsFor(s.before);
  const rows: ResultRow[] = targets.map((t) => ({ name: t.name, what: t.what, rates: [], flaggedRuns: [], p50Ms: [], p99Ms: [], cpuUs: [], failures: 0, problems: [] }));
  const postRates = targets.map((): number[] => []);
  const sink = await spawnChild({ name: 'sink', script: SINK });
  const profiles: ProfiledRun[] = [];
  try {
    for (let round = 1; round <= s.repeats; round++) {
      for (const [i, target] of targets.entries()) {
        const r = await withTempDir(`relay-${target.name}`, (dir) => runOnce(target, s, sink, dir));
        const row = rows[i]!;
        if (r.problems.length > 0) row.flaggedRuns.push(row.rates.length);
        row.rates.push(r.rate);
        row.p50Ms!.push(r.p50Ms);
        row.p99Ms!.push(r.p99Ms);
        row.cpuUs!.push(r.cpuUs);
        row.failures += r.failures;
        row.problems.push(...r.problems.map((p) => `run ${round}: ${p}`));
        postRates[i]!.push(r.postRate);
        console.log(
          `relay ${target.name.padEnd(15)} run ${round}/${s.repeats}: ${r.rate.toFixed(0)} msg/s end to end ` +
            `(POSTs answered at ${r.postRate.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms)` +
            (r.problems.length > 0 ? `  FLAGGED: ${r.problems.join('; ')}` : ''),
        );
      }
    }
    if (s.profile) {
      for (const target of targets.filter((t) => t.name.startsWith('junction'))) {
        const r = await withTempDir(`relay-profile-${target.name}`, (dir) => runOnce(target, s, sink, dir, true));
        console.log(`relay ${target.name} profiled (not counted): ${r.rate.toFixed(0)} msg/s`);
        if (!r.profile) continue;
        console.log(`  ${phaseSentence(r.profile)}`);
        const title = target.name === 'junction' ? 'Junction (this checkout)' : `Junction at ${s.before?.short ?? '?'} (before)`;
        profiles.push({ title, summary: r.profile });
      }
    }
  } finally {
    await sink.stop();
  }
  for (const [i, row] of rows.entries()) {
    const rates = postRates[i]!.map((x) => x.toFixed(0)).join(' / ');
    row.what += ` (POSTs answered at ${rates} /s)`;
  }

  const ratios: RatioLine[] = [{ of: 'junction', to: 'baseline', aim: AIM }, ...(s.before ? [{ of: 'junction-before', to: 'baseline' }] : [])];
  const report: BenchmarkReport = {
    name: 'relay',
    title: 'Relay: HTTP in → JSONata map → POST to a sink, end to end',
    unit: 'msg/s',
    settings: {
      'messages per run': s.messages,
      'warm-up messages': s.warmup,
      concurrency: `${s.concurrency} POSTs in flight (undici Pool, pipelining 1)`,
      'sockets to the sink': SINK_CONNECTIONS,
      runs: s.repeats,
      body: `${orderBody(0).length}-byte JSON order`,
      'p50/p99': 'latency of the inbound POST (Junction answers once stored, the baseline once forwarded)',
      ...(s.before ? { before: `junction-before is commit ${s.before.label}` } : {}),
    },
    rows,
    ratios,
    limits: '',
    profiles,
  };
  const after = profiles.find((p) => p.title.includes('this checkout'))?.summary;
  const before = profiles.find((p) => p.title.includes('(before)'))?.summary;
  report.limits = relayLimits(report, postRates, after, before, s.before);
  return report;
}

/**
 * The "what limits it" paragraphs. Every figure comes from this run; a claim
 * is printed only when this run's figures support it.
 */
function relayLimits(r: BenchmarkReport, postRates: number[][], p: ProfileSummary | undefined, b: ProfileSummary | undefined, before: Revision | undefined): string {
  const rate = (name: string): number => figure(r.rows.find((x) => x.name === name));
  const junctionPosts = median(postRates[0] ?? []);
  const headline = r.ratios[0]!;
  const parts = [
    `**Target.** Junction delivered ${rate('junction').toFixed(0)} msg/s end to end, ${ratioOf(r, headline).toFixed(2)}× the bare ` +
      `relay's ${rate('baseline').toFixed(0)} msg/s (target ≥ ${AIM}×: ${verdict(r, headline)}).` +
      (before ? ` At ${before.short} it delivered ${rate('junction-before').toFixed(0)} msg/s, ${ratioOf(r, r.ratios[1]!).toFixed(2)}× the same baseline.` : ''),
  ];
  // Ingest outran delivery by more than the spread of a run: the queue absorbed the difference.
  if (junctionPosts > 1.2 * rate('junction')) {
    parts.push(
      `**Ingest is not the limit; the worker path is.** Junction answered the POSTs at ${junctionPosts.toFixed(0)}/s but delivered ` +
        `at ${rate('junction').toFixed(0)}/s end to end: the queue absorbed the difference.`,
    );
  } else {
    parts.push(`Junction answered the POSTs at ${junctionPosts.toFixed(0)}/s and delivered at ${rate('junction').toFixed(0)}/s end to end.`);
  }
  const cpu = cpuParagraph(r, 'junction', 'baseline');
  if (cpu !== '') parts.push(cpu);
  if (p) parts.push(threadsParagraph(p));
  if (p && b && before) parts.push(leversParagraph(p, b, before));
  parts.push(
    '**What the ratio buys.** The bare relays keep nothing: a crash, a restart or a sink that is down loses every message ' +
      'they hold, and fire-and-forget loses it silently. Junction\'s 202 means the message is on disk; it is delivered at least ' +
      'once with its idempotency key, retried with backoff or dead-lettered.',
  );
  if (rate('baseline-fire') < rate('baseline')) {
    parts.push(
      `Fire-and-forget (baseline-fire, ${rate('baseline-fire').toFixed(0)} msg/s) was not faster end to end than the relay that ` +
        `answers after forwarding (${rate('baseline').toFixed(0)} msg/s) in this run.`,
    );
  }
  return parts.join('\n\n');
}

/** Where the time went in the profiled run of this checkout, thread by thread. */
function threadsParagraph(p: ProfileSummary): string {
  const thread = storeThread(p);
  const where = sqlThread(p);
  const t = sqlTotals(p, where);
  const sentences = [`In the profiled run the main thread's event loop was busy ${pct(p.phase.elu, 1)} of the time`];
  if (where === 'main' && t.sqlMs > 0) sentences.push(`${pct(t.sqlMs, p.phase.wallMs)} of its wall time inside synchronous node:sqlite calls`);
  if (thread) {
    sentences.push(
      `the store's worker thread was busy ${pct(thread.elu, 1)}, ${pct(t.sqlMs, thread.wallMs)} of its wall time inside node:sqlite calls, ` +
        `with ${(t.commits / Math.max(1, p.messages)).toFixed(2)} commits per message` +
        (t.fullCommits === undefined ? '' : ` (${(t.fullCommits / Math.max(1, p.messages)).toFixed(2)} per message under synchronous FULL, an fsync each)`),
    );
  }
  let lead = '';
  if (p.phase.elu >= 0.9 && (!thread || thread.elu < p.phase.elu)) lead = '**The main thread is the limit.** ';
  else if (thread && thread.elu >= 0.9) lead = "**The store's thread is the limit.** ";
  const areas = p.areas
    .filter((a) => a.name !== 'idle' && !a.name.startsWith('profiling overhead'))
    .slice(0, 6)
    .map((a) => `${a.name} ${a.percent.toFixed(1)}%`)
    .join(', ');
  return `${lead}${sentences.join('; ')}. The largest areas of the main thread's busy time: ${areas}.`;
}

/**
 * Before against after, by what each lever should change, from the two
 * profiles of this run. The levers were measured together (one profile before,
 * one after), so each line shows where its effect lands, not an ablation.
 */
function leversParagraph(p: ProfileSummary, b: ProfileSummary, before: Revision): string {
  const bw = sqlThread(b);
  const aw = sqlThread(p);
  const perMsg = (s: ProfileSummary, where: 'main' | 'store', prefix: string): string => (statement(s, prefix, where).calls / Math.max(1, s.messages)).toFixed(2);
  const writes = (s: ProfileSummary, where: 'main' | 'store'): string =>
    (['INSERT', 'UPDATE', 'DELETE'].reduce((acc, k) => acc + statement(s, k, where).calls, 0) / Math.max(1, s.messages)).toFixed(2);
  const mainSql = (s: ProfileSummary): string => (s.phase.sql.length > 0 ? pct(sqlTotals(s, 'main').sqlMs, s.phase.wallMs) : '0% (none ran there)');
  const bt = sqlTotals(b, bw);
  const at = sqlTotals(p, aw);
  const full = (t: ReturnType<typeof sqlTotals>, s: ProfileSummary): string =>
    t.fullCommits === undefined ? 'not recorded' : (t.fullCommits / Math.max(1, s.messages)).toFixed(2);
  const row = (lever: string, what: string, x: string, y: string): string => `| ${lever} | ${what} | ${x} | ${y} |`;
  return [
    `**Before and after.** The profiled runs of ${before.short} (before) and of this checkout (after), in this run. The levers ` +
      'were measured together, so each line shows where a lever\'s effect lands, not what it bought alone.',
    '',
    `| lever | what shows it | before | after |`,
    '|---|---|---:|---:|',
    row('the store in a worker thread', 'wall time of the main thread inside node:sqlite calls', mainSql(b), mainSql(p)),
    row('', "main thread's event-loop utilisation", pct(b.phase.elu, 1), pct(p.phase.elu, 1)),
    row('fewer writes per message, claim at ingest', 'INSERT/UPDATE/DELETE statements per message', writes(b, bw), writes(p, aw)),
    row('', 'claim queries (`SELECT id, run_at …`) per message', perMsg(b, bw, 'SELECT id, run_at FROM'), perMsg(p, aw, 'SELECT id, run_at FROM')),
    row('fsync only what is owed', 'commits per message', (bt.commits / Math.max(1, b.messages)).toFixed(2), (at.commits / Math.max(1, p.messages)).toFixed(2)),
    row('', 'commits per message under synchronous FULL', full(bt, b), full(at, p)),
    row('JSONata fast path', "jsonata's share of the main thread's busy time", `${areaPercent(b, 'jsonata').toFixed(1)}%`, `${areaPercent(p, 'jsonata').toFixed(1)}%`),
  ].join('\n');
}
