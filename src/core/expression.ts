/**
 * @module core/expression
 * JSONata expressions over a message body, with `$headers`, `$meta` and `$env`
 * bound, and `{{ expr }}` string templates over the same expressions. Both are
 * compiled once at start-up; a syntax error is reported by the config check.
 *
 * The config check compiles each expression to see that it parses; it keeps what
 * it compiled, so the step built from that config later finds it instead of
 * parsing the same source again.
 */
import jsonata from 'jsonata';
import { z } from 'zod';
import { describeValue } from './describe-value.ts';
import { errors } from './errors.ts';
import type { Json } from './message.ts';

export interface Bindings {
  headers: Record<string, string>;
  meta: Record<string, unknown>;
  /** `$checkpoint`: where a poll trigger left off, in its request's templates; unbound elsewhere. */
  checkpoint?: unknown;
}

export interface Expression {
  readonly source: string;
  evaluate(input: unknown, bindings: Bindings): Promise<unknown>;
}

/**
 * Expressions the config check compiled, by source. Only the check adds to it, and
 * a config holds finitely many, so it stays small; the cap bounds it anyway for
 * a process that checks many configs (a test run, a property test). A compiled
 * expression holds no state between evaluations, so one may serve many steps.
 */
const checked = new Map<string, Expression>();
const MAX_CHECKED = 10_000;

/**
 * The expression for `source`: the one the config check compiled when there is
 * one, otherwise compiled now (and not kept: a source built at run time must not
 * grow the cache).
 * Throws the JSONata error (with `position`) on a syntax error.
 */
export function compileExpression(source: string): Expression {
  return checked.get(source) ?? newExpression(source);
}

/** Compiles `source` and keeps it for {@link compileExpression}: the config check's path. */
function checkExpression(source: string): Expression {
  const known = checked.get(source);
  if (known !== undefined) return known;
  const e = newExpression(source);
  // Oldest first out: the newest config's expressions are the ones its steps will ask for.
  if (checked.size >= MAX_CHECKED) checked.delete(checked.keys().next().value!);
  checked.set(source, e);
  return e;
}

function newExpression(source: string): Expression {
  const compiled = jsonata(source);
  const full = (input: unknown, b: Bindings) => compiled.evaluate(input, { headers: b.headers, meta: b.meta, env: process.env, checkpoint: b.checkpoint });
  const path = plainPath(source);
  // Frozen: one kept expression may serve several steps.
  return Object.freeze({
    source,
    evaluate:
      path === undefined
        ? full
        : (input: unknown, b: Bindings) => {
            const v = walk(input, path);
            return v === NEEDS_JSONATA ? full(input, b) : Promise.resolve(v);
          },
  });
}

/**
 * A plain field path (`orderId`, `customer.email`) is most of what a map or a key
 * template holds, and walking the objects gives what JSONata gives, at a
 * fraction of its cost per message. Only names that cannot be anything but a
 * field qualify (not `true`, `and`, …).
 */
const PLAIN_PATH = /^\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*$/;
const NOT_FIELDS = new Set(['true', 'false', 'null', 'and', 'or', 'in', 'function']);

function plainPath(source: string): string[] | undefined {
  if (!PLAIN_PATH.test(source)) return undefined;
  const names = source.trim().split('.');
  return names.some((n) => NOT_FIELDS.has(n)) ? undefined : names;
}

/** Whatever JSONata would treat otherwise than a plain lookup: an array (sequences), an inherited name. */
const NEEDS_JSONATA = Symbol('needs JSONata');

/** The value at `path` in plain objects; NEEDS_JSONATA where JSONata's own rules apply. */
function walk(input: unknown, path: readonly string[]): unknown {
  let v = input;
  for (const name of path) {
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return NEEDS_JSONATA;
    if (typeof v !== 'object' || v === null) return undefined;
    if (!Object.hasOwn(v, name)) return name in v ? NEEDS_JSONATA : undefined;
    v = (v as Record<string, unknown>)[name];
  }
  return Array.isArray(v) || typeof v === 'function' ? NEEDS_JSONATA : v;
}

export interface Template {
  readonly source: string;
  /**
   * Renders every `{{ expr }}` part. A part must give a non-empty string, a
   * number or a boolean (written with String()); anything else (nothing, null,
   * an empty string, an object, an array) throws JNC_TEMPLATE_VALUE, permanent:
   * a key or a path rendered without it would merge different messages.
   */
  render(input: unknown, bindings: Bindings): Promise<string>;
}

