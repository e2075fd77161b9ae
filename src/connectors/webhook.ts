/**
 * @module connectors/webhook
 * Outbound webhooks, signed per the Standard Webhooks spec: a POST of the
 * message body to the partner's `url`, on the shared HTTP transport and the
 * same policy chain as every connector (retry, circuit breaker, rate limit…).
 *
 * What this type adds, all in its terminal call so that it runs on every
 * attempt, a resend after a 401 included:
 *
 * - the signature headers (`connectors/webhook-signing.ts`): `webhook-id` from
 *   the request's idempotency key (stable across retries and replays), a fresh
 *   `webhook-timestamp` and a `webhook-signature` per secret, over the exact
 *   bytes sent;
 * - the `{type, timestamp, data}` envelope, when the connector or the step asks;
 * - the endpoint's health (`connectors/webhook-endpoint-state.ts`): an endpoint
 *   that fails for `disableAfter` (or answers 410 Gone) is disabled, and then
 *   every call fails at once with JNC_WEBHOOK_DISABLED, a dead letter, until
 *   `POST /admin/connectors/<name>/enable`.
 *
 * Answers are classified as REST ones: 2xx ok, 408/429/5xx retried, other 4xx
 * a dead letter; `classify` overrides apply.
 */
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.ts';
import { duration } from '../core/duration.ts';
import { errors, isJunctionError } from '../core/errors.ts';
import { compileTemplate, template, type Template } from '../core/expression.ts';
import { CONTENT_TYPES, mediaKind } from '../core/media.ts';
import type { Json } from '../core/message.ts';
import { secret } from '../core/secret-field.ts';
import type { Secret } from '../core/secret.ts';
import type { OutboundRequest } from '../core/call.ts';
import { createClassifier, type ClassificationTable } from '../policies/classify.ts';
import { defineConnector, type Transport } from './connector.ts';
import { httpConnectorShape } from './options.ts';
import { snapshotResponse } from './response-error.ts';
import { createTransport } from './transport.ts';
import { EndpointState, type EndpointRecord } from './webhook-endpoint-state.ts';
import { EVENT_TIME_HEADER, EVENT_TYPE_HEADER, webhookRequest } from './webhook-request.ts';
import { checkSigningSecret, signatureHeader, webhookId } from './webhook-signing.ts';

export const webhookSigningOptions = z
  .strictObject({
    scheme: z.literal('standard-webhooks').describe('The signing scheme: standard-webhooks (webhook-id, webhook-timestamp, webhook-signature v1).'),
    secret: secret.optional().describe('The signing secret: whsec_ followed by base64; use ${env:NAME} or ${file:path}. Give this or secrets.'),
    secrets: z
      .array(secret.describe('A signing secret: whsec_ followed by base64; use ${env:NAME} or ${file:path}.'))
      .min(1, 'list at least one secret')
      .optional()
      .describe('Several signing secrets during a rotation: each delivery carries one v1 signature per secret, so a receiver holding any one of them accepts it. Give this or secret.'),
  })
  .superRefine((o, ctx) => {
    if ((o.secret === undefined) === (o.secrets === undefined)) {
      ctx.addIssue({ code: 'custom', path: o.secret === undefined ? [] : ['secrets'], message: 'give either secret or secrets (a list, for rotation), not both' });
      return;
    }
    for (const [i, s] of (o.secrets ?? [o.secret!]).entries()) {
      const wrong = checkSigningSecret(s.reveal());
      if (wrong !== undefined) ctx.addIssue({ code: 'custom', path: o.secrets ? ['secrets', i] : ['secret'], message: wrong });
    }
  })
  .describe('How deliveries are signed (Standard Webhooks).');

export const webhookConnectorOptions = z
  .strictObject({
    type: z.literal('webhook').describe('Connector type.'),
    url: z.url({ protocol: /^https?$/ }).describe('The endpoint every delivery is POSTed to, e.g. https://partner.example/hooks.'),
    signing: webhookSigningOptions,
    envelope: z
      .strictObject({
        type: template.describe('Event type, e.g. order.created, or a template over the body such as order.{{ status }}.'),
      })
      .optional()
      .describe('Wraps each body in the Standard Webhooks envelope {type, timestamp, data}: data is the body (JSON, or the text of an XML or text body), timestamp when the event happened (the message\'s meta.receivedAt or meta.scheduledAt, else the attempt). A step\'s request.type wins over this type.'),
    disableAfter: duration
      .default(5 * 86_400_000)
      .describe('An endpoint that has failed without a success for this long (e.g. 3d, 10m) is disabled: its deliveries then fail at once with JNC_WEBHOOK_DISABLED (dead letters) until POST /admin/connectors/<name>/enable. A 410 Gone disables it at once. Default 5d.'),
    ...httpConnectorShape,
  })
  .describe('Outbound webhooks to one partner endpoint, signed per the Standard Webhooks spec; the retry option is this endpoint\'s own schedule.');

export type WebhookConnectorOptions = z.output<typeof webhookConnectorOptions>;

