/**
 * @module config/registry-entry
 * A config value whose shape is chosen by a registry: a step (`- map: {…}`),
 * a trigger (`trigger: { http: {…} }`) or a connector (`{ type: rest, … }`).
 * The registry is read when a config is parsed, not when this module loads,
 * so a type registered later (by a plugin, or a test) is accepted, shown in
 * `junction schema` and `docs/config.md`, and named in "expected one of …"
 * messages, with no other change.
 *
 * Parsed by hand rather than as a zod union, so that an unknown type says
 * which types exist and an option error keeps its exact path.
 */
import { z } from 'zod';

/** What an entry needs of a registry: names and option schemas (the `Registry` of core/registry fits). */
export interface EntrySource {
  names(): string[];
  get(name: string): { readonly name: string; readonly summary: string; readonly options: z.ZodType } | undefined;
}

/** `keyed`: one key naming the type, holding its options. `typed`: a `type` key among the options. */
export type EntryStyle = 'keyed' | 'typed';

export interface EntryInfo {
  source: EntrySource;
  style: EntryStyle;
  /** What an entry is, for messages: "step", "trigger", "connector". */
  label: string;
}

const entries = new WeakMap<z.core.$ZodType, EntryInfo>();

/** The registry behind `schema` when it is an entry made here (for the JSON Schema, key lookups and messages). */
export function entryInfo(schema: z.core.$ZodType | undefined): EntryInfo | undefined {
  return schema === undefined ? undefined : entries.get(schema);
}

/** `{ <type>: <options> }`: parses to `{ type, options }`. */
export function keyedEntry(source: EntrySource, label: string, description: string) {
  const schema = z
    .record(z.string(), z.unknown())
    .transform((raw, ctx) => {
      const keys = Object.keys(raw);
      const names = source.names().join(', ');
      if (keys.length !== 1) {
        ctx.addIssue({ code: 'custom', message: `a ${label} has exactly one key, its type (one of ${names}); found ${keys.length === 0 ? 'none' : keys.join(', ')}` });
        return z.NEVER;
      }
      const type = keys[0]!;
      const def = source.get(type);
      if (!def) {
        ctx.addIssue({ code: 'custom', path: [type], message: `unknown ${label} type "${type}"; expected one of ${names}` });
        return z.NEVER;
      }
      const parsed = def.options.safeParse(raw[type]);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [type, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
        return z.NEVER;
      }
      return { type, options: parsed.data as unknown };
    })
    .describe(description);
  entries.set(schema, { source, style: 'keyed', label });
  return schema;
}

/** `{ type: <name>, …options }`: parses to the options of the type `type` names (with `type` in them). */
export function typedEntry<T extends { type: string }>(source: EntrySource, label: string, description: string) {
  const schema = z
    .record(z.string(), z.unknown())
    .transform((raw, ctx): T => {
      const names = source.names().join(', ');
      const type = raw.type;
      if (type === undefined) {
        ctx.addIssue({ code: 'custom', path: ['type'], message: `missing required key "type"; expected one of ${names}` });
        return z.NEVER;
      }
      const def = typeof type === 'string' ? source.get(type) : undefined;
      if (!def) {
        ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown type ${JSON.stringify(type)}; expected one of ${names}` });
        return z.NEVER;
      }
      const parsed = def.options.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
        return z.NEVER;
      }
      return parsed.data as T;
    })
    .describe(description);
  entries.set(schema, { source, style: 'typed', label });
  return schema;
}
