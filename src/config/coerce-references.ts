/**
 * @module config/coerce-references
 * Environment variables and files hold text, but `port: ${env:PORT}` should
 * work as twelve-factor deployments expect. A value that is one whole
 * `${env:…}` or `${file:…}` reference, where the schema wants a number or a
 * boolean, is converted to that type; text that is not one is reported as
 * coming from its variable or file, never by its content (it may be a secret).
 *
 * Driven by the shape check's own complaints (`invalid_type`, expected
 * `number` or `boolean`) at the paths of whole references, so no second copy
 * of the schema's types is needed.
 */
import type { z } from 'zod';
import { formatPath, type KeyPath, type PathIssue } from './issue.ts';

/** A string that was one whole reference, and what it named, e.g. `environment variable PORT`. */
export interface WholeReference {
  path: KeyPath;
  origin: string;
}

export interface Coerced {
  /** The value with convertible references converted; the input itself when nothing changed. */
  value: unknown;
  /** References that cannot be converted: their paths' shape issues should be replaced by these. */
  issues: PathIssue[];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function coerceReferences(value: unknown, zodIssues: readonly z.core.$ZodIssue[], wholes: readonly WholeReference[]): Coerced {
  const byPath = new Map(wholes.map((w) => [formatPath(w.path), w]));
  const issues: PathIssue[] = [];
  let out = value;
  for (const issue of zodIssues) {
    if (issue.code !== 'invalid_type' || (issue.expected !== 'number' && issue.expected !== 'boolean')) continue;
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const whole = byPath.get(formatPath(path));
    if (whole === undefined) continue;
    const text = String(lookup(out, path)).trim();
    const converted = issue.expected === 'number' ? toNumber(text) : toBoolean(text);
    if (converted === undefined) {
      issues.push({ path, message: `expected a ${issue.expected}, but ${whole.origin} does not hold one${issue.expected === 'boolean' ? ' (true or false)' : ''}` });
    } else {
      out = setAt(out, path, converted);
    }
  }
  return { value: out, issues };
}

function toNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

function toBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

function lookup(value: unknown, path: KeyPath): unknown {
  let v = value;
  for (const seg of path) v = (v as Record<string | number, unknown> | undefined)?.[seg];
  return v;
}

/** A copy of `value` with `path` set to `leaf`; only the containers along the path are copied. */
function setAt(value: unknown, path: KeyPath, leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) {
    const copy = [...(value as unknown[])];
    copy[head as number] = setAt(copy[head as number], rest, leaf);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  copy[head] = setAt(copy[head], rest, leaf);
  return copy;
}
