/**
 * @module config/reference
 * `docs/config.md`, a reference for every config key, generated from the JSON
 * Schema so that it cannot drift from what the loader accepts (a test compares
 * the committed file with {@link renderConfigReference}). Regenerate it with
 * `node_modules/.bin/node src/config/reference.ts --write`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRecord } from '../core/record.ts';
import { configJsonSchema } from './json-schema.ts';

type JsonSchema = Record<string, unknown>;

export interface ReferenceRow {
  /** e.g. `flows.<name>.steps[].deliver.connector` */
  path: string;
  type: string;
  /** JSON of the default, `required`, or empty. */
  default: string;
  description: string;
  /** A named key of an object, as opposed to a map entry or a list item. */
  isKey: boolean;
}

export const REFERENCE_FILE = fileURLToPath(new URL('../../docs/config.md', import.meta.url));
export const REGENERATE = 'node_modules/.bin/node src/config/reference.ts --write';

/** Placeholder for the keys of a map, by the map's own key. */
const ENTRY_NAMES: Record<string, string> = { headers: 'header', map: 'field' };

/** Every key of the config, parents before children, in schema order. */
export function configReferenceRows(): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const visit = (schema: JsonSchema, path: string, required: boolean, isKey: boolean): void => {
    const s = single(schema);
    if (path !== '') rows.push({ path, type: typeOf(s), default: defaultOf(s, required), description: oneLine(s.description ?? schema.description), isKey });
    const props = s.properties as Record<string, JsonSchema> | undefined;
    const req = new Set((s.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(props ?? {})) visit(child, path === '' ? key : `${path}.${key}`, req.has(key), true);
    const entries = s.additionalProperties;
    if (isSchema(entries) && Object.keys(entries).length > 0) {
      const last = path.split('.').at(-1) ?? '';
      visit(entries, `${path}.<${ENTRY_NAMES[last] ?? 'name'}>`, false, false);
    }
    if (isSchema(s.items)) visit(s.items, `${path}[]`, false, false);
    // A shorthand or a long form (`filter: "expr"` or `filter: { expr }`): the long form's keys, under the same path.
    for (const option of (s.anyOf as JsonSchema[] | undefined) ?? []) {
      const o = single(option);
      const optionRequired = new Set((o.required as string[] | undefined) ?? []);
      for (const [key, child] of Object.entries((o.properties as Record<string, JsonSchema> | undefined) ?? {})) {
        visit(child, `${path}.${key}`, optionRequired.has(key), true);
      }
    }
    // A list item that is one of several single-key objects: a step, named by its key.
    for (const option of (s.oneOf as JsonSchema[] | undefined) ?? []) {
      for (const [key, child] of Object.entries((option.properties as Record<string, JsonSchema> | undefined) ?? {})) {
        visit({ ...child, description: child.description ?? option.description }, `${path}.${key}`, false, true);
      }
    }
  };
  visit(configJsonSchema(), '', true, false);
  return rows;
}

export function renderConfigReference(): string {
  const schema = configJsonSchema();
  const rows = configReferenceRows();
  const byTop = new Map<string, ReferenceRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[]/)[0]!;
    byTop.set(top, [...(byTop.get(top) ?? []), row]);
  }
  // A top-level key with nothing below it gets no section of its own.
  const sections = new Map<string, ReferenceRow[]>([['Top level', []]]);
  for (const [top, list] of byTop) {
    if (list.length === 1) sections.get('Top level')!.push(...list);
    else sections.set(top, list);
  }
  const out = [
    '# Configuration reference',
    '',
    `<!-- Generated from the config schema; do not edit. Regenerate with \`${REGENERATE}\`. -->`,
    '',
    `${String(schema.description)} Every key the loader accepts is listed below; any other key is an error.`,
    'A string may pull a value in with `${env:NAME}`, `${env:NAME:-fallback}` or `${file:path}` (relative to the config file; one trailing newline is dropped);',
    'write `$${` for a literal `${`. A *secret* is held as a Secret once loaded and prints as `[redacted]` in JSON, logs and inspection.',
    '`<name>` stands for a name you choose.',
  ];
  for (const [top, list] of sections) {
    out.push('', `## ${top}`, '', '| key | type | default | description |', '|---|---|---|---|');
    for (const r of list) out.push(`| \`${r.path}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
  }
  return `${out.join('\n')}\n`;
}

/** A union with one member is that member (the connector types, until there are more). */
function single(schema: JsonSchema): JsonSchema {
  for (const k of ['oneOf', 'anyOf'] as const) {
    const options = schema[k];
    if (Array.isArray(options) && options.length === 1 && isSchema(options[0])) return { ...options[0], description: schema.description ?? options[0].description };
  }
  return schema;
}

function typeOf(s: JsonSchema): string {
  const secret = s.writeOnly === true ? ', secret' : '';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.oneOf)) return 'one of the types below';
  if (Array.isArray(s.anyOf)) return [...new Set(s.anyOf.filter(isSchema).map((m) => typeOf(single(m))))].join(' or ');
  switch (s.type) {
    case 'integer':
    case 'number':
      return `${s.type}${range(s)}`;
    case 'string':
      return `${s.format === 'uri' ? 'URL' : 'string'}${s.pattern ? ` matching \`${String(s.pattern)}\`` : ''}${secret}`;
    case 'array':
      return 'list';
    case 'object':
      return isSchema(s.additionalProperties) && !s.properties ? `map of ${typeOf(single(s.additionalProperties))}` : 'object';
    default:
      return typeof s.type === 'string' ? s.type : 'any';
  }
}

function range(s: JsonSchema): string {
  const min = typeof s.minimum === 'number' ? s.minimum : undefined;
  // zod writes the safe-integer bound on every int; it says nothing to a reader.
  const max = typeof s.maximum === 'number' && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return max === undefined ? '' : ` ≤ ${max}`;
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) return `\`${JSON.stringify(s.default)}\``;
  return required ? 'required' : '';
}

function oneLine(v: unknown): string {
  return typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : '';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function isSchema(v: unknown): v is JsonSchema {
  return isRecord(v);
}

if (import.meta.main) {
  const text = renderConfigReference();
  if (process.argv.includes('--write')) {
    writeFileSync(REFERENCE_FILE, text);
    console.log(`wrote ${REFERENCE_FILE}`);
  } else process.stdout.write(text);
}
