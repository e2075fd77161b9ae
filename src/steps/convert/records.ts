/**
 * @module steps/convert/records
 * Where CSV rows sit inside a JSON value (`csv.records: Orders.Order`): taken
 * from there when writing CSV, put there when reading it.
 */
import type { Json } from '../../core/message.ts';
import { isRecord } from '../../core/record.ts';
import { describeValue } from './describe.ts';

/**
 * The rows at `path` (the value itself when there is no path): an array, or one
 * object as one row. An absent or empty element (`<Orders/>` reads as "") is no rows.
 * @returns the rows, or a sentence saying why there are none to take
 */
export function takeRecords(value: Json, path: readonly string[] | undefined): Json[] | string {
  let cur: Json | undefined = value;
  for (const [i, key] of (path ?? []).entries()) {
    if (cur === undefined || cur === null || cur === '') return [];
    if (!isRecord(cur)) {
      return `csv.records ${path!.join('.')}: ${path!.slice(0, i).join('.') || 'the body'} is ${describeValue(cur)}, not an object with ${key}`;
    }
    cur = cur[key];
  }
  if (cur === undefined || cur === null || cur === '') return [];
  if (Array.isArray(cur)) return cur;
  if (typeof cur === 'object') return [cur];
  return `${path === undefined ? 'the body' : `csv.records ${path.join('.')}`} is ${describeValue(cur)}, not rows (an array of objects, or one object)`;
}

/** Rows nested under `path`: `Orders.Order` gives `{ Orders: { Order: rows } }`. */
export function putRecords(rows: Json[], path: readonly string[] | undefined): Json {
  let out: Json = rows;
  for (const key of [...(path ?? [])].reverse()) out = { [key]: out };
  return out;
}
