/**
 * @module config/load
 * Reads `junction.yaml` into a validated, deep-frozen {@link JunctionConfig}.
 * Every stage reports into one list, so a single run names every mistake with
 * its file, line and key path: YAML syntax, then `${env:}`/`${file:}`
 * references, the shape check (zod) and the cross-reference check. Only a
 * YAML syntax error stops the later stages, which would see a broken document.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errors } from '../core/errors.ts';
import { fsReason } from '../core/fs-reason.ts';
import type { JunctionError } from '../core/errors.ts';
import { checkReferences } from './check.ts';
import { coerceReferences } from './coerce-references.ts';
import { findDeprecated } from './deprecations.ts';
import { deepFreeze } from './freeze.ts';
import { interpolate } from './interpolate.ts';
import type { Interpolated } from './interpolate.ts';
import { displayPath, formatIssue, formatPath, sortIssues } from './issue.ts';
import type { ConfigIssue, KeyPath, PathIssue } from './issue.ts';
import { configSchema } from './schema.ts';
import type { JunctionConfig } from './schema.ts';
import { REDACTED } from '../core/secret.ts';
import { withSecretFiles } from '../core/secret-file.ts';
import { isSecretField } from './schema-path.ts';
import { parseYaml } from './yaml-source.ts';
import type { Position, YamlSource } from './yaml-source.ts';
import { fromZodIssues } from './zod-issues.ts';

export type { ConfigIssue } from './issue.ts';

export interface LoadedConfig {
  /** Absolute path of the file read. */
  readonly file: string;
  /** Its directory: relative paths in the config (`sqlite:`, `${file:}`, schemas) start here. */
  readonly baseDir: string;
  readonly config: JunctionConfig;
  /** What loads but should be written otherwise (a deprecated key), at its line: `check` prints these, `run` logs them. */
  readonly warnings: readonly ConfigIssue[];
  /**
   * Places a mistake found after loading (a step's schema file that is missing,
   * say) at its line, as an issue like those the loader reports.
   */
  issueAt(path: KeyPath, message: string): ConfigIssue;
}

export interface LoadOptions {
  /** Where `${env:NAME}` looks; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export type ParseResult =
  | { ok: true; config: JunctionConfig; locate: (path: KeyPath) => Position; warnings: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[] };

/**
 * Reads and checks a config file.
 * @throws JNC_CONFIG_UNREADABLE when the file cannot be read;
 *   JNC_CONFIG_INVALID with `details.issues: ConfigIssue[]` listing every mistake.
 */
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const abs = resolve(file);
  const text = await readConfigText(abs);
  const result = parseConfigText(text, abs, opts.env ?? process.env);
  if (!result.ok) throw configError(abs, result.issues);
  const { locate } = result;
  // The config inside is frozen already; freezing it again would walk it all once more.
  return Object.freeze({
    file: abs,
    baseDir: dirname(abs),
    config: result.config,
    warnings: result.warnings,
    issueAt: (path: KeyPath, message: string): ConfigIssue => ({ file: abs, ...locate(path), path: formatPath(path), message }),
  });
}

/**
 * The text of the config file at the absolute path `abs`.
 * @throws JNC_CONFIG_UNREADABLE when it cannot be read.
 */
export async function readConfigText(abs: string): Promise<string> {
  try {
    return await readFile(abs, 'utf8');
  } catch (e) {
    throw errors.CONFIG_UNREADABLE.create([`${displayPath(abs)} (${fsReason(e)})`], { cause: e, details: { file: abs } });
  }
}

