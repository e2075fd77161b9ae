/**
 * @module config/json-schema
 * The published JSON Schema of `junction.yaml` (`junction schema`), made from
 * the same zod schema that parses it. Two things zod cannot render by itself
 * are filled in: a value whose shape a registry picks (a step, a trigger, a
 * connector; parsed by hand, so it renders as a bare object) becomes a `oneOf`
 * of every registered type with its options, so editors complete them, and a
 * secret field is marked with the standard `writeOnly` annotation.
 */
import { z } from 'zod';
import { connectorTypes } from '../connectors/registry.ts';
import { requestUseOf } from '../steps/request.ts';
import { entryInfo, type EntryInfo } from './registry-entry.ts';
import { configSchema } from './schema.ts';

type JsonSchema = Record<string, unknown>;

export function configJsonSchema(): JsonSchema {
  return z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    override(ctx) {
      const json = ctx.jsonSchema as JsonSchema;
      const entry = entryInfo(ctx.zodSchema);
      if (entry) {
        const description = json.description;
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, { description, oneOf: entrySchemas(entry) });
      }
      markSecret(json);
    },
  }) as JsonSchema;
}

/**
 * `secret` and `replacedBy` are zod metadata; strict validators (ajv) reject an
 * unknown keyword, so a secret becomes the standard `writeOnly`, and the
 * replacement of a `deprecated` key is said in its description already.
 */
function markSecret(json: JsonSchema): void {
  delete json.replacedBy;
  if (json.secret !== true) return;
  delete json.secret;
  json.writeOnly = true;
}

/**
 * One schema per registered type, read now (so a type registered after start-up
 * is in it): keyed, `{ map: <map options> }`; typed, the type's own options,
 * whose `type` key names it.
 */
function entrySchemas(entry: EntryInfo): JsonSchema[] {
  return entry.source.names().map((name) => {
    const def = entry.source.get(name)!;
    const options = toJson(def.options);
    if (entry.style === 'typed') return { ...options, description: def.summary };
    return {
      type: 'object',
      description: def.summary,
      properties: { [def.name]: options },
      required: [def.name],
      additionalProperties: false,
    };
  });
}

/** One component's options as JSON Schema, secrets marked, without a `$schema` of its own. */
function toJson(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const use = requestUseOf(ctx.zodSchema);
      const out = ctx.jsonSchema as JsonSchema;
      // A step's request: the keys of whichever connector type it calls.
      if (use) {
        const description = out.description;
        for (const key of Object.keys(out)) delete out[key];
        Object.assign(out, { description, anyOf: connectorTypes.values().map((t) => toJson(t.request.options(use))) });
      }
      markSecret(out);
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}
