/**
 * @module bench/lib/report
 * What every benchmark hands to the runner, and the tables made from it: one
 * printed to the terminal, one in markdown for BENCHMARKS.md.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, spreadPercent } from './load.ts';
import type { ProfileSummary } from './profile.ts';

/** One line of a results table: one server, measured `rates.length` times. */
export interface ResultRow {
  name: string;
  /** What it is, in a few words. */
  what: string;
  /** The figure compared (requests/s or messages/s), one per run. */
  rates: number[];
  /** Indexes (into `rates`) of the runs that had problems; left out of the medians. */
  flaggedRuns: number[];
  /** Median over runs of the per-run p50 / p99 latency (ms), when measured. */
  p50Ms?: number[];
  p99Ms?: number[];
  /** CPU of the server's process (all threads) per request or message, µs, one per run (bench/lib/cpu.ts). */
  cpuUs?: number[];
  failures: number;
  /** Anything odd (failures, duplicates, missing rows); a non-empty list flags the row. */
  problems: string[];
}

/** A ratio the report states: row `of` over row `to` (medians), with the target it must reach, if any. */
export interface RatioLine {
  of: string;
  to: string;
  /** The target: the ratio must be at least this. */
  aim?: number;
}

/** One profiled Junction run (not counted in the rows). */
export interface ProfiledRun {
  /** Heading, e.g. "Junction at 479c16b (before)". */
  title: string;
  summary: ProfileSummary;
}

export interface BenchmarkReport {
  name: string;
  title: string;
  /** Unit of `rates`, e.g. "req/s". */
  unit: string;
  settings: Record<string, string | number>;
  rows: ResultRow[];
  /** The ratios stated, the headline first. */
  ratios: RatioLine[];
  /** Markdown paragraphs: what limits Junction here. */
  limits: string;
  profiles: ProfiledRun[];
}

/** Rates of the runs without problems (none if every run had one: the row then has no figure). */
export function cleanRates(row: ResultRow): number[] {
  return row.rates.filter((_, i) => !row.flaggedRuns.includes(i));
}

/** The row's headline figure: the median over its clean runs; NaN when every run was flagged. */
export function figure(row: ResultRow | undefined): number {
  return row ? median(cleanRates(row)) : Number.NaN;
}

export function ratioOf(r: BenchmarkReport, line: RatioLine): number {
  return figure(r.rows.find((x) => x.name === line.of)) / figure(r.rows.find((x) => x.name === line.to));
}

/** "met", "NOT met" or "not measured" (a NaN ratio), for a line with an aim. */
export function verdict(r: BenchmarkReport, line: RatioLine): string {
  const x = ratioOf(r, line);
  if (line.aim === undefined) return '';
  if (Number.isNaN(x)) return 'not measured';
  return x >= line.aim ? 'met' : 'NOT met';
}

/** "ratio junction / baseline: 0.62 (aim ≥ 0.6: met)" */
export function ratioText(r: BenchmarkReport, line: RatioLine): string {
  const aim = line.aim === undefined ? '' : ` (aim ≥ ${line.aim}: ${verdict(r, line)})`;
  return `ratio ${line.of} / ${line.to}: ${fmt(ratioOf(r, line), 2)}${aim}`;
}

/** How many runs of each row were flagged and left out of its median, in words. */
export function droppedText(r: BenchmarkReport): string {
  const dropped = r.rows.filter((row) => row.flaggedRuns.length > 0);
  if (dropped.length === 0) return `No run was flagged: every median is over all ${r.rows[0]?.rates.length ?? 0} runs.`;
  return (
    'Flagged runs, left out of the medians: ' +
    dropped
      .map((row) => `${row.name} ${row.flaggedRuns.length} of ${row.rates.length}${row.flaggedRuns.length === row.rates.length ? ' (no figure: every run was flagged)' : ''}`)
      .join(', ') +
    '.'
  );
}

const fmt = (n: number | undefined, digits = 0): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const medianOrUndef = (xs: number[] | undefined): number | undefined => (xs && xs.length > 0 ? median(xs) : undefined);

function cells(r: ResultRow): string[] {
  return [
    r.name,
    fmt(figure(r)),
    r.rates.map((x, i) => fmt(x) + (r.flaggedRuns.includes(i) ? ' ✗' : '')).join(' / '),
    `±${fmt(spreadPercent(cleanRates(r)) / 2, 1)}%`,
    fmt(medianOrUndef(r.p50Ms), 2),
    fmt(medianOrUndef(r.p99Ms), 2),
    fmt(medianOrUndef(r.cpuUs?.filter((x) => !Number.isNaN(x)))),
    String(r.failures),
    r.problems.length === 0 ? 'ok' : `FLAGGED: ${r.problems.join('; ')}`,
  ];
}

function headers(unit: string): string[] {
  return ['server', `${unit} (median)`, 'runs', 'spread', 'p50 ms', 'p99 ms', `CPU µs per ${unit.replace(/\/s$/, '')}`, 'failures', 'check'];
}

/** A plain-text table for the terminal. */
export function printTable(r: BenchmarkReport): void {
  const rows = [headers(r.unit), ...r.rows.map(cells)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log(`\n${r.title}`);
  for (const row of rows) console.log('  ' + row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  for (const line of r.ratios) console.log(`  ${ratioText(r, line)}`);
  console.log(`  ${droppedText(r)}`);
}

/** The markdown section of one benchmark. */
export function markdownSection(r: BenchmarkReport): string {
  const head = headers(r.unit);
  const lines = [
    `## ${r.title}`,
    '',
    'Settings: ' + Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ') + '.',
    '',
    `| ${head.join(' | ')} | what |`,
    `|${head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:')).join('|')}|---|`,
    ...r.rows.map((row) => `| ${cells(row).join(' | ')} | ${row.what} |`),
    '',
    ...r.ratios.map((line, i) => (i === 0 ? `- **${ratioText(r, line)}** (medians)` : `- ${ratioText(r, line)} (medians)`)),
    '',
    droppedText(r),
    '',
    '### What limits it',
    '',
    r.limits,
  ];
  return lines.join('\n');
}

/** A loopback port that nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const tempDirs = new Set<string>();
let hooked = false;

/** Runs `fn` with a fresh temp dir, removed afterwards whatever happens (even on SIGINT). */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  if (!hooked) {
    hooked = true;
    process.on('exit', removeTempDirs);
  }
  const dir = await mkdtemp(join(tmpdir(), `junction-bench-${prefix}-`));
  tempDirs.add(dir);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/**
 * What each server spent in CPU per unit of work, in words: on a machine whose
 * cores the load generator and the servers share, the rates show what each got
 * of the cores; CPU per unit shows what it costs. Empty when not measured.
 */
export function cpuParagraph(r: BenchmarkReport, of: string, to: string): string {
  const cpu = (name: string): number => {
    const xs = r.rows.find((x) => x.name === name)?.cpuUs?.filter((x) => !Number.isNaN(x)) ?? [];
    return xs.length === 0 ? Number.NaN : median(xs);
  };
  const [a, b] = [cpu(of), cpu(to)];
  if (Number.isNaN(a) || Number.isNaN(b)) return '';
  const unit = r.unit.replace(/\/s$/, '');
  return (
    `**CPU per ${unit}.** ${of}'s process (all its threads) used ${a.toFixed(0)} µs of CPU per ${unit}, ${to}'s ${b.toFixed(0)} µs ` +
    `(medians over the runs): at equal CPU, ${of} would reach ${(b / a).toFixed(2)}× ${to}'s rate. ` +
    `The rates above are also shaped by the load generator sharing the machine's ${availableParallelism()} cores with the server.`
  );
}
