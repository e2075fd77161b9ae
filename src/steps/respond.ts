/**
 * @module steps/respond
 * Answers the HTTP trigger synchronously with the flow's result. The message was
 * stored before the flow ran, as always; the caller waits up to `timeoutMs` for
 * this step and gets 504 (with the message id) after that, while the flow goes on.
 *
 * A header template with a part that gives nothing (JNC_TEMPLATE_VALUE) leaves
 * that header out of the answer and logs a warning; the message goes on. A body
 * expression needs a JSON body (JNC_BODY_NOT_JSON); without one, the body is
 * answered as it is, text under its own content type.
 */
import { z } from 'zod';
import { errors, isJunctionError } from '../core/errors.ts';
import { compileExpression, compileTemplate, expression, template, type Template } from '../core/expression.ts';
import { bodyKind, requireJsonBody } from '../core/media.ts';
import type { Message } from '../core/message.ts';
import { defineStep, type StepContext } from './step.ts';

export const respondOptions = z
  .strictObject({
    status: z.int().min(100).max(599).default(200).describe('HTTP status of the answer.'),
    body: expression.optional().describe('JSONata over the body giving the answer; the whole body when absent.'),
    headers: z.record(z.string(), template).optional().describe('Answer headers; values may hold {{ expr }} parts. A header whose part gives nothing (missing, null, empty, an object) is left out, with a warning.'),
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
      if (body) requireJsonBody(msg, where);
      try {
        const out: Record<string, string> = {};
        for (const [k, t] of headers) {
          const value = await headerValue(t, msg, ctx, where, k);
          if (value !== undefined) out[k] = value;
        }
        // Text goes back under its own type; JSON is answered as application/json.
        if (!body && bodyKind(msg) !== 'json' && !out['content-type']) out['content-type'] = msg.headers['content-type']!;
        ctx.respond({ status: options.status, headers: out, body: body ? await body.evaluate(msg.body, msg) : msg.body });
      } catch (e) {
        throw errors.STEP_INVALID.create([where, (e as Error).message], { cause: e });
      }
      return msg;
    };
  },
});

/**
 * A header of the answer, or undefined to leave it out when a `{{ expr }}` part
 * gives nothing (JNC_TEMPLATE_VALUE). Unlike a key or a path, a header of the
 * answer decides nothing about delivery, and the step does not run at all when no
 * caller waits (a replay): failing the message here would lose it for a courtesy.
 */
async function headerValue(t: Template, msg: Message, ctx: StepContext, where: string, name: string): Promise<string | undefined> {
  try {
    return await t.render(msg.body, msg);
  } catch (e) {
    if (!isJunctionError(e) || e.code !== errors.TEMPLATE_VALUE.code) throw e;
    ctx.logger.warn({ step: where, header: name, err: e.message }, 'respond: header left out of the answer');
    return undefined;
  }
}
