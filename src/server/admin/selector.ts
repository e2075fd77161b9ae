/**
 * @module server/admin/selector
 * The body of `POST /admin/dead-letters/replay` and `…/purge`: which dead letters,
 * named the way `junction dlq` names them: `{ ids: [...] }`, `{ flow }` or
 * `{ all: true }`, or everything a dead-letter list's filter matches:
 * `{ filter: { flow?, code?, since?, until? } }`; exactly one of them. Checked
 * by hand so that a mistake gets one plain sentence rather than a schema
 * validator's list of alternatives.
 */
import { errors } from '../../core/errors.ts';
import { ISO_TIME_HINT, parseIsoTime } from '../../core/iso-time.ts';
import type { DeadLetterFilter, DeadLetterSelector } from '../../store/store.ts';

/** Keeps one request's transaction bounded; page through larger sets with list. */
export const MAX_IDS = 10_000;

const USAGE = 'send a JSON object with exactly one of {"ids": [...]}, {"flow": "name"}, {"filter": {"flow", "code", "since", "until"}} or {"all": true}';
const FILTER_KEYS = ['flow', 'code', 'since', 'until'] as const;

/** Milliseconds since the epoch of an ISO 8601 time; refuses anything else with a 400 naming `what`. */
export function parseTime(value: unknown, what: string): number {
  const ms = parseIsoTime(value);
  if (ms === undefined) throw errors.INPUT_INVALID.create([`"${what}" must be ${ISO_TIME_HINT}`]);
  return ms;
}

/**
 * A dead-letter filter from JSON or a query string: `flow` and `code` strings,
 * `since` and `until` ISO 8601 times (since inclusive, until exclusive).
 */
export function parseFilter(o: Readonly<Record<string, unknown>>, where = ''): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  for (const key of ['flow', 'code'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw errors.INPUT_INVALID.create([`"${where}${key}" must be a non-empty string`]);
    f[key] = v;
  }
  if (o.since !== undefined) f.since = parseTime(o.since, `${where}since`);
  if (o.until !== undefined) f.until = parseTime(o.until, `${where}until`);
  return f;
}

export function parseSelector(body: unknown): DeadLetterSelector {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.INPUT_INVALID.create([USAGE]);
  const o = body as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'ids' && k !== 'flow' && k !== 'all' && k !== 'filter');
  if (unknown.length > 0) throw errors.INPUT_INVALID.create([`unknown key ${unknown.map((k) => `"${k}"`).join(', ')}; ${USAGE}`]);
  const given = ['ids', 'flow', 'all', 'filter'].filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw errors.INPUT_INVALID.create([USAGE]);
  if (o.ids !== undefined) {
    const { ids } = o;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id !== '')) {
      throw errors.INPUT_INVALID.create(['"ids" must be a non-empty array of dead-letter ids']);
    }
    if (ids.length > MAX_IDS) throw errors.INPUT_INVALID.create([`"ids" holds ${ids.length} ids; at most ${MAX_IDS} per request`]);
    return { ids: ids as string[] };
  }
  if (o.flow !== undefined) {
    if (typeof o.flow !== 'string' || o.flow === '') throw errors.INPUT_INVALID.create(['"flow" must be a flow name']);
    return { flow: o.flow };
  }
  if (o.filter !== undefined) {
    const { filter } = o;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      throw errors.INPUT_INVALID.create(['"filter" must be an object with any of "flow", "code", "since", "until" (an empty one matches every dead letter)']);
    }
    const stray = Object.keys(filter).filter((k) => !(FILTER_KEYS as readonly string[]).includes(k));
    if (stray.length > 0) throw errors.INPUT_INVALID.create([`unknown key ${stray.map((k) => `"filter.${k}"`).join(', ')}; a filter takes "flow", "code", "since" and "until"`]);
    return { filter: parseFilter(filter as Record<string, unknown>, 'filter.') };
  }
  if (o.all !== true) throw errors.INPUT_INVALID.create(['"all" must be true; name dead letters by "ids" or "flow" otherwise']);
  return { all: true };
}
