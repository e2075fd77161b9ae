/**
 * @module steps/validate-schema
 * Loads and compiles the JSON Schema of a `validate` step, once, at start-up.
 *
 * The draft is picked from the schema's `$schema`: 2020-12 (also when absent),
 * 2019-09 or draft-07. Formats (`email`, `date-time`, `uri`, …) are checked.
 * A `$ref` to another file is loaded from disk, relative to the schema file (or
 * to the config file's directory for an inline schema); nothing is fetched over
 * the network. Every failure throws an Error whose message says which file and
 * what is wrong; the flow compiler turns it into a config error naming the step.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv, type AnySchemaObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { fsReason } from '../core/fs-reason.ts';
import { isRecord } from '../core/record.ts';

/** `$schema` (without `#`, scheme ignored) → the Ajv class that speaks that draft. */
const DRAFTS = new Map<string, new (opts: Options) => Ajv>([
  ['json-schema.org/draft/2020-12/schema', Ajv2020],
  ['json-schema.org/draft/2019-09/schema', Ajv2019],
  ['json-schema.org/draft-07/schema', Ajv],
]);

/**
 * @param source a path (relative to `baseDir`) or an inline schema
 * @param baseDir the config file's directory
 */
export async function compileSchema(source: string | Record<string, unknown>, baseDir: string): Promise<ValidateFunction> {
  const file = typeof source === 'string' ? resolve(baseDir, source) : undefined;
  const schema: AnySchemaObject = file === undefined ? (source as AnySchemaObject) : await readSchemaFile(file);
  const what = file === undefined ? 'the inline schema' : `schema file ${file}`;
  // Relative $refs are resolved against this URL; a trailing slash makes a directory a base.
  const base = file === undefined ? pathToFileURL(`${resolve(baseDir)}/`) : pathToFileURL(file);

  const AjvClass = draftOf(schema.$schema, what);
  const ajv = new AjvClass({
    allErrors: true,
    // verbose: each error carries the offending value, for the violation list.
    verbose: true,
    // Schemas often come from elsewhere and carry vendor keywords (x-*, example…); the
    // strict checks would refuse them, and their warnings have no logger to go to here.
    strict: false,
    logger: false,
    loadSchema: (uri) => loadReferenced(uri, base, what),
  });
  addFormats.default(ajv);
  try {
    return await ajv.compileAsync(schema);
  } catch (e) {
    throw new Error(`${what} does not compile: ${(e as Error).message}`, { cause: e });
  }
}

async function readSchemaFile(file: string): Promise<AnySchemaObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`schema file ${file} cannot be read: ${fsReason(e)}`, { cause: e });
  }
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  let parsed: unknown;
  try {
    parsed = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new Error(`schema file ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message}`, { cause: e });
  }
  if (!isRecord(parsed)) {
    throw new Error(`schema file ${file} does not hold a JSON Schema: expected an object at the top`);
  }
  return parsed as AnySchemaObject;
}

function draftOf($schema: unknown, what: string): new (opts: Options) => Ajv {
  if ($schema === undefined) return Ajv2020;
  const key = typeof $schema === 'string' ? $schema.replace(/^https?:\/\//, '').replace(/#$/, '') : '';
  const cls = DRAFTS.get(key);
  if (!cls) {
    throw new Error(
      `${what} has $schema ${JSON.stringify($schema)}; supported drafts are https://json-schema.org/draft/2020-12/schema (the default), https://json-schema.org/draft/2019-09/schema and http://json-schema.org/draft-07/schema#`,
    );
  }
  return cls;
}

/** Ajv asks for each `$ref` it cannot resolve; only files are read. */
async function loadReferenced(uri: string, base: URL, what: string): Promise<AnySchemaObject> {
  const url = new URL(uri, base);
  if (url.protocol !== 'file:') {
    throw new Error(`${what} refers to ${uri}, which is not a file; only files are loaded, by a path relative to the schema`);
  }
  url.hash = '';
  return readSchemaFile(fileURLToPath(url));
}