/**
 * Checks config text as if read from `file` (which names it in issues and
 * anchors `${file:}` paths; it need not exist). Never throws for a mistake.
 */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): ParseResult {
  const abs = resolve(file);
  const read = readSource(text, abs, env, (value) => value);
  if (!read.ok) return read;
  const { source, interpolated, place } = read;
  const shape = (v: unknown) => withSecretFiles(interpolated.files, () => configSchema.safeParse(v));
  let value = interpolated.value;
  let parsed = shape(value);
  let coercion: PathIssue[] = [];
  if (!parsed.success && interpolated.wholes.length > 0) {
    // `port: ${env:PORT}`: env values are text; a whole reference where a number or boolean belongs is converted.
    const coerced = coerceReferences(value, parsed.error.issues, interpolated.wholes);
    coercion = coerced.issues;
    if (coerced.value !== value) {
      value = coerced.value;
      parsed = shape(value);
    }
  }
  // A reference that could not be resolved is reported once, as such; the text left in its place would only fail the shape check too.
  const replaced = new Set([...coercion, ...interpolated.issues].map((i) => formatPath(i.path)));
  const found: PathIssue[] = [
    ...interpolated.issues,
    ...coercion,
    ...(parsed.success ? [] : fromZodIssues(parsed.error.issues, configSchema, value).filter((i) => !replaced.has(formatPath(i.path)))),
    ...checkReferences(value),
  ];
  if (parsed.success && found.length === 0 && source.problems.length === 0) {
    const warnings = place(findDeprecated(configSchema, value));
    return { ok: true, config: deepFreeze(parsed.data), locate: (path) => source.locate(path), warnings };
  }
  return { ok: false, issues: place([...source.problems, ...found]) };
}

/** A config file read as far as its `${…}` references, with the means to place an issue in it. */
export interface ConfigSource {
  ok: true;
  source: YamlSource;
  interpolated: Interpolated;
  /** Issues with a line and column, resolved values cut out of their messages, sorted. */
  place(issues: readonly PathIssue[]): ConfigIssue[];
}

/**
 * Parses the YAML and resolves the references in the part of it that `pick`
 * keeps: a command that reads only the store resolves only what it uses
 * (config/load-store).
 */
export function readSource(text: string, abs: string, env: NodeJS.ProcessEnv, pick: (value: unknown) => unknown): ConfigSource | { ok: false; issues: ConfigIssue[] } {
  const source = parseYaml(text);
  const toIssues = (issues: readonly (PathIssue & Position)[], resolved: Interpolated['resolved'] = []): ConfigIssue[] =>
    sortIssues(issues.map((i) => ({ file: abs, line: i.line, column: i.column, path: formatPath(i.path), message: scrub(i, resolved) })));

  if (source.value === undefined) return { ok: false, issues: toIssues(source.problems) };
  if (source.value === null) {
    return { ok: false, issues: toIssues([{ line: 1, column: 1, path: [], message: 'the file is empty; a config needs at least a flows: mapping' }]) };
  }
  const raw = source.value;
  const interpolated = interpolate(pick(raw), { env, baseDir: dirname(abs), isSecret: (path) => isSecretField(configSchema, path, raw) });
  const place = (issues: readonly PathIssue[]): ConfigIssue[] =>
    toIssues(
      issues.map((i) => ('line' in i ? (i as PathIssue & Position) : { ...i, ...source.locate(i.path, i.at) })),
      interpolated.resolved,
    );
  return { ok: true, source, interpolated, place };
}

/** The JNC_CONFIG_INVALID error for `issues`: its message lists them one per line. */
export function configError(file: string, issues: readonly ConfigIssue[], cwd: string = process.cwd()): JunctionError {
  const n = issues.length;
  const lines = issues.map((i) => formatIssue(i, cwd));
  const summary = `${n} ${n === 1 ? 'mistake' : 'mistakes'} in ${displayPath(file, cwd)}\n${lines.join('\n')}`;
  return errors.CONFIG_INVALID.create([summary], { details: { file, issues } });
}

/**
 * A message may quote the text it rejects (a JSONata syntax error names the
 * token), and that text may hold a resolved secret, whole or in part. So every
 * resolved value is cut out of every message, and a quoted fragment of one is
 * cut out of the messages about the string it was resolved into. Values
 * shorter than four characters are left alone: they are no secret worth the
 * name, and cutting them would garble the message.
 */
function scrub(issue: PathIssue, resolved: Interpolated['resolved']): string {
  const here = formatPath(issue.path);
  const all = resolved.filter((r) => r.value.length >= 4).sort((a, b) => b.value.length - a.value.length);
  let out = issue.message;
  for (const r of all) out = out.split(r.value).join(REDACTED);
  const local = all.filter((r) => formatPath(r.path) === here).map((r) => r.value);
  if (local.length === 0) return out;
  return out.replace(/"([^"]{3,})"/g, (quoted, inner: string) => (local.some((v) => v.includes(inner)) ? `"${REDACTED}"` : quoted));
}
