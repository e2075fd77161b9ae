/**
 * @module bench/lib/profile
 * Parent side of a profiled run ({@link startPhase}, {@link endPhase}; the child
 * side is bench/lib/instrument.ts), and the summary of what was recorded: a V8
 * CPU profile of the child's MAIN thread summed by function and by area (a
 * package, a folder of src/, node core, GC), its event-loop utilisation, and the
 * wall time spent inside `node:sqlite` calls by statement, on the main thread
 * and, when the child preloaded bench/lib/instrument-thread.ts, on the store's
 * worker thread (with its event-loop utilisation).
 *
 * Native calls have frames of their own (`run`, `get`, `all` are node:sqlite's
 * StatementSync methods: SQL, WAL writes and fsync). They show in the main
 * thread's profile only when the store runs on the main thread (before the
 * store moved to a worker thread), and in the store thread's own profile otherwise.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildServer } from './child.ts';
import type { PhaseStats, SqlStat, ThreadStats } from './instrument.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** A function (`name (file:line)`) or an area. */
  name: string;
  selfMs: number;
  /** Share of the busy time (every sample but `(idle)`). */
  percent: number;
}

export interface ProfileSummary {
  /** Messages handled during the phase, to put counts per message. */
  messages: number;
  phase: PhaseStats;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: ProfileEntry[];
  areas: ProfileEntry[];
  /** The store's worker thread's own CPU profile, when it ran in one. */
  storeCpu?: Omit<ProfileSummary, 'phase' | 'messages' | 'storeCpu'>;
}

/** Native bindings seen in these servers' profiles, by what they do. */
const NATIVE_AREAS: Record<string, string> = {
  run: 'node:sqlite (native: SQL, WAL writes, fsync)',
  get: 'node:sqlite (native: SQL, WAL writes, fsync)',
  all: 'node:sqlite (native: SQL, WAL writes, fsync)',
  iterate: 'node:sqlite (native: SQL, WAL writes, fsync)',
  exec: 'node:sqlite (native: SQL, WAL writes, fsync)',
  writeUtf8String: 'socket writes (native)',
  writeLatin1String: 'socket writes (native)',
  writeBuffer: 'socket writes (native)',
  writev: 'socket writes (native)',
};

