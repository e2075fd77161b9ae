/**
 * @module steps/validate
 * Checks the body against a JSON Schema (ajv 8, with formats). A body that does
 * not match is an input error listing every violation: at ingress (`at:
 * ingress`) the sender gets a 422 problem and nothing is stored; inside the flow
 * the message becomes a dead letter, since trying again cannot change the body.
 * A text body (XML, CSV, HTML…) is refused the same ways (JNC_BODY_NOT_JSON).
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { requireJsonBody } from '../core/media.ts';
import { defineStep } from './step.ts';
import { compileSchema } from './validate-schema.ts';
import { describeViolations, MAX_VIOLATIONS, toViolations } from './validate-violations.ts';

export const validateOptions = z
  .strictObject({
    schema: z
      .union(
        [
          z.string().min(1).describe('Path of a JSON Schema file (.json, .yaml or .yml), relative to the config file.'),
          z.record(z.string(), z.unknown()).describe('A JSON Schema written inline.'),
        ],
        { error: 'expected the path of a schema file, or a schema written inline (a mapping)' },
      )
      .describe(
        'JSON Schema of the body: a file path relative to the config file, or the schema inline. Its $schema picks the draft: 2020-12 (default), 2019-09 or draft-07. Formats (email, date-time, uri…) are checked; a $ref to another file is loaded relative to the schema.',
      ),
    at: z
      .enum(['ingress', 'flow'])
      .default('flow')
      .describe('ingress: the HTTP trigger checks the body before storing it and answers 422 listing the violations; flow: a body that does not match becomes a dead letter.'),
  })
  .describe('Check the body against a JSON Schema.');

export const validateStep = defineStep({
  name: 'validate',
  summary: 'Check the body against a JSON Schema; at ingress, refuse it with a 422 that lists every violation.',
  options: validateOptions,
  async create(options, deps) {
    const check = await compileSchema(options.schema, deps.baseDir);
    const where = `${deps.flow}[${deps.index}].validate`;
    return async function validate(msg) {
      // A JSON Schema judges JSON values; text would be judged as one string.
      requireJsonBody(msg, where);
      if (check(msg.body)) return msg;
      const all = check.errors ?? [];
      const violations = toViolations(all);
      throw errors.INPUT_SCHEMA.create([describeViolations(violations, all.length)], {
        details: { violations, ...(all.length > MAX_VIOLATIONS ? { omitted: all.length - MAX_VIOLATIONS } : {}) },
      });
    };
  },
  atIngress: (options) => options.at === 'ingress',
});
