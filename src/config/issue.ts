/**
 * @module config/issue
 * One mistake in a config file, and how it prints:
 * `junction.yaml:42:7 flows.orders-to-crm.steps[1].map.total: message`.
 * Every stage of the loader (YAML, `${…}` references, the shape check, the
 * reference check) reports in this one form so that `junction check` lists
 * them all together, sorted by position.
 */
import { isAbsolute, relative, sep } from 'node:path';

export interface ConfigIssue {
  /** Absolute path of the config file. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted key path, e.g. `flows.orders.steps[1].map.total`; empty for the document itself. */
  path: string;
  message: string;
}

/** A path as zod and the JS value see it: keys and array indexes. */
export type KeyPath = readonly (string | number)[];

/** Where an issue should point, before it has a line and column. */
export interface PathIssue {
  path: KeyPath;
  message: string;
  /**
   * `key`: the key node of the last segment (an unknown key, a bad name);
   * `parent`: the map that lacks the last segment (a missing key);
   * `value` (default): the value at the path, or its deepest existing ancestor.
   */
  at?: 'key' | 'parent' | 'value';
}

// Anything that cannot be misread as path syntax is shown bare.
const PLAIN_KEY = /^[^\s.[\]"'`]+$/;

/** `['flows', 'a', 'steps', 1, 'map']` → `flows.a.steps[1].map`; odd keys are quoted: `headers["x.y"]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `file` relative to `cwd` when it lies below it, else as given. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  const outside = rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  return outside ? file : rel;
}

/** One line: `junction.yaml:42:7 flows.a.steps[1].map.total: message`. */
export function formatIssue(issue: ConfigIssue, cwd: string = process.cwd()): string {
  const where = `${displayPath(issue.file, cwd)}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

export function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path);
}

/** Sorted by position, exact repeats dropped (two passes may see the same mistake). */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const issue of [...issues].sort(compareIssues)) {
    const id = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(issue);
  }
  return out;
}