/**
 * Compiles `{{ expr }}` parts between literal text. Throws a plain Error saying
 * what is wrong and at which character (from 1): a `{{` never closed, a `}}`
 * that closes nothing, an empty `{{ }}` or an expression that does not parse.
 * A part ends at the first `}}` after which its expression parses, so an object
 * constructor such as `{{ {"a": {"b": 1}} }}` stays one part.
 *
 * @param opts.encode applied to each `{{ expr }}` value, not to the literal text
 *   around it; e.g. `encodeURIComponent` so a value stays one path segment
 */
export function compileTemplate(source: string, opts: { encode?: (value: string) => string } = {}): Template {
  const encode = opts.encode ?? ((v: string) => v);
  const parts = parseTemplate(source);
  if (parts.every((p) => typeof p === 'string')) {
    return { source, render: async () => source };
  }
  return {
    source,
    async render(input, b) {
      let out = '';
      for (const p of parts) {
        out += typeof p === 'string' ? p : encode(partText(source, p, await p.evaluate(input, b)));
      }
      return out;
    },
  };
}

/** True when the template has at least one `{{ expr }}` part; throws as compileTemplate does. */
export function hasTemplateParts(source: string): boolean {
  return parseTemplate(source).some((p) => typeof p !== 'string');
}

function parseTemplate(source: string, compile: (source: string) => Expression = compileExpression): (string | Expression)[] {
  const parts: (string | Expression)[] = [];
  let pos = 0;
  for (;;) {
    const open = source.indexOf('{{', pos);
    const stray = source.indexOf('}}', pos);
    if (stray !== -1 && (open === -1 || stray < open)) {
      throw new Error(`"}}" at character ${stray + 1} closes no "{{"`);
    }
    if (open === -1) {
      if (pos < source.length) parts.push(source.slice(pos));
      return parts;
    }
    if (open > pos) parts.push(source.slice(pos, open));
    const part = parsePart(source, open, compile);
    parts.push(part.expression);
    pos = part.end;
  }
}

/** The part opened at `open`: up to the first `}}` after which the expression parses. */
function parsePart(source: string, open: number, compile: (source: string) => Expression): { expression: Expression; end: number } {
  let firstError: string | undefined;
  for (let close = source.indexOf('}}', open + 2); close !== -1; close = source.indexOf('}}', close + 1)) {
    const text = source.slice(open + 2, close).trim();
    if (text === '') {
      firstError ??= `"{{ }}" at character ${open + 1} holds no expression`;
      continue;
    }
    try {
      return { expression: compile(text), end: close + 2 };
    } catch (e) {
      firstError ??= `invalid {{ }} expression at character ${open + 1}: ${syntaxMessage(e)}`;
    }
  }
  throw new Error(firstError ?? `"{{" at character ${open + 1} is never closed by "}}"`);
}

/** What one part writes: only a value that cannot make two messages look alike. */
function partText(template: string, part: Expression, v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string' && v !== '') return v;
  const gave = v === undefined ? 'nothing' : v === '' ? 'an empty string' : isFunction(v) ? 'a function' : describeValue(v as Json);
  throw errors.TEMPLATE_VALUE.create([JSON.stringify(template), part.source, gave], {
    details: { template, expression: part.source },
  });
}

/** A JSONata lambda is an object marked `_jsonata_lambda`; a native function bound in is a function. */
function isFunction(v: unknown): boolean {
  return typeof v === 'function' || (typeof v === 'object' && v !== null && '_jsonata_lambda' in v);
}

function syntaxMessage(e: unknown): string {
  const err = e as { message?: string; position?: number };
  return err.position === undefined ? String(err.message) : `${err.message} (at character ${err.position})`;
}

/** A config field holding a JSONata expression; its syntax is checked when the config is. */
export const expression = z.string().min(1).superRefine((s, ctx) => {
  try {
    checkExpression(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid JSONata expression: ${syntaxMessage(e)}` });
  }
});

/** A config field holding a string with `{{ expr }}` parts; each part is parsed when the config is checked. */
export const template = z.string().superRefine((s, ctx) => {
  try {
    parseTemplate(s, checkExpression);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/**
 * A template that gives an idempotency key: it must hold a `{{ expr }}` part,
 * since a constant key would make every message the same one to the receiver.
 */
export const keyTemplate = template.superRefine((s, ctx) => {
  try {
    if (!hasTemplateParts(s)) {
      ctx.addIssue({ code: 'custom', message: 'a key needs a {{ expr }} part: a constant key makes every message the same one, and all but the first are lost' });
    }
  } catch {
    // The syntax error is already reported by `template`.
  }
});
