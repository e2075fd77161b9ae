/**
 * @module steps/split
 * One message becomes many: a JSONata expression over a JSON body yields an
 * array and each element becomes a part whose body is that element (headers and
 * meta kept). A text body is refused (JNC_BODY_NOT_JSON): XML or CSV is
 * converted to JSON first (`convert: { to: json }`), then split.
 * The runtime stores the parts durably; each resumes at the next step and is
 * retried or dead-lettered on its own.
 *
 * What the expression yields:
 * - an array: one part per element;
 * - nothing, or an empty array: DROP (nothing to do; the run is counted as dropped);
 * - any other value: one part. JSONata returns a path that matches once as the
 *   value itself, not as an array of one (`items.sku` over one item), so one
 *   value is a list of one, not a mistake.
 *
 * Each part's idempotency key is the rendered `key` template (evaluated on the
 * part; a part that gives nothing fails the message) when given, else the
 * runtime derives `<parent key>:<index>`. Either way a
 * parent run again after a crash makes no new parts. A `key` must be unique in
 * the flow, like every idempotency key: two parts (of any parent) with the same
 * key are one message.
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, compileTemplate, expression, keyTemplate } from '../core/expression.ts';
import { CONTENT_TYPES, mediaKind, requireJsonBody } from '../core/media.ts';
import type { Json, Message } from '../core/message.ts';
import { defineStep, DROP } from './step.ts';

const exprOption = expression.describe('JSONata expression over the message that yields the array to split.');

export const splitOptions = z
  .union([
    exprOption,
    z.strictObject({
      expr: exprOption,
      key: keyTemplate
        .optional()
        .describe('Template for each part\'s idempotency key, evaluated on the part, with at least one {{ expr }} part; defaults to "<parent key>:<index>". Must be unique in the flow.'),
    }),
  ])
  .describe(
    'A JSONata expression over the message that yields an array, or { expr, key }: one message per element, each stored and continuing at the next step on its own. Nothing or an empty array drops the message; a single value makes one part. key: template evaluated on each part giving its idempotency key (unique in the flow); default "<parent key>:<index>".',
  );

export const splitStep = defineStep({
  name: 'split',
  summary: 'Turn one message into one message per element of an array.',
  options: splitOptions,
  create(options, deps) {
    const { expr: source, key: keySource } = typeof options === 'string' ? { expr: options, key: undefined } : options;
    const expr = compileExpression(source);
    const key = keySource === undefined ? undefined : compileTemplate(keySource);
    const where = `${deps.flow}[${deps.index}].split`;

    return async function split(msg) {
      requireJsonBody(msg, where);
      let value: unknown;
      try {
        value = await expr.evaluate(msg.body, msg);
      } catch (e) {
        throw errors.STEP_INVALID.create([where, `the expression \`${source}\` failed: ${(e as Error).message}`], { cause: e });
      }
      if (value === undefined) return DROP;
      const elements = (Array.isArray(value) ? value : [value]).map(toJson);
      if (elements.length === 0) return DROP;

      const parts: Message[] = [];
      const headers = headersFor(msg);
      const seen = new Map<string, number>();
      for (const [i, body] of elements.entries()) {
        const part: Message = { ...msg, body, headers };
        if (key) {
          let rendered: string;
          try {
            rendered = await key.render(body, part);
          } catch (e) {
            throw errors.STEP_INVALID.create([where, `the key template failed on part ${i}: ${(e as Error).message}`], { cause: e });
          }
          // Two parts with one key would be stored as one: the second would be lost without a word.
          const first = seen.get(rendered);
          if (first !== undefined) throw errors.STEP_INVALID.create([where, `parts ${first} and ${i} have the same key ${JSON.stringify(rendered)}`]);
          seen.set(rendered, i);
          parts.push({ ...part, idempotencyKey: rendered });
        } else {
          // The parent's key tells the runtime to derive `<parent key>:<index>`.
          parts.push(part);
        }
      }
      return parts;
    };
  },
});

/**
 * Each part is a JSON value: it keeps the parent's JSON content type, or gets
 * one when the parent's header was left over from a text it was read from (a
 * CSV record keeps the upload's `text/csv`), so a string part is not taken for text.
 */
function headersFor(parent: Message): Record<string, string> {
  const contentType = parent.headers['content-type'];
  if (contentType === undefined || mediaKind(contentType) === 'json') return parent.headers;
  return { ...parent.headers, 'content-type': CONTENT_TYPES.json };
}

/** JSONata sequences are arrays with extra properties; keep plain JSON only. */
function toJson(v: unknown): Json {
  const text = JSON.stringify(v);
  // undefined, or a JSONata function: nothing JSON can carry.
  return text === undefined ? null : (JSON.parse(text) as Json);
}
