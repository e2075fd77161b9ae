/**
 * @module steps/validate-violations
 * Turns Ajv's errors into violations a sender can act on: where (a JSON pointer
 * into the body), which rule, what it says, and the offending value, bounded so
 * that a huge or hostile body cannot make a huge error.
 */
import type { ErrorObject } from 'ajv';
import type { Json } from '../core/message.ts';
import { boundedValue, excerpt } from './value-excerpt.ts';

export interface Violation {
  /** JSON pointer into the body (`''` for the body itself); for a missing or extra property, that property's. */
  pointer: string;
  /** The JSON Schema keyword that failed: `minimum`, `format`, `required`, … */
  rule: string;
  message: string;
  /** The offending value (cut when large); absent when the property is missing. */
  value?: Json;
}

/** At most this many violations are kept; the rest are counted. */
export const MAX_VIOLATIONS = 50;
const MAX_VALUE_CHARS = 200;

export function toViolations(errors: readonly ErrorObject[]): Violation[] {
  return errors.slice(0, MAX_VIOLATIONS).map(toViolation);
}

function toViolation(e: ErrorObject): Violation {
  const params = e.params as Record<string, unknown>;
  // A property that is missing or not allowed is best pointed at directly, not through its parent.
  switch (e.keyword) {
    case 'required':
    case 'dependentRequired':
    case 'dependencies': {
      const name = String(params.missingProperty);
      const when = e.keyword === 'required' ? '' : ` when ${String(params.property)} is present`;
      return { pointer: child(e.instancePath, name), rule: e.keyword, message: `is required${when}` };
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      const value = (e.data as Record<string, Json> | undefined)?.[name];
      return { pointer: child(e.instancePath, name), rule: e.keyword, message: 'is not allowed here', ...withValue(value) };
    }
    case 'const':
      // Ajv's own wording leaves out what was expected.
      return { pointer: e.instancePath, rule: e.keyword, message: `must be ${excerpt(params.allowedValue)}`, ...withValue(e.data as Json | undefined) };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => excerpt(v, 30));
      const list = allowed.length > 10 ? `${allowed.slice(0, 10).join(', ')}, …` : allowed.join(', ');
      return { pointer: e.instancePath, rule: e.keyword, message: `must be one of ${list}`, ...withValue(e.data as Json | undefined) };
    }
    default:
      return { pointer: e.instancePath, rule: e.keyword, message: e.message ?? 'is invalid', ...withValue(e.data as Json | undefined) };
  }
}

function withValue(v: Json | undefined): { value?: Json } {
  return v === undefined ? {} : { value: boundedValue(v, MAX_VALUE_CHARS) };
}

/** RFC 6901: `~` and `/` in a name are escaped. */
function child(pointer: string, name: string): string {
  return `${pointer}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** One line for a log, a dead letter or a problem's detail: every violation kept, with its value. */
export function describeViolations(violations: readonly Violation[], total: number): string {
  const parts = violations.map((v) => `${v.pointer === '' ? '(body)' : v.pointer} ${v.message}${v.value === undefined ? '' : ` (got ${excerpt(v.value)})`}`);
  const more = total > violations.length ? `; and ${total - violations.length} more` : '';
  return `${total === 1 ? '1 violation' : `${total} violations`}: ${parts.join('; ')}${more}`;
}
