/**
 * @module config/zod-issues
 * Turns zod's issues into config issues: where each should point (a key, a
 * value, or the map that lacks a key) and a message written for the person who
 * edits the YAML. zod's default wording is kept where it is already clear, and
 * a message the schema wrote itself is never rewritten.
 */
import type { z } from 'zod';
import type { KeyPath, PathIssue } from './issue.ts';
import { allowedKeys, schemaAt } from './schema-path.ts';
import { entryInfo } from './registry-entry.ts';
import { closest } from '../core/suggest.ts';

type Issue = z.core.$ZodIssue;

export function fromZodIssues(issues: readonly Issue[], root: z.core.$ZodType, value: unknown): PathIssue[] {
  return issues.flatMap((issue) => convert(issue, root, value));
}

function convert(issue: Issue, root: z.core.$ZodType, value: unknown): PathIssue[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const here = lookup(value, path);
  const isDefault = /^(Invalid|Too (small|big))\b/.test(issue.message);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schemaAt(root, path, value), here.value);
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key' as const, message: unknownKey(key, allowed) }));
    }
    case 'invalid_key': {
      const why = issue.issues.map((i) => i.message).join('; ');
      return [{ path, at: 'key', message: `invalid name ${JSON.stringify(String(path.at(-1)))}: ${why}` }];
    }
    case 'invalid_type':
      if (!here.exists) return [missing(path)];
      return [{ path, message: isDefault ? `expected ${noun(issue.expected)}, got ${describe(here.value)}` : issue.message }];
    case 'invalid_union': {
      const disc = issue.discriminator;
      if (disc === undefined || !isDefault) return [{ path, message: issue.message }];
      const options = 'options' in issue ? (issue.options ?? []) : [];
      const expected = `expected one of ${options.map(String).join(', ')}`;
      if (!here.exists) return [{ ...missing(path), message: `missing required key "${disc}"; ${expected}` }];
      return [{ path, message: `unknown ${disc} ${JSON.stringify(here.value)}; ${expected}` }];
    }
    case 'invalid_value':
      if (!isDefault) return [{ path, message: issue.message }];
      return [{ path, message: issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}` : `expected one of ${issue.values.map(String).join(', ')}` }];
    case 'too_small':
    case 'too_big':
      return [{ path, message: isDefault ? bound(issue) : issue.message }];
    case 'invalid_format':
      return [{ path, message: issue.format === 'url' && isDefault ? 'expected a URL such as http://127.0.0.1:4010' : issue.message }];
    case 'custom': {
      // An unknown step or trigger type is a wrong key, not a wrong value.
      const inStep = path.length > 0 && entryInfo(schemaAt(root, path.slice(0, -1), value))?.style === 'keyed' && typeof path.at(-1) === 'string';
      return [{ path, at: inStep ? 'key' : 'value', message: issue.message }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

function missing(path: KeyPath): PathIssue {
  return { path, at: 'parent', message: `missing required key "${String(path.at(-1))}"` };
}

function unknownKey(key: string, allowed: string[] | undefined): string {
  if (!allowed) return `unknown key "${key}"`;
  const guess = closest(key, allowed);
  return `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${allowed.join(', ')}`;
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const n = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const cmp = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (issue.origin) {
    case 'string':
      return small && n === 1 ? 'must not be empty' : `must be ${cmp} ${n} characters long`;
    case 'array':
    case 'set':
      return small && n === 1 ? 'must not be empty' : `must have ${cmp} ${n} items`;
    default:
      return `must be ${cmp} ${n}`;
  }
}

const NOUNS: Record<string, string> = {
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function noun(expected: string): string {
  return NOUNS[expected] ?? expected;
}

/** What the YAML held, by kind only: a value may be a resolved secret. */
function describe(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a whole number' : 'a number with a fraction';
  if (typeof v === 'boolean') return `${v}`;
  if (typeof v === 'string') return 'a string';
  return typeof v;
}

function lookup(value: unknown, path: KeyPath): { exists: boolean; value: unknown } {
  let v = value;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, seg)) return { exists: false, value: undefined };
    v = (v as Record<string | number, unknown>)[seg];
  }
  return { exists: true, value: v };
}
