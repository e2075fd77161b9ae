/**
 * @module bench/run
 * `npm run bench`: runs the benchmarks (each against a baseline measured in the
 * same run), prints their tables, and replaces BENCHMARKS.md with the results.
 *
 * ```
 * node bench/run.ts [--only ingest|relay|transform|policies|backlog|postgres] [--repeats N] [--quick] [--no-profile]
 *                   [--before <commit>] [--messages N] [--node-options="--max-semi-space-size=4"]
 * node bench/run.ts postgres [--messages N] [--warmup N] [--concurrency N] [--nodes 1,2,3] [--pool-max N] [--pg URL]
 * ```
 * `--quick` runs smaller loads, once each: a smoke test of the harness, not
 * figures to publish (BENCHMARKS.md is not written then).
 *
 * `--before <commit>` measures Junction at that commit too, as one more row of
 * ingest and relay (and profiles it): both ratios and both profiles come from
 * one run (bench/lib/revision.ts checks the commit out in a temp worktree,
 * removed afterwards).
 *
 * `--only backlog` (not part of the default run) is bench/backlog.ts: a backlog
 * of `--messages N` (default 1,000,000) with the sink down, then drained, then
 * a steady phase under a short retention. It replaces only its own section of
 * BENCHMARKS.md, and bench/charts/backlog.svg.
 *
 * `--only postgres` (or `postgres` alone; not part of the default run either) is
 * bench/postgres.ts: ingest and drain with 1, 2 and 3 nodes on one PostgreSQL
 * database beside one on SQLite. It replaces only its own section.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { backlogDefaults, backlogSection, runBacklog, writeBacklogSection, type BacklogResult } from './backlog.ts';
import { ingestDefaults, runIngest } from './ingest.ts';
import { profileMarkdown } from './lib/profile.ts';
import { droppedText, figure, markdownSection, printTable, ratioOf, verdict, type BenchmarkReport } from './lib/report.ts';
import { withRevision, type Revision } from './lib/revision.ts';
import { policiesSection, runPolicies, writePoliciesSection, type PoliciesResult } from './policies.ts';
import { postgresSection, postgresSettings, runPostgresBench, writePostgresSection, type PostgresBenchResult } from './postgres.ts';
import { relayDefaults, runRelay } from './relay.ts';
import { runTransform, transformTable, type TransformRow } from './transform.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    only: { type: 'string' },
    repeats: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    before: { type: 'string' },
    messages: { type: 'string' },
    'node-options': { type: 'string' },
    // bench/postgres.ts's own
    warmup: { type: 'string' },
    concurrency: { type: 'string' },
    nodes: { type: 'string' },
    'pool-max': { type: 'string' },
    pg: { type: 'string' },
  },
});
// `node bench/run.ts postgres` is `--only postgres`.
if (positionals.length > 1 || (positionals[0] !== undefined && values.only !== undefined)) throw new Error('name one benchmark: --only NAME, or NAME alone');
values.only ??= positionals[0];
if (values.only !== undefined && !['ingest', 'relay', 'transform', 'policies', 'backlog', 'postgres'].includes(values.only)) {
  throw new Error('--only is ingest, relay, transform, policies, backlog or postgres');
}
for (const flag of ['warmup', 'concurrency', 'nodes', 'pool-max', 'pg'] as const) {
  if (values[flag] !== undefined && values.only !== 'postgres') throw new Error(`--${flag} is for --only postgres`);
}
const messages = values.messages === undefined ? undefined : Number(values.messages);
if (messages !== undefined && !(Number.isInteger(messages) && messages >= 100)) throw new Error('--messages is a whole number ≥ 100');
if (messages !== undefined && values.only !== 'backlog' && values.only !== 'postgres') throw new Error('--messages is for --only backlog or postgres');
const repeats = values.repeats === undefined ? undefined : Number(values.repeats);
if (repeats !== undefined && !(Number.isInteger(repeats) && repeats >= 1)) throw new Error('--repeats is a whole number ≥ 1');
const profile = !values['no-profile'];

const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const started = new Date();
const loadAtStart = loadavg()[0]!;
if (loadAtStart > cpus().length / 2) {
  console.warn(`Load average is ${loadAtStart.toFixed(2)} on ${cpus().length} cores: other work will disturb the figures.`);
}
const reports: BenchmarkReport[] = [];

async function serverBenchmarks(before: Revision | undefined): Promise<void> {
  if (values.only === 'postgres') return;
  const extra = before ? { before } : {};
  if (values.only === undefined || values.only === 'ingest') {
    const base = values.quick ? { ...ingestDefaults, requests: 2000, warmup: 500, repeats: 1 } : ingestDefaults;
    reports.push(await runIngest({ ...base, repeats: repeats ?? base.repeats, profile, ...extra }));
  }
  if (values.only === undefined || values.only === 'relay') {
    const base = values.quick ? { ...relayDefaults, messages: 1000, warmup: 200, repeats: 1 } : relayDefaults;
    reports.push(await runRelay({ ...base, repeats: repeats ?? base.repeats, profile, ...extra }));
  }
}
let beforeLabel: string | undefined;
if (values.before !== undefined) {
  if (!['ingest', 'relay', undefined].includes(values.only)) throw new Error('--before is for ingest and relay');
  await withRevision(values.before, async (rev) => {
    beforeLabel = rev.label;
    await serverBenchmarks(rev);
  });
} else {
  await serverBenchmarks(undefined);
}
const backlogBase = values.quick ? { ...backlogDefaults, messages: 5000, steadySeconds: 20, steadyRate: 500 } : backlogDefaults;
const backlog: BacklogResult | undefined = values.only === 'backlog' ? await runBacklog({ ...backlogBase, ...(messages ? { messages } : {}), ...(values['node-options'] === undefined ? {} : { nodeOptions: values['node-options'] }) }) : undefined;

const postgres: PostgresBenchResult | undefined =
  values.only === 'postgres' ? await runPostgresBench(postgresSettings({ ...values, ...(repeats === undefined ? {} : { repeats: String(repeats) }) }, values.quick)) : undefined;

// In process: each step against its library, no servers involved.
const transform = values.only === undefined || values.only === 'transform' ? await runTransform(values.quick ? 1 : 7) : [];
const policies = values.only === undefined || values.only === 'policies' ? await runPolicies(values.quick ? 1 : 11, values.quick ? 500 : 20000) : undefined;

for (const r of reports) printTable(r);
if (transform.length > 0) console.log(`\n${transformTable(transform)}`);
if (policies) console.log(`\n${policiesSection(policies)}`);
if (backlog) console.log(`\n${backlogSection(backlog)}`);
if (postgres) console.log(`\n${postgresSection(postgres)}`);
const seconds = (Date.now() - started.getTime()) / 1000;
console.log(`\nDone in ${seconds.toFixed(0)} s.`);

if (values.quick) {
  console.log('--quick: BENCHMARKS.md left as it was.');
} else if (values.only === 'policies' && policies) {
  // Alone, it replaces its own section and leaves the figures of the others as they were.
  await writePoliciesSection(policies);
  console.log(`Wrote the Policies section of ${OUT}.`);
} else if (postgres) {
  await writePostgresSection(postgres);
  console.log(`Wrote the PostgreSQL section of ${OUT}.`);
} else if (backlog) {
  await writeBacklogSection(backlog);
  console.log(`Wrote the Backlog section of ${OUT} and its chart.`);
} else {
  await writeFile(OUT, `${render(reports, transform, policies, seconds).trimEnd()}\n${await keptSections()}`);
  console.log(`Wrote ${OUT}.`);
}
if (reports.some((r) => r.rows.some((row) => row.problems.length > 0))) {
  console.error('Some runs were FLAGGED (failures, duplicates or missing rows): see the tables.');
  process.exitCode = 1;
}
if (backlog && backlog.checks.some((c) => !c.ok)) {
  console.error(`Backlog checks failed: ${backlog.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}.`);
  process.exitCode = 1;
}

function render(list: BenchmarkReport[], transform: TransformRow[], policies: PoliciesResult | undefined, seconds: number): string {
  const cpu = cpus();
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); every run replaces this file, but',
    'for the Backlog and PostgreSQL sections, which only their own runs',
    '(`--only backlog`, `--only postgres`) replace. Each',
    'benchmark compares Junction with a bare Node.js server doing the same job,',
    'measured in the same run, on the same machine. The load generator runs in the',
    'parent process; every server runs in its own child process, on 127.0.0.1.',
    '',
    `- Date: ${started.toISOString()} (took ${seconds.toFixed(0)} s)`,
    `- Node: ${process.version} (${platform()} ${release()})`,
    `- CPU: ${cpu[0]?.model.trim() ?? 'unknown'} × ${cpu.length} logical cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Load average (1 min) of the machine: ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end ` +
      '(the benchmark itself keeps about 2 busy; more means other work shared the machine)',
    `- Junction: ${revision()}`,
    ...(beforeLabel ? [`- Before (row junction-before, measured in the same run): commit ${beforeLabel}`] : []),
    `- Command: \`node bench/run.ts${process.argv.slice(2).length > 0 ? ' ' + process.argv.slice(2).join(' ') : ''}\``,
    '',
    'Figures are medians over the runs (each run listed); "spread" is half the',
    'range over the median. A run with failures, missing rows, duplicates or',
    'undelivered messages is flagged, marked ✗ and left out of the median (each',
    'section says how many were); a row whose every run was flagged has no figure.',
    'p50/p99 are per-request latencies seen by the load generator (nearest rank',
    'over every measured request), medians over the runs. The machine is shared',
    'with other work, and the load generator shares its cores with the servers:',
    'compare the rows of one run with each other rather than with other machines.',
    '"CPU µs per req/msg" is the CPU time (user + system, all threads, from',
    '/proc) the server process used over the measured requests or messages,',
    'divided by their number: what each row costs, whatever share of the cores',
    'it got.',
    '',
    '| benchmark | row | figure | over | figure | ratio | aim | met |',
    '|---|---|---:|---|---:|---:|---:|---|',
    ...list.flatMap((r) =>
      r.ratios.map((line) => {
        const of = figure(r.rows.find((x) => x.name === line.of));
        const to = figure(r.rows.find((x) => x.name === line.to));
        return `| ${r.name} | ${line.of} | ${of.toFixed(0)} ${r.unit} | ${line.to} | ${to.toFixed(0)} ${r.unit} | ${ratioOf(r, line).toFixed(2)} | ${line.aim === undefined ? '' : `≥ ${line.aim}`} | ${verdict(r, line)} |`;
      }),
    ),
    '',
    ...list.map((r) => `${r.name}: ${droppedText(r)}`),
    '',
  ];
  for (const r of list) {
    lines.push(markdownSection(r), '');
    for (const p of r.profiles) {
      lines.push(
        `### Profile of ${p.title}, ${r.name}`,
        '',
        'One more run of that build (not counted above) with bench/lib/instrument.ts:',
        "the V8 CPU profiler on the child's main thread (what `node --cpu-prof` records,",
        'limited to the measured messages) and its event-loop utilisation; the wall',
        'time of every node:sqlite statement on the main thread and, where the store',
        'runs in a worker thread, on that thread too (bench/lib/instrument-thread.ts),',
        'with its event-loop utilisation and its own CPU profile. Self',
        'time by area (package, folder of src/, node core, native calls), then by',
        'function, then statements. The wrappers that time each statement cost a',
        'little themselves ("profiling overhead").',
        '',
        profileMarkdown(p.summary),
        '',
      );
    }
  }
  if (transform.length > 0) {
    lines.push(
      '## Transform: each step against its library',
      '',
      'In one process (bench/transform.ts): messages per second through validate, map',
      'and each conversion, and through the same library called directly with the',
      'same options, in alternating rounds (median of 7). The overhead is what the',
      'step adds: an async call per message, the message copy, the content-type',
      'header, and its own checks. At a microsecond per message, a few percent either',
      'way is noise; a negative overhead means the step was not measurably slower.',
      '',
      transformTable(transform),
      '',
    );
  }
  if (policies) lines.push(policiesSection(policies));
  return lines.join('\n');
}

/**
 * The backlog and PostgreSQL sections take minutes and run only when named
 * (`--only backlog`, `--only postgres`), each replacing its own section: a
 * whole run keeps them as they were, with the date and command they state.
 */
async function keptSections(): Promise<string> {
  const old = await readFile(OUT, 'utf8').catch(() => '');
  const kept: string[] = [];
  for (const heading of ['## Backlog:', '## PostgreSQL:']) {
    const start = old.indexOf(heading);
    if (start < 0) continue;
    const end = old.indexOf('\n## ', start + 1);
    kept.push(`\n${(end < 0 ? old.slice(start) : old.slice(start, end)).trimEnd()}\n`);
  }
  return kept.join('');
}

/** The commit measured, and whether src/ had uncommitted changes then. */
function revision(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  try {
    const head = git('log', '-1', '--format=%h %s');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `commit ${head}${dirty ? ' (src/ had uncommitted changes)' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
