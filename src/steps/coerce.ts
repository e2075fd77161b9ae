/**
 * @module steps/coerce
 * Converts a mapped value to the type a `map` field declares. Only conversions
 * that lose nothing are made: a value that would have to be rounded, guessed at
 * or read in a local time zone is refused, so that the message goes to the dead
 * letters with the reason instead of carrying a wrong value on.
 *
 * | type        | accepts |
 * |-------------|---------|
 * | `string`    | a string; a number or a boolean, written as JSON writes it |
 * | `number`    | a number; a decimal numeric string (`"12.5"`, `"-3"`, `"1e3"`) |
 * | `integer`   | a whole number, or a numeric string of one, within ±2^53 |
 * | `boolean`   | true, false, 1, 0, `"true"`, `"false"` (any case) |
 * | `date-time` | an ISO 8601 date or date-time string, or epoch milliseconds; written as ISO 8601 in UTC |
 *
 * `null` is a value of every type and is kept as it is.
 */
import type { Json } from '../core/message.ts';
import { excerpt } from './value-excerpt.ts';

export const MAP_TYPES = ['string', 'number', 'integer', 'boolean', 'date-time'] as const;
export type MapType = (typeof MAP_TYPES)[number];

export type Coerced = { ok: true; value: Json } | { ok: false; reason: string };

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// Date, then optionally a time with optional fraction and zone; the parts are range-checked below.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

export function coerce(value: Json, type: MapType): Coerced {
  if (value === null) return { ok: true, value };
  switch (type) {
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
      return refuse(value);
    case 'number': {
      const n = toNumber(value);
      return n === undefined ? refuse(value) : { ok: true, value: n };
    }
    case 'integer': {
      const n = toNumber(value);
      if (n === undefined) return refuse(value);
      if (!Number.isInteger(n)) return refuse(value, 'not a whole number');
      if (!Number.isSafeInteger(n)) return refuse(value, 'outside ±2^53, where integers lose precision');
      return { ok: true, value: n };
    }
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 1 || value === 0) return { ok: true, value: value === 1 };
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return { ok: true, value: value.toLowerCase() === 'true' };
      return refuse(value);
    case 'date-time':
      return toDateTime(value);
  }
}

function toNumber(value: Json): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || !NUMERIC.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

function toDateTime(value: Json): Coerced {
  if (typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? refuse(value, 'outside the range of dates') : { ok: true, value: d.toISOString() };
  }
  if (typeof value !== 'string') return refuse(value);
  const m = ISO_8601.exec(value.trim());
  if (!m) return refuse(value, 'not an ISO 8601 date or date-time');
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  // Date.parse rolls 2024-02-30 over to March; check each part instead.
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > days || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return refuse(value, 'not a calendar date and time');
  }
  // A time with no zone is read as UTC, never as the server's local time.
  const offset = zone === undefined || /^z$/i.test(zone) ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${offset}`);
  return Number.isNaN(ms) ? refuse(value, 'outside the range of dates') : { ok: true, value: new Date(ms).toISOString() };
}

function refuse(value: Json, why?: string): Coerced {
  const kind = Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  return { ok: false, reason: `got ${kind} ${excerpt(value)}${why ? ` (${why})` : ''}` };
}
