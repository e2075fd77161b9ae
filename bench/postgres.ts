/**
 * @module bench/postgres
 * Many nodes on one PostgreSQL database, beside one node on SQLite: ingest and
 * drain rates with 1, 2 and 3 Junction processes sharing one schema.
 *
 * Each run, for each row (`sqlite ×1`, `postgres ×1`, `postgres ×2`, `postgres ×3`):
 * 1. **Ingest.** The nodes start with their workers off; the load generator posts
 *    `--messages` orders (after `--warmup` not timed), spread evenly over the
 *    nodes, `--concurrency` in flight in all. Figure: 202 answers per second,
 *    from the first post to the last answer.
 * 2. **Drain.** Those nodes stop; the same number start again with workers on,
 *    against a sink that holds every request until told to answer (so no node
 *    starts delivering before the others are up). Once all are up the sink is
 *    released. Figure: messages per second from the release to the sink having
 *    every message once. A duplicate or a missing message flags the run.
 *
 * The load generator, the sink, every node and the PostgreSQL server share the
 * machine's cores (the report notes how many): on a small machine more nodes
 * mostly share the same cores, so the rows say what coordination through the
 * database costs more than how far it scales.
 *
 * ```
 * node bench/run.ts --only postgres [--messages N] [--quick]    # writes its section of BENCHMARKS.md
 * node bench/postgres.ts [--messages N] [--warmup N] [--concurrency N] [--nodes 1,2,3]
 *                        [--pool-max N] [--repeats N] [--pg URL] [--write]
 * ```
 * `--pg` (or JUNCTION_BENCH_PG, or JUNCTION_TEST_PG) names the server; each run
 * uses a schema of its own, dropped afterwards.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { request } from 'undici';
import { RELAY_FLOW, PATH } from './relay.ts';
import { spawnChild, type ChildServer } from './lib/child.ts';
import { junctionBuilds, spawnJunction } from './lib/junction.ts';
import { median, orderBody, percentile, runLoad, spreadPercent, type LoadResult } from './lib/load.ts';
import { withTempDir } from './lib/report.ts';

export interface PostgresBenchSettings {
  /** Timed posts per run (the drain moves these and the warm-up's). */
  messages: number;
  /** Posts before the timed ones, not timed. */
  warmup: number;
  /** Posts in flight in all, spread over the nodes. */
  concurrency: number;
  /** Node counts on PostgreSQL; SQLite always runs one. */
  nodes: number[];
  /** pool_max of each node. */
  poolMax: number;
  repeats: number;
  /** The PostgreSQL server; a schema of each run's own is created there. */
  pgUrl: string;
  /** Longest wait for the sink to have every message. */
  drainTimeoutMs: number;
}

export const postgresDefaults: PostgresBenchSettings = {
  messages: 20_000,
  warmup: 2_000,
  concurrency: 64,
  nodes: [1, 2, 3],
  poolMax: 10,
  repeats: 3,
  pgUrl: process.env.JUNCTION_BENCH_PG || process.env.JUNCTION_TEST_PG || 'postgres://postgres@127.0.0.1:5432/test',
  drainTimeoutMs: 300_000,
};

const SINK = fileURLToPath(new URL('./targets/sink.ts', import.meta.url));
const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const HEADING = '## PostgreSQL: ingest and drain with 1, 2 and 3 nodes';
const [CURRENT] = junctionBuilds(undefined);

interface Row {
  store: 'sqlite' | 'postgres';
  nodes: number;
}

interface RunResult {
  ingestRate: number;
  p50: number;
  p99: number;
  drainRate: number;
  problems: string[];
}

export interface PostgresBenchResult {
  settings: PostgresBenchSettings;
  rows: { row: Row; runs: RunResult[] }[];
  server: string;
  maxConnections: string;
  cores: number;
  cpuModel: string;
  loadAtStart: number;
  loadAtEnd: number;
  date: string;
  /** How it was run, for the report. */
  command: string;
}

const label = (r: Row): string => `${r.store} ×${r.nodes}`;

