/**
 * @module steps/respond
 * Answers the HTTP trigger synchronously with the flow's result. The message was
 * stored before the flow ran, as always; the caller waits up to `timeoutMs` for
 * this step and gets 504 (with the message id) after that, while the flow goes on.
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, compileTemplate, expression, template } from '../core/expression.ts';
import { defineStep } from './step.ts';

export const respondOptions = z
  .strictObject({
    status: z.int().min(100).max(599).default(200).describe('HTTP status of the answer.'),
    body: expression.optional().describe('JSONata over the body giving the answer; the whole body when absent.'),
    headers: z.record(z.string(), template).optional().describe('Answer headers; values may hold {{ expr }} parts.'),
    timeoutMs: z.int().min(1).default(10_000).describe('How long the HTTP caller waits for this step before a 504 that carries the message id.'),
  })
  .describe('Answer the HTTP caller with the flow\'s result (synchronous mode); later steps still run.');

export const respondStep = defineStep({
  name: 'respond',
  summary: 'Answer the HTTP trigger synchronously with the flow\'s result.',
  options: respondOptions,
  create(options, deps) {
    const body = options.body === undefined ? undefined : compileExpression(options.body);
    const headers = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
    const where = `${deps.flow}[${deps.index}].respond`;
    return async function respond(msg, ctx) {
      if (!ctx.respond) return msg;
      try {
        const out: Record<string, string> = {};
        for (const [k, t] of headers) out[k] = await t.render(msg.body, msg);
        if (!body && msg.headers['content-type'] && !out['content-type']) out['content-type'] = msg.headers['content-type'];
        ctx.respond({ status: options.status, headers: out, body: body ? await body.evaluate(msg.body, msg) : msg.body });
      } catch (e) {
        throw errors.STEP_INVALID.create([where, (e as Error).message], { cause: e });
      }
      return msg;
    };
  },
});
