/**
 * @module server/admin/selector
 * The body of `POST /admin/dead-letters/replay` and `…/purge`: which dead letters,
 * named the way `junction dlq` names them: `{ ids: [...] }`, `{ flow }` or
 * `{ all: true }`, exactly one of them. Checked by hand so that a mistake gets
 * one plain sentence rather than a schema validator's list of alternatives.
 */
import { errors } from '../../core/errors.ts';
import type { DeadLetterSelector } from '../../store/store.ts';

/** Keeps one request's transaction bounded; page through larger sets with list. */
export const MAX_IDS = 10_000;

const USAGE = 'send a JSON object with exactly one of {"ids": [...]}, {"flow": "name"} or {"all": true}';

export function parseSelector(body: unknown): DeadLetterSelector {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.INPUT_INVALID.create([USAGE]);
  const o = body as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'ids' && k !== 'flow' && k !== 'all');
  if (unknown.length > 0) throw errors.INPUT_INVALID.create([`unknown key ${unknown.map((k) => `"${k}"`).join(', ')}; ${USAGE}`]);
  const given = ['ids', 'flow', 'all'].filter((k) => o[k] !== undefined);
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
  if (o.all !== true) throw errors.INPUT_INVALID.create(['"all" must be true; name dead letters by "ids" or "flow" otherwise']);
  return { all: true };
}