/** Where a function lives, in words a reader of the report knows. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    if (functionName === '(root)') return 'root';
    return NATIVE_AREAS[functionName] ?? `native ${functionName || '(anonymous)'}()`;
  }
  if (url.includes('/bench/lib/instrument.ts') || url === 'node:inspector') return 'profiling overhead (bench/lib/instrument.ts)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `junction src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? parts.slice(0, 2).join('/') : parts[0]}`;
  }
  return url;
}

function shortLocation(frame: CallFrame): string {
  if (frame.url === '') return '';
  const m = /(?:node_modules\/|\/work\/main\/)?([^/]+\/[^/]+)$/.exec(frame.url);
  return `${m ? m[1] : frame.url}:${frame.lineNumber + 1}`;
}

/** Summarises one profile: the `top` functions and areas by self time. */
export function summarizeProfile(profile: CpuProfile, phase: PhaseStats, messages: number, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const area = areaOf(frame);
    if (area === 'idle') {
      idleUs += us;
      continue;
    }
    const loc = shortLocation(frame);
    const fn = `${frame.functionName || '(anonymous)'}${loc ? ` (${loc})` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, percent: busyUs > 0 ? (us / busyUs) * 100 : 0 }));
  return { messages, phase, totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, functions: rank(fns), areas: rank(areas) };
}

/** Starts the measured phase of a child started with `--measure-dir`. */
export async function startPhase(server: ChildServer): Promise<void> {
  const ready = server.waitForLine(/^MEASURING$/);
  server.child.kill('SIGUSR2');
  await ready;
}

/** Ends it and reads what the child recorded into `dir`. */
export async function endPhase(server: ChildServer, dir: string, messages: number): Promise<ProfileSummary> {
  const line = server.waitForLine(/^MEASURED (.*)$/);
  server.child.kill('SIGUSR1');
  const phase = JSON.parse((await line)[1]!) as PhaseStats;
  const profile = JSON.parse(await readFile(join(dir, 'profile.cpuprofile'), 'utf8')) as CpuProfile;
  const summary = summarizeProfile(profile, phase, messages);
  const thread = phase.threads?.find((t) => t.sql.length > 0);
  if (thread) {
    const threadProfile = JSON.parse(await readFile(join(dir, `thread-${thread.threadId}.cpuprofile`), 'utf8')) as CpuProfile;
    const { phase: _p, messages: _m, ...cpu } = summarizeProfile(threadProfile, phase, messages);
    summary.storeCpu = cpu;
  }
  return summary;
}

/** Where SQLite statements ran: on the main thread (store in-process) or on the store's worker thread. */
export type SqlThread = 'main' | 'store';

/** The statements of one thread (the store's thread: the one that ran the most SQL; none when not measured). */
export function statementsOf(s: ProfileSummary, where: SqlThread): SqlStat[] {
  if (where === 'main') return s.phase.sql;
  const threads = [...(s.phase.threads ?? [])].sort((a, b) => total(b.sql) - total(a.sql));
  return threads[0]?.sql ?? [];
}

/** The store's worker thread as measured, if it was. */
export function storeThread(s: ProfileSummary): ThreadStats | undefined {
  return [...(s.phase.threads ?? [])].sort((a, b) => total(b.sql) - total(a.sql))[0];
}

const total = (sql: SqlStat[]): number => sql.reduce((a, q) => a + q.ms, 0);

/** Where this profile's SQL ran: the main thread if it ran any there, else the store's thread. */
export function sqlThread(s: ProfileSummary): SqlThread {
  return s.phase.sql.length > 0 || !storeThread(s) ? 'main' : 'store';
}

/** Totals over a statement table, by kind of statement. `fullCommits`: commits that ran under synchronous FULL (an fsync of the WAL), when known. */
export function sqlTotals(s: ProfileSummary, where: SqlThread = 'main'): { sqlMs: number; commitMs: number; commits: number; fullCommits?: number; begins: number } {
  const sql = statementsOf(s, where);
  const sum = (pick: (q: string) => boolean, f: 'ms' | 'calls'): number => sql.filter((x) => pick(x.sql)).reduce((acc, x) => acc + x[f], 0);
  const modeKnown = sql.some((q) => q.sql.startsWith('COMMIT (synchronous'));
  return {
    sqlMs: sum(() => true, 'ms'),
    commitMs: sum((q) => q.startsWith('COMMIT'), 'ms'),
    commits: sum((q) => q.startsWith('COMMIT'), 'calls'),
    ...(modeKnown ? { fullCommits: sum((q) => q === 'COMMIT (synchronous FULL)', 'calls') } : {}),
    begins: sum((q) => q.startsWith('BEGIN'), 'calls'),
  };
}

/** Calls and wall time of the statements whose SQL starts with `prefix`. */
export function statement(s: ProfileSummary, prefix: string, where: SqlThread = 'main'): { calls: number; ms: number } {
  const hits = statementsOf(s, where).filter((q) => q.sql.startsWith(prefix));
  return { calls: hits.reduce((a, q) => a + q.calls, 0), ms: hits.reduce((a, q) => a + q.ms, 0) };
}

/** Self time of an area, as a share of the busy time (0 when absent). */
export function areaPercent(s: ProfileSummary, area: string): number {
  return s.areas.find((a) => a.name === area)?.percent ?? 0;
}

export const SQLITE_AREA = 'node:sqlite (native: SQL, WAL writes, fsync)';
export const SOCKET_AREA = 'socket writes (native)';

export const pct = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : '–');

/** The SQL of one thread in a sentence: time in statements, commits, and fsyncs when known. */
function sqlSentence(s: ProfileSummary, where: SqlThread, wallMs: number): string {
  const t = sqlTotals(s, where);
  const full = t.fullCommits === undefined ? '' : `, ${t.fullCommits} of them under synchronous FULL (an fsync each)`;
  return (
    `${t.sqlMs.toFixed(0)} ms (${pct(t.sqlMs, wallMs)} of the wall time) inside node:sqlite calls, ` +
    `of which COMMIT ${t.commitMs.toFixed(0)} ms (${t.commits} commits, ${(t.commits / Math.max(1, s.messages)).toFixed(2)} per message, ` +
    `${t.commits > 0 ? ((t.commitMs / t.commits) * 1000).toFixed(0) : '–'} µs each${full})`
  );
}

/** The phase in sentences: how busy each thread was, and how much of it was SQLite, from what was measured only. */
export function phaseSentence(s: ProfileSummary): string {
  const parts = [`Over ${s.messages} messages (${(s.phase.wallMs / 1000).toFixed(1)} s): main-thread event-loop utilisation ${pct(s.phase.elu, 1)}`];
  if (s.phase.sql.length > 0) parts.push(`on the main thread, ${sqlSentence(s, 'main', s.phase.wallMs)}`);
  else parts.push('no node:sqlite statement ran on the main thread');
  const thread = storeThread(s);
  if (thread) parts.push(`the store's worker thread: event-loop utilisation ${pct(thread.elu, 1)}, ${sqlSentence(s, 'store', thread.wallMs)}`);
  else if (s.phase.threads) parts.push('no worker thread ran node:sqlite statements');
  return `${parts.join('; ')}.`;
}

