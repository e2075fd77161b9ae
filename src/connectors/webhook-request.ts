/**
 * @module connectors/webhook-request
 * The `request` of a step that delivers to a webhook connector: no method or
 * path (a webhook is a POST to the connector's `url`), optional extra headers
 * and the event `type` of the `{type, timestamp, data}` envelope.
 *
 * The envelope is built by the connector's transport, which knows the
 * connector's `envelope` option; what only the message knows travels to it in
 * two headers of this module's own, which the transport takes off before
 * sending: the step's `type` and the time the event happened (the message's
 * `meta.receivedAt` from an HTTP trigger, or `meta.scheduledAt` from a
 * schedule), so that the envelope's timestamp is the same on every attempt.
 */
import { z } from 'zod';
import { compileTemplate, template } from '../core/expression.ts';
import type { Message } from '../core/message.ts';
import type { RequestKind } from './request-kind.ts';
import { renderTemplate } from './rest-request.ts';

/** Carries the step's envelope type to the transport; never sent. */
export const EVENT_TYPE_HEADER = 'x-junction-webhook-type';
/** Carries the event's time (ISO 8601) to the transport; never sent. */
export const EVENT_TIME_HEADER = 'x-junction-webhook-time';

export const webhookRequestOptions = z
  .strictObject({
    type: template
      .optional()
      .describe('Event type of the {type, timestamp, data} envelope, e.g. order.created or order.{{ status }}; wraps the body in the envelope even when the connector has no `envelope`, and wins over its type.'),
    headers: z
      .record(z.string(), template.describe('Header value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Extra headers; values may hold {{ expr }} parts. The webhook-* signature headers cannot be replaced.'),
  })
  .describe('A webhook delivery: a signed POST of the message body to the connector url.');

interface WebhookRequestOptions {
  type?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** When the event happened, as the trigger recorded it; else now (a poll's record carries no time of its own). */
export function eventTime(msg: Message): string {
  for (const key of ['receivedAt', 'scheduledAt']) {
    const v = msg.meta[key];
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return v;
  }
  return new Date().toISOString();
}

export const webhookRequest: RequestKind = {
  options: () => webhookRequestOptions.prefault({}),
  compile(raw, where) {
    const options = raw as WebhookRequestOptions;
    const type = options.type === undefined ? undefined : compileTemplate(options.type);
    const headers = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
    return {
      async render(msg) {
        const out: Record<string, string> = {};
        for (const [k, t] of headers) out[k] = await renderTemplate(t, msg, where, `request.headers.${k}`);
        if (type !== undefined) out[EVENT_TYPE_HEADER] = await renderTemplate(type, msg, where, 'request.type');
        out[EVENT_TIME_HEADER] = eventTime(msg);
        return { method: 'POST', path: '', headers: out };
      },
    };
  },
};
