/**
 * @module steps/map
 * Builds a new body from explicit field mappings, each a JSONata expression over
 * the current body (`$headers`, `$meta` and `$env` bound).
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, expression } from '../core/expression.ts';
import type { Json } from '../core/message.ts';
import { defineStep } from './step.ts';

export const mapOptions = z
  .record(z.string().min(1), expression.describe('JSONata expression whose result becomes this output field.'))
  .refine((m) => Object.keys(m).length > 0, 'map needs at least one field')
  .describe('Output field → JSONata expression over the input body. The result replaces the body.');

export const mapStep = defineStep({
  name: 'map',
  summary: 'Shape the body with one JSONata expression per output field.',
  options: mapOptions,
  create(options, deps) {
    const fields = Object.entries(options).map(([name, source]) => [name, compileExpression(source)] as const);
    return async function map(msg) {
      const out: Record<string, Json> = {};
      for (const [name, expr] of fields) {
        let value: unknown;
        try {
          value = await expr.evaluate(msg.body, msg);
        } catch (e) {
          // An expression that throws on this input will throw on every retry too.
          throw errors.STEP_INVALID.create([`${deps.flow}[${deps.index}].map.${name}`, (e as Error).message], { cause: e });
        }
        // Missing stays missing: JSONata yields undefined for an absent path.
        if (value !== undefined) out[name] = toJson(value);
      }
      return { ...msg, body: out };
    };
  },
});

/** JSONata sequences are arrays with extra properties; keep plain JSON only. */
function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}