export const webhookConnector = defineConnector({
  name: 'webhook',
  summary: 'Outbound webhooks, signed (Standard Webhooks): a stable webhook-id, a fresh timestamp and signature per attempt, an endpoint disabled after failing for disableAfter.',
  options: webhookConnectorOptions,
  request: webhookRequest,
  create(name, options, deps) {
    const url = new URL(options.url);
    const inner = createTransport(name, { ...options, baseUrl: url.origin + url.pathname });
    const clock = deps.clock ?? systemClock;
    const endpoint = new EndpointState({ key: `webhook:${name}`, connector: name, disableAfterMs: options.disableAfter, store: deps.state, clock, logger: deps.logger });
    // Read the stored state now, so the admin API shows a disabled endpoint from the start; the first call reads it anyway.
    endpoint.current().catch((e: unknown) => deps.logger?.warn({ connector: name, err: e }, `connector ${name}: cannot read the webhook endpoint state`));
    const isOk = okClassifier(options.classify);
    const secrets: readonly Secret[] = options.signing.secrets ?? [options.signing.secret!];
    const envelopeType = options.envelope === undefined ? undefined : compileTemplate(options.envelope.type);

    const refuse = (r: EndpointRecord, cause?: unknown, response?: ReturnType<typeof snapshotResponse>) =>
      errors.WEBHOOK_DISABLED.create([name, new Date(r.disabledAt!).toISOString(), r.reason ?? 'failing', name], { cause, response, details: { connector: name } });

    const call: Transport['call'] = async (req, ctx) => {
      const known = await endpoint.current();
      if (known.disabledAt !== null) throw refuse(known);
      const { headers, body } = await prepare(name, req, envelopeType, clock);
      const id = webhookId(req.idempotencyKey ?? `msg_${crypto.randomUUID()}`);
      const timestampSec = Math.floor(clock.now() / 1000);
      // Set last: a step's or the connector's headers cannot replace the signature.
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(timestampSec);
      headers['webhook-signature'] = signatureHeader(id, timestampSec, body, secrets);
      let res;
      try {
        res = await inner.call({ ...req, path: url.search, headers, body }, ctx);
      } catch (e) {
        // A timeout or a network error is the endpoint failing; a shutdown says nothing about it.
        if (isJunctionError(e) && (e.code === 'JNC_CONN_TIMEOUT' || e.code === 'JNC_CONN_NETWORK')) {
          const after = await endpoint.failed(e.message);
          if (after.disabledAt !== null) throw refuse(after, e);
        }
        throw e;
      }
      if (isOk(res.status)) {
        await endpoint.succeeded();
        return res;
      }
      const after = await endpoint.failed(`answered ${res.status}`, res.status === 410);
      if (after.disabledAt !== null) throw refuse(after, undefined, snapshotResponse(res));
      return res;
    };

    return {
      transport: { call, close: () => inner.close() },
      state: () => endpoint.view(),
      enable: () => endpoint.enable(),
    };
  },
});

/** True for an answer the connector counts as a success: 2xx, with its `classify` overrides. */
function okClassifier(overrides: Readonly<Record<string, string>> | undefined): (status: number) => boolean {
  const table: Record<string | number, string> = {};
  for (const [key, cls] of Object.entries(overrides ?? {})) table[/^\d+$/.test(key) ? Number(key) : key] = cls;
  const classify = createClassifier(table as ClassificationTable);
  return (status) => classify(status) === 'ok';
}

/**
 * The bytes to send and their headers: the step's body as it is, or wrapped
 * in the envelope when the connector or the step gives a type. The two
 * headers of `webhook-request` are taken off here.
 */
async function prepare(connector: string, req: OutboundRequest, envelopeType: Template | undefined, clock: Clock): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const stepType = headers[EVENT_TYPE_HEADER];
  // A call made without a step (the library's createConnector) has no event time: the attempt's.
  const time = headers[EVENT_TIME_HEADER] ?? new Date(clock.now()).toISOString();
  delete headers[EVENT_TYPE_HEADER];
  delete headers[EVENT_TIME_HEADER];
  const raw = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  if (stepType === undefined && envelopeType === undefined) return { headers, body: raw };
  const text = raw.toString('utf8');
  const data: Json = mediaKind(headers['content-type']) === 'json' ? parseOrText(text) : text;
  let type = stepType;
  if (type === undefined) {
    try {
      type = await envelopeType!.render(data, { headers: {}, meta: {} });
    } catch (e) {
      // The same body gives the same failure on every attempt: a dead letter that names the option.
      throw isJunctionError(e) && e.family === 'permanent' ? e : errors.STEP_INVALID.create([`connector ${connector}`, `envelope.type: ${(e as Error).message}`], { cause: e });
    }
  }
  headers['content-type'] = CONTENT_TYPES.json;
  return { headers, body: Buffer.from(JSON.stringify({ type, timestamp: time, data }), 'utf8') };
}

/** The JSON a step sent, or its text when it is none (an empty body). */
function parseOrText(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}