/** Markdown: the phase sentence, then areas and functions of the main thread's CPU profile, then the statements of each thread measured. */
export function profileMarkdown(s: ProfileSummary): string {
  const table = (title: string, rows: ProfileEntry[]): string =>
    [`| ${title} | self ms | % of busy |`, '|---|---:|---:|', ...rows.map((r) => `| ${r.name.replaceAll('|', '\\|')} | ${r.selfMs.toFixed(0)} | ${r.percent.toFixed(1)} |`)].join('\n');
  const statements = (where: string, sql: SqlStat[], wallMs: number): string =>
    [
      `| statement (node:sqlite on ${where}, wall time) | calls | per message | total ms | µs per call | % of wall |`,
      '|---|---:|---:|---:|---:|---:|',
      ...sql
        .slice(0, 12)
        .map(
          (q) =>
            `| \`${q.sql}\` | ${q.calls} | ${(q.calls / Math.max(1, s.messages)).toFixed(2)} | ${q.ms.toFixed(0)} | ${((q.ms / q.calls) * 1000).toFixed(0)} | ${pct(q.ms, wallMs)} |`,
        ),
    ].join('\n');
  const out = [
    phaseSentence(s),
    '',
    `CPU profile of the main thread: busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms sampled (idle ${s.idleMs.toFixed(0)} ms).`,
    '',
    table('area (main thread, self time)', s.areas),
    '',
    table('function (main thread, self time)', s.functions),
  ];
  if (s.phase.sql.length > 0) out.push('', statements('the main thread', s.phase.sql, s.phase.wallMs));
  const thread = storeThread(s);
  if (s.storeCpu) {
    out.push(
      '',
      `CPU profile of the store's worker thread: busy ${s.storeCpu.busyMs.toFixed(0)} ms of ${s.storeCpu.totalMs.toFixed(0)} ms sampled (idle ${s.storeCpu.idleMs.toFixed(0)} ms; a synchronous fsync counts as busy).`,
      '',
      table("area (store thread, self time)", s.storeCpu.areas),
      '',
      table("function (store thread, self time)", s.storeCpu.functions),
    );
  }
  if (thread) out.push('', statements("the store's worker thread", thread.sql, thread.wallMs));
  return out.join('\n');
}
