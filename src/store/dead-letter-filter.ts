/**
 * @module store/dead-letter-filter
 * The WHERE clause of every dead-letter statement that takes a filter (list,
 * count, replay, purge), built once for both stores. It is built from the
 * filter's shape rather than written with `(:flow IS NULL OR flow = :flow)`,
 * so that each query names only the columns it tests and the planner can walk
 * the partial index that serves it (migrations `0008_dead_letter_filters`
 * (SQLite) and `0003_dead_letter_filters` (PostgreSQL)): by flow, by error
 * code, by both, or by time alone, newest first, a page stopping after `limit` rows.
 */
import { errors } from '../core/errors.ts';
import type { DeadLetterFilter } from './store.ts';

/** Binds a value and returns its placeholder: `?` on SQLite, `$n` on PostgreSQL. */
export type Bind = (value: string | number) => string;

/** A page's lower bound: the (dead_at, id) of the previous page's last row. */
export interface Keyset {
  deadAt: number;
  id: string;
}

/** Refuses a filter whose fields cannot be compared with the stored columns. */
export function checkFilter(f: DeadLetterFilter): void {
  for (const key of ['flow', 'code'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw errors.INPUT_INVALID.create([`the dead-letter filter's "${key}" must be a non-empty string`]);
  }
  for (const key of ['since', 'until'] as const) {
    const v = f[key];
    if (v !== undefined && !Number.isFinite(v)) throw errors.INPUT_INVALID.create([`the dead-letter filter's "${key}" must be a time in ms since the epoch`]);
  }
}

/**
 * `state = 'dead' AND …` for the filter (and the page bound), each field given
 * an equality or a range the index can seek on: `flow`, `error_code`, then
 * `dead_at` (since inclusive, until exclusive).
 */
export function deadLetterWhere(f: DeadLetterFilter, bind: Bind, after?: Keyset): string {
  checkFilter(f);
  const terms = ["state = 'dead'"];
  if (f.flow !== undefined) terms.push(`flow = ${bind(f.flow)}`);
  if (f.code !== undefined) terms.push(`error_code = ${bind(f.code)}`);
  if (f.since !== undefined) terms.push(`dead_at >= ${bind(Math.ceil(f.since))}`);
  if (f.until !== undefined) terms.push(`dead_at < ${bind(Math.ceil(f.until))}`);
  // A row value comparison, which both planners turn into a seek on (dead_at, id).
  if (after !== undefined) terms.push(`(dead_at, id) < (${bind(after.deadAt)}, ${bind(after.id)})`);
  return terms.join(' AND ');
}

/** The filter fields of a list query, without its paging. */
export function filterOf(q: DeadLetterFilter): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (q.flow !== undefined) f.flow = q.flow;
  if (q.code !== undefined) f.code = q.code;
  if (q.since !== undefined) f.since = q.since;
  if (q.until !== undefined) f.until = q.until;
  return f;
}

/** `count` takes a flow name (as it always has) or a filter. */
export function countFilter(arg: string | DeadLetterFilter | undefined): DeadLetterFilter {
  if (arg === undefined) return {};
  return typeof arg === 'string' ? { flow: arg } : filterOf(arg);
}