async function config(dir: string, name: string, storeUrl: string, sinkUrl: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      `store: "${storeUrl}"`,
      'server: { port: 0, host: 127.0.0.1 }',
      'log: { level: warn }',
      'connectors:',
      // Requests wait at the held sink while the other nodes start: no timeout meanwhile.
      `  sink: { type: rest, baseUrl: "${sinkUrl}", timeoutMs: 120000, pool: { connections: 16 } }`,
      ...RELAY_FLOW,
    ].join('\n'),
  );
  return file;
}

async function sinkStats(sink: ChildServer): Promise<{ unique: number; duplicates: number; lastNewAtMs: number }> {
  const res = await request(`${sink.url}/stats`);
  return (await res.body.json()) as { unique: number; duplicates: number; lastNewAtMs: number };
}

/** Posts `count` orders from index `first`, spread over the nodes; one result over them all. */
async function postAcross(urls: string[], first: number, count: number, concurrency: number): Promise<LoadResult> {
  const per = urls.map((_, n) => Math.floor(count / urls.length) + (n < count % urls.length ? 1 : 0));
  let offset = first;
  const t0 = performance.now();
  const results = await Promise.all(
    urls.map((url, n) => {
      const start = offset;
      offset += per[n]!;
      return runLoad({
        url,
        path: PATH,
        requests: per[n]!,
        concurrency: Math.max(1, Math.round(concurrency / urls.length)),
        firstIndex: start,
        body: orderBody,
        expectStatus: 202,
      });
    }),
  );
  const all = Float64Array.from(results.flatMap((r) => [...r.latenciesMs])).sort();
  return {
    requests: count,
    failures: results.reduce((s, r) => s + r.failures, 0),
    failureSamples: results.flatMap((r) => r.failureSamples).slice(0, 5),
    elapsedMs: performance.now() - t0,
    startedAtEpochMs: Math.min(...results.map((r) => r.startedAtEpochMs)),
    latenciesMs: all,
  };
}

