/**
 * @module steps/request
 * What deliver, call and enrich share about a request to a connector: the option
 * schema of `request` (method, path, headers, query, all templates), rendering it
 * from a message, sending it, turning an answer that is not a success into the
 * error that decides the outcome, and reading an answer back into a body.
 *
 * Template values in the path are percent-encoded, so a value such as `a/b` or
 * `x?y` stays one path segment instead of changing the URL. A `{{ expr }}` part
 * that gives nothing, null, an empty string, an object or an array fails the
 * message (a dead letter): `/accounts/{{ id }}` never becomes `/accounts/`.
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileTemplate, keyTemplate, template, type Template } from '../core/expression.ts';
import { CONTENT_TYPES, mediaKind, wireBody } from '../core/media.ts';
import type { Json, Message } from '../core/message.ts';
import type { OutboundRequest, OutboundResponse } from '../core/call.ts';
import type { Connector } from '../connectors/connector.ts';
import { errorForResponse, snapshotResponse } from '../connectors/response-error.ts';
import type { StepContext, StepDeps } from './step.ts';

export const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
export type Method = (typeof METHODS)[number];

/** The `request` options of a step; `defaultMethod` differs: deliver posts, enrich gets. */
export function requestOptions<const M extends readonly [Method, ...Method[]]>(methods: M, defaultMethod: M[number]) {
  return z.strictObject({
    method: z.enum(methods).default(defaultMethod as never).describe('HTTP method.'),
    path: template
      .default('')
      .describe('Appended to the connector base URL; may hold {{ expr }} parts, whose values are percent-encoded. A part that gives nothing, null, an empty string, an object or an array fails the message (JNC_TEMPLATE_VALUE); write a default where a value may be missing.'),
    headers: z
      .record(z.string(), template.describe('Header value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Extra headers; values may hold {{ expr }} parts.'),
    query: z
      .record(z.string(), template.describe('Parameter value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Query string parameters, encoded and appended to the path; values may hold {{ expr }} parts.'),
  });
}

/** A template for the Idempotency-Key header, shared by deliver and call. */
export const idempotencyKeyOption = keyTemplate
  .optional()
  .describe('Template for the Idempotency-Key header, with at least one {{ expr }} part; defaults to the message key. A part that gives nothing, null, an empty string, an object or an array fails the message (JNC_TEMPLATE_VALUE): it never sends a key two messages share.');

export interface RequestOptions {
  method: Method;
  path: string;
  headers?: Record<string, string> | undefined;
  query?: Record<string, string> | undefined;
}

/** A request rendered for one message: what the cache key of enrich is made of. */
export interface RenderedRequest {
  method: Method;
  /** With the query string, if any. */
  path: string;
  /** Lower-case names; only the configured ones (not content-type or traceparent). */
  headers: Record<string, string>;
}

export interface CompiledRequest {
  /** Renders every template; one that fails on this message, or has a part that gives nothing, throws JNC_STEP_INVALID. */
  render(msg: Message): Promise<RenderedRequest>;
}

/** @param where names the step in errors, e.g. `orders[2].deliver`. */
export function compileRequest(options: RequestOptions, where: string): CompiledRequest {
  // Each value stays one path segment: `a/b` or `?x=` in the data cannot change the URL.
  const path = compileTemplate(options.path, { encode: encodeURIComponent });
  const headers = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
  const query = Object.entries(options.query ?? {}).map(([k, v]) => [k, compileTemplate(v)] as const);
  return {
    async render(msg) {
      let rendered = await renderTemplate(path, msg, where, 'request.path');
      if (query.length > 0) {
        const params = new URLSearchParams();
        for (const [k, t] of query) params.append(k, await renderTemplate(t, msg, where, `request.query.${k}`));
        rendered += (rendered.includes('?') ? '&' : '?') + params.toString();
      }
      const out: Record<string, string> = {};
      for (const [k, t] of headers) out[k] = await renderTemplate(t, msg, where, `request.headers.${k}`);
      return { method: options.method, path: rendered, headers: out };
    },
  };
}

/**
 * Renders one template of a step for a message. Whatever fails (an expression
 * that throws, a part that gives nothing) fails the same way on every retry, so
 * it is JNC_STEP_INVALID, permanent, naming the step and the option.
 * @param option the option holding the template, e.g. `request.headers.x-order`
 */
export async function renderTemplate(t: Template, msg: Message, where: string, option: string): Promise<string> {
  try {
    return await t.render(msg.body, msg);
  } catch (e) {
    throw errors.STEP_INVALID.create([where, `${option}: ${(e as Error).message}`], { cause: e });
  }
}

/** Renders the Idempotency-Key: the template's result, or the message's own key. */
export function compileIdempotencyKey(source: string | undefined, where: string): (msg: Message) => Promise<string> {
  if (source === undefined) return async (msg) => msg.idempotencyKey;
  // The option is a keyTemplate: it has a part, and a part never renders empty.
  const key = compileTemplate(source);
  return (msg) => renderTemplate(key, msg, where, 'idempotencyKey');
}

/** The options deliver and call share. */
export interface DeliveryOptions {
  /** Name of a connector under `connectors`. */
  connector: string;
  request: RequestOptions;
  idempotencyKey?: string | undefined;
}

export interface Delivery {
  readonly connector: Connector;
  /** Sends the message as {@link sendRequest} does; resolves with the success. */
  send(msg: Message, ctx: StepContext): Promise<OutboundResponse>;
}

/**
 * What deliver and call do alike: send the message's body under its content type
 * with the rendered request and the Idempotency-Key, to the connector they name.
 * The connector is looked up and the templates compiled now, at start-up.
 */
export function compileDelivery(step: 'deliver' | 'call', options: DeliveryOptions, deps: StepDeps): Delivery {
  const connector = deps.connector(options.connector);
  const where = `${deps.flow}[${deps.index}].${step}`;
  const request = compileRequest(options.request, where);
  const key = compileIdempotencyKey(options.idempotencyKey, where);
  return {
    connector,
    async send(msg, ctx) {
      const idempotencyKey = await key(msg);
      const { method, path, headers } = await request.render(msg);
      const body = bodyOf(method, msg);
      ctx.sendsIdempotencyKey?.(idempotencyKey);
      return sendRequest(connector, { method, path, headers: { ...body.headers, ...headers }, body: body.body, idempotencyKey }, msg, ctx);
    },
  };
}

/**
 * The message's body as the request body, under its content type. A GET carries
 * none: RFC 9110 gives a body on GET no meaning, and some servers refuse it.
 */
export function bodyOf(method: Method, msg: Message): Pick<OutboundRequest, 'body' | 'headers'> {
  if (method === 'GET') return {};
  const { contentType, payload } = wireBody(msg);
  return { body: payload, headers: { 'content-type': contentType } };
}

/**
 * Sends the request with the message's trace context. Resolves with a success;
 * rejects with the error for any other answer, classified by the connector
 * (JNC_HTTP_RETRYABLE, JNC_HTTP_REJECTED, JNC_AUTH_REFUSED), or with the
 * connector's own error (timeout, network, shutdown, JNC_OAUTH_*).
 *
 * The connector's auth policy has already renewed refreshable credentials and
 * sent once more after a 401; an answer still classified `refresh` is
 * JNC_AUTH_REFUSED, permanent.
 */
export async function sendRequest(connector: Connector, req: OutboundRequest, msg: Message, ctx: StepContext): Promise<OutboundResponse> {
  const headers = { ...req.headers };
  if (msg.traceparent) headers.traceparent = msg.traceparent;
  const res = await connector.call({ ...req, headers }, { signal: ctx.signal });
  const cls = connector.classify(res);
  if (cls !== 'ok') throw errorForResponse(connector.name, res, cls, ctx.clock.now());
  return res;
}

/** An answer read back into a message body, and the content type that says its kind. */
export interface Answer {
  body: Json;
  contentType: string;
}

/**
 * JSON when the answer says it is JSON (an empty one is null), else text under
 * the answer's content type. JSON that does not parse is JNC_HTTP_MALFORMED: the
 * same answer would come again, so it is not retried.
 */
export function readAnswer(connector: string, res: OutboundResponse): Answer {
  const contentType = res.headers['content-type'];
  const text = res.body.toString('utf8');
  const json = mediaKind(contentType) === 'json';
  // No content type and no body (204): nothing, which is JSON null rather than an empty text.
  if (text === '' && (json || contentType === undefined)) return { body: null, contentType: CONTENT_TYPES.json };
  if (!json) return { body: text, contentType: contentType ?? CONTENT_TYPES.text };
  try {
    return { body: JSON.parse(text) as Json, contentType: CONTENT_TYPES.json };
  } catch (e) {
    throw errors.HTTP_MALFORMED.create([connector, res.status, (e as Error).message], { cause: e, status: res.status, response: snapshotResponse(res) });
  }
}
