/**
 * @module steps/filter
 * Keeps a message when a JSONata expression over it is truthy, and drops it
 * otherwise: the run ends as "dropped", the runtime counts it, and the message
 * is done, not dead. Truthiness is JSONata's own (`$boolean`), so `filter` and a
 * condition inside any other expression agree: nothing, null, false, 0, "", an
 * empty array or object are false. The body must be JSON: a text body is a dead
 * letter (JNC_BODY_NOT_JSON), never a silent drop.
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, expression } from '../core/expression.ts';
import { requireJsonBody } from '../core/media.ts';
import { defineStep, DROP } from './step.ts';

export const filterOptions = z
  .union([
    expression.describe('JSONata expression over the message; truthy keeps it.'),
    z.strictObject({ expr: expression.describe('JSONata expression over the message; truthy keeps it.') }),
  ])
  .describe(
    'A JSONata expression over the message, or { expr }. Truthy (JSONata $boolean) keeps the message; anything else drops it: done, counted, not a dead letter. An expression that fails on a message makes it a dead letter (JNC_STEP_INVALID), and so does a text body (JNC_BODY_NOT_JSON).',
  );

export const filterStep = defineStep({
  name: 'filter',
  summary: 'Drop messages for which an expression is not truthy.',
  options: filterOptions,
  create(options, deps) {
    const expr = compileExpression(typeof options === 'string' ? options : options.expr);
    const where = `${deps.flow}[${deps.index}].filter`;
    return async function filter(msg) {
      // Over text, `status = 'paid'` is false for every message: each would be dropped without a word.
      requireJsonBody(msg, where);
      let value: unknown;
      try {
        value = await expr.evaluate(msg.body, msg);
      } catch (e) {
        // The same expression on the same message throws on every retry too.
        throw errors.STEP_INVALID.create([where, `the expression \`${expr.source}\` failed: ${(e as Error).message}`], { cause: e });
      }
      return truthy(value) ? msg : DROP;
    };
  },
});

/** JSONata's `$boolean`, with nothing (undefined) as false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.some(truthy);
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0 && !Number.isNaN(v);
    case 'string':
      return v.length > 0;
    case 'object':
      return Object.keys(v).length > 0;
    default:
      // Functions (a JSONata lambda) are false in JSONata.
      return false;
  }
}
