/**
 * @module bench/lib/report
 * What every benchmark hands to the runner, and the tables made from it: one
 * printed to the terminal, one in markdown for BENCHMARKS.md.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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
  failures: number;
  /** Anything odd (failures, duplicates, missing rows); a non-empty list flags the row. */
  problems: string[];
}

export interface BenchmarkReport {
  name: string;
  title: string;
  /** Unit of `rates`, e.g. "req/s". */
  unit: string;
  settings: Record<string, string | number>;
  rows: ResultRow[];
  /** Name of the Junction row and of THE baseline row: their ratio is the headline. */
  junction: string;
  baseline: string;
  /** Markdown paragraphs: what limits Junction here. */
  limits: string;
  profile?: ProfileSummary;
}

/** Rates of the runs without problems; all of them if every run had one. */
export function cleanRates(row: ResultRow): number[] {
  const clean = row.rates.filter((_, i) => !row.flaggedRuns.includes(i));
  return clean.length > 0 ? clean : row.rates;
}

/** The row's headline figure: the median over its clean runs. */
export function figure(row: ResultRow | undefined): number {
  return row ? median(cleanRates(row)) : Number.NaN;
}

export function ratio(r: BenchmarkReport): number {
  return figure(r.rows.find((x) => x.name === r.junction)) / figure(r.rows.find((x) => x.name === r.baseline));
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
    String(r.failures),
    r.problems.length === 0 ? 'ok' : `FLAGGED: ${r.problems.join('; ')}`,
  ];
}

function headers(unit: string): string[] {
  return ['server', `${unit} (median)`, 'runs', 'spread', 'p50 ms', 'p99 ms', 'failures', 'check'];
}

/** A plain-text table for the terminal. */
export function printTable(r: BenchmarkReport): void {
  const rows = [headers(r.unit), ...r.rows.map(cells)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log(`\n${r.title}`);
  for (const row of rows) console.log('  ' + row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  console.log(`  ratio ${r.junction} / ${r.baseline}: ${fmt(ratio(r), 2)}`);
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
    `**Ratio ${r.junction} / ${r.baseline} (medians): ${fmt(ratio(r), 2)}** (aim: ≥ 0.6).`,
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
