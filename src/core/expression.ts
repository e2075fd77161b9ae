/**
 * @module core/expression
 * JSONata expressions over a message body, with `$headers`, `$meta` and `$env`
 * bound, and `{{ expr }}` string templates over the same expressions. Both are
 * compiled once at start-up; a syntax error is reported by the config check.
 */
import jsonata from 'jsonata';
import { z } from 'zod';

export interface Bindings {
  headers: Record<string, string>;
  meta: Record<string, unknown>;
}

export interface Expression {
  readonly source: string;
  evaluate(input: unknown, bindings: Bindings): Promise<unknown>;
}

/** Throws the JSONata error (with `position`) on a syntax error. */
export function compileExpression(source: string): Expression {
  const compiled = jsonata(source);
  return {
    source,
    evaluate: (input, b) => compiled.evaluate(input, { headers: b.headers, meta: b.meta, env: process.env }),
  };
}

const TEMPLATE_PART = /\{\{(.*?)\}\}/gs;

export interface Template {
  readonly source: string;
  /** Renders every `{{ expr }}`; undefined and null render as an empty string. */
  render(input: unknown, bindings: Bindings): Promise<string>;
}

/**
 * @param opts.encode applied to each `{{ expr }}` value, not to the literal text
 *   around it; e.g. `encodeURIComponent` so a value stays one path segment
 */
export function compileTemplate(source: string, opts: { encode?: (value: string) => string } = {}): Template {
  const encode = opts.encode ?? ((v: string) => v);
  const parts: (string | Expression)[] = [];
  let last = 0;
  for (const m of source.matchAll(TEMPLATE_PART)) {
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push(compileExpression(m[1]!.trim()));
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (parts.every((p) => typeof p === 'string')) {
    return { source, render: async () => source };
  }
  return {
    source,
    async render(input, b) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else {
          const v = await p.evaluate(input, b);
          out += encode(v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
        }
      }
      return out;
    },
  };
}

function syntaxMessage(e: unknown): string {
  const err = e as { message?: string; position?: number };
  return err.position === undefined ? String(err.message) : `${err.message} (at character ${err.position})`;
}

/** A config field holding a JSONata expression; its syntax is checked when the config is. */
export const expression = z.string().min(1).superRefine((s, ctx) => {
  try {
    compileExpression(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid JSONata expression: ${syntaxMessage(e)}` });
  }
});

/** A config field holding a string with `{{ expr }}` parts. */
export const template = z.string().superRefine((s, ctx) => {
  try {
    compileTemplate(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid {{ }} expression: ${syntaxMessage(e)}` });
  }
});
