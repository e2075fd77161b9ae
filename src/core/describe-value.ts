/**
 * @module core/describe-value
 * Short, bounded descriptions of values for error messages, so that a dead
 * letter's reason says what was wrong without copying the payload into it.
 */
import type { Json } from './message.ts';

const MAX_KEYS = 5;

/** "an object with keys id, name", "an array of 3", "a string", … */
export function describeValue(v: Json | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, MAX_KEYS).join(', ');
    return `an object with key${keys.length === 1 ? '' : 's'} ${shown}${keys.length > MAX_KEYS ? ', …' : ''}`;
  }
  return `a ${typeof v}`;
}
