/**
 * @module config/schema-path
 * Finds the zod schema that governs a key path of the config, so that an
 * "unknown key" issue can list the keys that are allowed there. The value being
 * checked is walked alongside, to pick the right member of a union, and the
 * right registered type of an entry (a step `- map: …`, a connector's `type`).
 */
import { z } from 'zod';
import type { KeyPath } from './issue.ts';
import { entryInfo } from './registry-entry.ts';

type Schema = z.core.$ZodType;

/** The parts of zod's definitions read here; every wrapper keeps its inner type in one of them. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  valueType?: Schema;
  element?: Schema;
  options?: readonly Schema[];
  discriminator?: string;
  getter?: () => Schema;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'success']);

function def(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

/** Strips optional/default/transform layers, and picks the union member that `value` selects. */
function unwrap(schema: Schema, value: unknown): Schema {
  for (let s = schema, depth = 0; depth < 50; depth++) {
    const d = def(s);
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else if (d.type === 'union' && d.options) {
      const picked = pickOption(d, value);
      if (!picked) return s;
      s = picked;
    } else return s;
  }
  return schema;
}

function pickOption(d: Def, value: unknown): Schema | undefined {
  const options = d.options ?? [];
  if (options.length === 1) return options[0];
  if (d.discriminator === undefined || typeof value !== 'object' || value === null) return undefined;
  const tag = (value as Record<string, unknown>)[d.discriminator];
  return options.find((o) => o._zod.propValues?.[d.discriminator!]?.has(tag as never));
}

/** The options schema of the type a typed entry's value names (`type: rest`), if registered. */
function typedOptions(schema: Schema, value: unknown): Schema | undefined {
  const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
  return typeof type === 'string' ? entryInfo(schema)?.source.get(type)?.options : undefined;
}

/** The schema at `path`, or undefined where the path leaves the schema (or a union cannot be decided). */
export function schemaAt(root: Schema, path: KeyPath, value: unknown): Schema | undefined {
  let schema: Schema | undefined = root;
  let v = value;
  for (const seg of path) {
    if (!schema) return undefined;
    const entry = entryInfo(schema);
    if (entry?.style === 'keyed') {
      schema = entry.source.get(String(seg))?.options;
    } else {
      if (entry?.style === 'typed') schema = typedOptions(schema, v);
      if (!schema) return undefined;
      const d = def(unwrap(schema, v));
      if (d.type === 'object') schema = d.shape?.[String(seg)];
      else if (d.type === 'record') schema = d.valueType;
      else if (d.type === 'array') schema = d.element;
      else return undefined;
    }
    v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[seg] : undefined;
  }
  return schema;
}

/** The keys an object schema accepts, or undefined when `schema` is no fixed-shape object. */
export function allowedKeys(schema: Schema | undefined, value: unknown): string[] | undefined {
  if (!schema) return undefined;
  const entry = entryInfo(schema);
  if (entry?.style === 'keyed') return entry.source.names();
  const options = entry?.style === 'typed' ? typedOptions(schema, value) : schema;
  if (!options) return undefined;
  const d = def(unwrap(options, value));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

/**
 * True when the field at `path` holds a secret (`core/secret-field`): its
 * schema, or a wrapper around it, carries `secret: true` in zod's registry.
 */
export function isSecretField(root: Schema, path: KeyPath, value: unknown): boolean {
  return unwrapMeta<{ secret?: boolean }>(schemaAt(root, path, value), (m) => m.secret === true) !== undefined;
}

/**
 * The registry metadata (`.meta({…})`) of `schema` or of a schema it wraps
 * (optional, default, a transform's input) that `wanted` accepts, or undefined.
 */
export function unwrapMeta<M extends object>(schema: Schema | undefined, wanted: (meta: M) => boolean): M | undefined {
  let s = schema;
  for (let depth = 0; s !== undefined && depth < 20; depth++) {
    const meta = z.globalRegistry.get(s) as M | undefined;
    if (meta !== undefined && wanted(meta)) return meta;
    const d = def(s);
    s = WRAPPERS.has(d.type) ? d.innerType : d.type === 'pipe' ? d.in : undefined;
  }
  return undefined;
}
