/**
 * @module steps/deliver
 * Sends the message to a connector. The `Idempotency-Key` header is the rendered
 * `idempotencyKey` template, or the message's own key, so it is the same on every
 * attempt and every replay. A response that is not a success becomes the error
 * that decides the outcome (retry or dead letter).
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileTemplate, template } from '../core/expression.ts';
import { wireBody } from '../core/media.ts';
import { errorForResponse } from '../connectors/response-error.ts';
import { defineStep } from './step.ts';

export const deliverOptions = z
  .strictObject({
    connector: z.string().min(1).describe('Name of a connector under `connectors`.'),
    request: z
      .strictObject({
        method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).default('POST').describe('HTTP method.'),
        path: template.default('').describe('Appended to the connector base URL; may hold {{ expr }} parts.'),
        headers: z.record(z.string(), template.describe('Header value; may hold {{ expr }} parts.')).optional().describe('Extra headers; values may hold {{ expr }} parts.'),
      })
      .prefault({})
      .describe('The HTTP request sent to the connector.'),
    idempotencyKey: template.optional().describe('Template for the Idempotency-Key header; defaults to the message key.'),
  })
  .describe('Send the body to a connector: JSON as application/json, XML/CSV/text under the message\'s content type.');

export const deliverStep = defineStep({
  name: 'deliver',
  summary: 'Send the message to a connector, with its idempotency key.',
  options: deliverOptions,
  create(options, deps) {
    const connector = deps.connector(options.connector);
    const path = compileTemplate(options.request.path);
    const headerTemplates = Object.entries(options.request.headers ?? {}).map(([k, v]) => [k, compileTemplate(v)] as const);
    const key = options.idempotencyKey === undefined ? undefined : compileTemplate(options.idempotencyKey);
    const where = `${deps.flow}[${deps.index}].deliver`;

    return async function deliver(msg, ctx) {
      let idempotencyKey = msg.idempotencyKey;
      const { contentType, payload } = wireBody(msg);
      const headers: Record<string, string> = { 'content-type': contentType };
      let renderedPath: string;
      try {
        if (key) idempotencyKey = await key.render(msg.body, msg);
        renderedPath = await path.render(msg.body, msg);
        for (const [k, t] of headerTemplates) headers[k.toLowerCase()] = await t.render(msg.body, msg);
      } catch (e) {
        throw errors.STEP_INVALID.create([where, (e as Error).message], { cause: e });
      }
      if (idempotencyKey === '') throw errors.STEP_INVALID.create([where, 'the idempotencyKey template rendered an empty string']);
      if (msg.traceparent) headers.traceparent = msg.traceparent;

      const res = await connector.call(
        { method: options.request.method, path: renderedPath, headers, body: payload, idempotencyKey },
        { signal: ctx.signal },
      );
      const cls = connector.classify(res);
      if (cls !== 'ok') throw errorForResponse(connector.name, res, cls, ctx.clock.now());
      return msg;
    };
  },
});
