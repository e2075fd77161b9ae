/**
 * @module config/json-schema
 * The published JSON Schema of `junction.yaml` (`junction schema`), made from
 * the same zod schema that parses it. Two things zod cannot render by itself
 * are filled in: a step (parsed by hand, so it renders as a bare object) becomes
 * a `oneOf` of every step type with its options, so editors complete them, and
 * a secret field is marked with the standard `writeOnly` annotation.
 */
import { z } from 'zod';
import { builtinSteps } from '../steps/builtin.ts';
import { configSchema, stepEntry } from './schema.ts';

type JsonSchema = Record<string, unknown>;

export function configJsonSchema(): JsonSchema {
  const steps = stepSchemas();
  return z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    override(ctx) {
      const json = ctx.jsonSchema as JsonSchema;
      if (ctx.zodSchema === stepEntry) {
        const description = json.description;
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, { description, oneOf: steps });
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

/** `{ map: <map options> }`, `{ deliver: <deliver options> }`, …: one key, its type. */
function stepSchemas(): JsonSchema[] {
  return [...builtinSteps.values()].map((def) => {
    const options = z.toJSONSchema(def.options, {
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => markSecret(ctx.jsonSchema as JsonSchema),
    }) as JsonSchema;
    delete options.$schema;
    return {
      type: 'object',
      description: def.summary,
      properties: { [def.name]: options },
      required: [def.name],
      additionalProperties: false,
    };
  });
}