async function runOnce(row: Row, s: PostgresBenchSettings, dir: string, run: number): Promise<RunResult> {
  const schema = `bench_${process.pid}_${run}_${row.nodes}`;
  const admin = row.store === 'postgres' ? new pg.Client({ connectionString: s.pgUrl }) : undefined;
  const storeUrl = row.store === 'sqlite' ? 'sqlite:./junction.db' : withParams(s.pgUrl, { schema, pool_max: String(s.poolMax) });
  const problems: string[] = [];
  const children: ChildServer[] = [];
  try {
    if (admin) {
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
    const sink = await spawnChild({ name: 'postgres bench sink', script: SINK, args: ['--hold'] });
    children.push(sink);
    const files = await Promise.all(Array.from({ length: row.nodes }, (_, n) => config(dir, `node-${n}`, storeUrl, sink.url)));

    // Ingest, workers off. Nodes start one after another: the first migrates, the others find it done.
    const ingestNodes: ChildServer[] = [];
    for (const file of files) ingestNodes.push(await spawnJunction(CURRENT!, file, ['--workers', 'false']));
    children.push(...ingestNodes);
    const urls = ingestNodes.map((n) => n.url);
    if (s.warmup > 0) await postAcross(urls, 0, s.warmup, s.concurrency);
    const load = await postAcross(urls, s.warmup, s.messages, s.concurrency);
    if (load.failures > 0) problems.push(`${load.failures} posts failed: ${load.failureSamples.join('; ')}`);
    await Promise.all(ingestNodes.map((n) => n.stop(15_000)));

    // Drain: every node up (their first claims wait at the held sink), then the sink answers.
    const total = s.warmup + s.messages;
    const drainNodes: ChildServer[] = [];
    for (const file of files) drainNodes.push(await spawnJunction(CURRENT!, file));
    children.push(...drainNodes);
    const releasedAt = performance.timeOrigin + performance.now();
    await (await request(`${sink.url}/release`, { method: 'POST' })).body.text();
    const deadline = Date.now() + s.drainTimeoutMs;
    let stats = await sinkStats(sink);
    while (stats.unique < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await sinkStats(sink);
    }
    if (stats.unique < total) problems.push(`${total - stats.unique} messages not delivered within ${s.drainTimeoutMs} ms`);
    if (stats.duplicates > 0) problems.push(`${stats.duplicates} duplicates`);
    return {
      ingestRate: ((s.messages - load.failures) / load.elapsedMs) * 1000,
      p50: percentile(load.latenciesMs, 50),
      p99: percentile(load.latenciesMs, 99),
      drainRate: (stats.unique / (stats.lastNewAtMs - releasedAt)) * 1000,
      problems,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop(15_000)));
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
    }
  }
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export async function runPostgresBench(s: PostgresBenchSettings): Promise<PostgresBenchResult> {
  const loadAtStart = loadavg()[0]!;
  const admin = new pg.Client({ connectionString: s.pgUrl });
  await admin.connect();
  const server = String((await admin.query('SHOW server_version')).rows[0]?.server_version);
  const maxConnections = String((await admin.query('SHOW max_connections')).rows[0]?.max_connections);
  await admin.end();
  const rows: Row[] = [{ store: 'sqlite', nodes: 1 }, ...s.nodes.map((nodes): Row => ({ store: 'postgres', nodes }))];
  const results = rows.map((row) => ({ row, runs: [] as RunResult[] }));
  // Rows interleaved run by run, so that a disturbance of the machine spreads over all of them.
  for (let run = 0; run < s.repeats; run++) {
    for (const r of results) {
      const result = await withTempDir(`postgres-${r.row.store}-${r.row.nodes}`, (dir) => runOnce(r.row, s, dir, run));
      console.log(`  ${label(r.row)} run ${run + 1}: ingest ${result.ingestRate.toFixed(0)} req/s, drain ${result.drainRate.toFixed(0)} msg/s${result.problems.length ? ` ✗ ${result.problems.join('; ')}` : ''}`);
      r.runs.push(result);
    }
  }
  return {
    settings: s,
    rows: results,
    server,
    maxConnections,
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    loadAtStart,
    loadAtEnd: loadavg()[0]!,
    date: new Date().toISOString(),
    command: `node ${relative(process.cwd(), process.argv[1] ?? 'bench/postgres.ts')} ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

/** The figures of the runs that were not flagged. */
function clean(runs: RunResult[], f: (r: RunResult) => number): number[] {
  return runs.filter((r) => r.problems.length === 0).map(f);
}

export function postgresSection(r: PostgresBenchResult): string {
  const s = r.settings;
  const fig = (v: number[]): string => (v.length === 0 ? '—' : median(v).toFixed(0));
  const ms = (v: number[]): string => (v.length === 0 ? '—' : median(v).toFixed(2));
  const spread = (v: number[]): string => (v.length < 2 ? '' : `±${(spreadPercent(v) / 2).toFixed(1)}%`);
  const sqlite = r.rows.find((x) => x.row.store === 'sqlite');
  const base = (f: (x: RunResult) => number): number => median(clean(sqlite?.runs ?? [], f));
  const lines = [
    HEADING,
    '',
    'Written by `node bench/run.ts --only postgres` (bench/postgres.ts), which replaces only this section. Each row runs',
    'that many `junction run` processes (bench/targets/junction.ts) on one store: SQLite is one process on its file;',
    'PostgreSQL is one schema that every node shares. **Ingest**: workers off, the posts spread evenly over the nodes;',
    '202 answers per second. **Drain**: the same nodes started again with workers on, against a sink that holds',
    'every request until all are up; messages per second from its release to the last message, each once.',
    '',
    `- Date: ${r.date}; machine: ${r.cpuModel}, **${r.cores} cores** (os.availableParallelism()), load average ${r.loadAtStart.toFixed(2)} at the start, ${r.loadAtEnd.toFixed(2)} at the end`,
    `- Command: \`${r.command}\``,
    `- PostgreSQL ${r.server} on the same machine, max_connections ${r.maxConnections}; each node pool_max=${s.poolMax}`,
    `- Settings: ${s.messages} timed posts per run after ${s.warmup} not timed, ${s.concurrency} in flight in all, ${s.repeats} run${s.repeats === 1 ? '' : 's'} per row (medians; spread is half the range over the median); flow: the relay benchmark's (map, deliver)`,
    '- Every process (load generator, sink, nodes, PostgreSQL) shares those cores: with fewer cores than nodes, more nodes',
    '  add coordination through the database more than capacity. Run it on a machine with a core or more per node to see scaling.',
    '',
    '| store | nodes | ingest req/s | spread | p50 ms | p99 ms | drain msg/s | spread | ingest / SQLite | drain / SQLite | runs flagged |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { row, runs } of r.rows) {
    const ingest = clean(runs, (x) => x.ingestRate);
    const drain = clean(runs, (x) => x.drainRate);
    const ratio = (v: number[], b: number): string => (v.length === 0 || !(b > 0) ? '—' : (median(v) / b).toFixed(2));
    lines.push(
      `| ${row.store} | ${row.nodes} | ${fig(ingest)} | ${spread(ingest)} | ${ms(clean(runs, (x) => x.p50))} | ${ms(clean(runs, (x) => x.p99))} | ${fig(drain)} | ${spread(drain)} | ` +
        `${ratio(ingest, base((x) => x.ingestRate))} | ${ratio(drain, base((x) => x.drainRate))} | ${runs.filter((x) => x.problems.length > 0).length} of ${runs.length} |`,
    );
  }
  const flagged = r.rows.flatMap(({ row, runs }) => runs.flatMap((x, i) => x.problems.map((p) => `- ${label(row)} run ${i + 1}: ${p}`)));
  if (flagged.length > 0) lines.push('', 'Flagged runs (left out of the medians):', '', ...flagged);
  lines.push('');
  return lines.join('\n');
}

