/**
 * @module config/interpolate
 * Resolves `${env:NAME}` (or `${env:NAME:-fallback}`) and `${file:path}` in every string of the parsed
 * config, so that secrets live outside the file. `$${` writes a literal `${`.
 * A reference that cannot be resolved is an issue at that string; the string is
 * then left as written so that the shape check does not report it a second time.
 * No message ever holds a resolved value.
 */
import { resolve } from 'node:path';
import { fsReason } from '../core/fs-reason.ts';
import { isPlainObject } from '../core/record.ts';
import type { KeyPath, PathIssue } from './issue.ts';
import type { WholeReference } from './coerce-references.ts';
import { readSecretFile, type FileValue } from '../core/secret-file.ts';

export interface InterpolateOptions {
  env: NodeJS.ProcessEnv;
  /** `${file:…}` paths are relative to this directory (the config file's). */
  baseDir: string;
  /** True for a field that holds a secret: a missing variable there gets no literal fallback hint. */
  isSecret?: (path: KeyPath) => boolean;
}

export interface Interpolated {
  value: unknown;
  issues: PathIssue[];
  /** Every value substituted in, and where, so that a caller can scrub them from any text it prints. */
  resolved: { path: KeyPath; value: string }[];
  /** Strings that were one whole `${file:…}` reference: a secret field holding one follows its file. */
  files: FileValue[];
  /** Strings that were one whole reference, and what each named: a number or boolean field may convert them. */
  wholes: WholeReference[];
}

// `$${` first, so that an escaped reference is never resolved; the bare `${` catches an unclosed one.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HINT = 'use ${env:NAME} or ${file:path}, or write $${ for a literal ${';

export function interpolate(value: unknown, opts: InterpolateOptions): Interpolated {
  const issues: PathIssue[] = [];
  const resolved: Interpolated['resolved'] = [];
  const files: FileValue[] = [];
  const wholes: WholeReference[] = [];

  const resolveString = (s: string, path: KeyPath): string => {
    if (!s.includes('${')) return s;
    let failed = false;
    let file: string | undefined;
    const out = s.replace(REFERENCE, (match, body: string | undefined) => {
      if (match === '$${') return '${';
      const result = body === undefined ? { error: `unclosed "\${"; ${HINT}` } : reference(body, opts, path);
      if ('error' in result) {
        failed = true;
        issues.push({ path, message: result.error });
        return match;
      }
      resolved.push({ path, value: result.value });
      if (match === s) {
        file = result.file;
        wholes.push({ path, origin: result.origin });
      }
      return result.value;
    });
    if (failed) return s;
    if (file !== undefined) files.push({ value: out, file });
    return out;
  };

  const walk = (v: unknown, path: KeyPath): unknown => {
    if (typeof v === 'string') return resolveString(v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    return v;
  };

  return { value: walk(value, []), issues, resolved, files, wholes };
}

function reference(body: string, opts: InterpolateOptions, path: KeyPath): { value: string; origin: string; file?: string } | { error: string } {
  const colon = body.indexOf(':');
  const kind = colon < 0 ? '' : body.slice(0, colon);
  const arg = body.slice(colon + 1).trim();
  if (kind === 'env') {
    // `${env:NAME:-fallback}`, as in POSIX shells and Compose files: the fallback when NAME is unset.
    const sep = arg.indexOf(':-');
    const name = sep < 0 ? arg : arg.slice(0, sep);
    if (!ENV_NAME.test(name)) return { error: `"\${${body}}" does not name an environment variable (letters, digits and _)` };
    const v = opts.env[name] ?? (sep < 0 ? undefined : arg.slice(sep + 2));
    if (v !== undefined) return { value: v, origin: `environment variable ${name}` };
    // A literal fallback for a secret would put the secret in the file: say where it can come from instead.
    const hint = opts.isSecret?.(path) ? `set it, or use \${file:path} to read the secret from a file` : `give a fallback with \${env:${name}:-value}`;
    return { error: `environment variable ${name} is not set (${hint})` };
  }
  if (kind === 'file') {
    if (arg === '') return { error: `"\${file:}" needs a path, relative to the config file` };
    const file = resolve(opts.baseDir, arg);
    try {
      return { value: readSecretFile(file), origin: `file ${arg}`, file };
    } catch (e) {
      return { error: `cannot read file ${arg} (${fsReason(e)}; paths are relative to the config file)` };
    }
  }
  return { error: `unknown reference "\${${body}}"; ${HINT}` };
}