/** Replaces this section of BENCHMARKS.md (appended when missing), leaving the others as they were. */
export async function writePostgresSection(r: PostgresBenchResult): Promise<void> {
  const text = await readFile(OUT, 'utf8');
  const section = postgresSection(r);
  const start = text.indexOf(HEADING);
  if (start < 0) return writeFile(OUT, `${text.trimEnd()}\n\n${section}`);
  const end = text.indexOf('\n## ', start + 1);
  await writeFile(OUT, text.slice(0, start) + section + (end < 0 ? '' : text.slice(end + 1)));
}

/** The settings from command-line flags over the defaults (`quick`: a smoke test of the harness). */
export function postgresSettings(flags: { messages?: string | undefined; warmup?: string | undefined; concurrency?: string | undefined; nodes?: string | undefined; 'pool-max'?: string | undefined; repeats?: string | undefined; pg?: string | undefined }, quick = false): PostgresBenchSettings {
  const base = quick ? { ...postgresDefaults, messages: 2000, warmup: 200, repeats: 1 } : postgresDefaults;
  const whole = (name: string, v: string | undefined, min: number, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} is a whole number ≥ ${min}`);
    return n;
  };
  const nodes = flags.nodes === undefined ? base.nodes : flags.nodes.split(',').map((v) => whole('nodes', v.trim(), 1, 1));
  return {
    ...base,
    messages: whole('messages', flags.messages, 100, base.messages),
    warmup: whole('warmup', flags.warmup, 0, base.warmup),
    concurrency: whole('concurrency', flags.concurrency, 1, base.concurrency),
    nodes,
    poolMax: whole('pool-max', flags['pool-max'], 1, base.poolMax),
    repeats: whole('repeats', flags.repeats, 1, base.repeats),
    pgUrl: flags.pg ?? base.pgUrl,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      nodes: { type: 'string' },
      'pool-max': { type: 'string' },
      repeats: { type: 'string' },
      pg: { type: 'string' },
      quick: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
    },
  });
  const result = await runPostgresBench(postgresSettings(values, values.quick));
  console.log(`\n${postgresSection(result)}`);
  if (values.write) {
    await writePostgresSection(result);
    console.log(`Wrote the PostgreSQL section of ${OUT}.`);
  }
}
