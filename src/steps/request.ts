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
import { compileTemplate, keyTemplate } from '../core/expression.ts';
import { wireBody } from '../core/media.ts';
import type { Message } from '../core/message.ts';
import type { OutboundRequest, OutboundResponse } from '../core/call.ts';
import type { Connector } from '../connectors/connector.ts';
import { connectorTypes } from '../connectors/registry.ts';
import type { CompiledRequest, Method, RequestUse } from '../connectors/request-kind.ts';
import { errorForResponse } from '../connectors/response-error.ts';
import { renderTemplate } from '../connectors/rest-request.ts';
import { isRecord } from '../core/record.ts';
import type { PageRequest } from './paginate.ts';
import type { StepContext, StepDeps } from './step.ts';

const requestUses = new WeakMap<z.core.$ZodType, RequestUse>();

/**
 * The `request` option of a step that calls a connector. Its keys are the
 * connector type's (rest: method, path, headers, query), so the shape check
 * leaves it to the reference check, which knows the connector's type; the
 * published JSON Schema lists every type's keys.
 */
export function requestOption(use: RequestUse, description: string) {
  const schema = z.record(z.string(), z.unknown()).optional().describe(description);
  requestUses.set(schema, use);
  return schema;
}

/** What a step's `request` option allows, when `schema` is one (for the reference check and the JSON Schema). */
export function requestUseOf(schema: z.core.$ZodType | undefined): RequestUse | undefined {
  return schema === undefined ? undefined : requestUses.get(schema);
}

/**
 * DESIGN's shorthand: the keys of the connector type's request may sit on the
 * step itself (`deliver: { connector: erp, operation: CreateOrder }`) as well as
 * under `request`. A step that calls a connector lets unknown keys through its
 * own schema (`.catchall`), and they are gathered here into the request, whose
 * schema (the connector type's, strict) refuses a typo: in the reference check
 * at its line, and at start-up.
 */
export function connectorStepOptions<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.object(shape).catchall(z.unknown());
}

/** A step's request as the connector type reads it: `request`, with the keys written on the step beside it. */
export interface SplitRequest {
  request: unknown;
  /** Keys found on the step that belong to the request. */
  moved: string[];
  /** Keys written both on the step and under `request`. */
  both: string[];
}

/** @param own the keys of the step's own schema (connector, idempotencyKey, …) */
export function splitRequest(options: Readonly<Record<string, unknown>>, own: readonly string[]): SplitRequest {
  const moved = Object.keys(options).filter((k) => !own.includes(k));
  if (moved.length === 0) return { request: options.request, moved, both: [] };
  const nested = isRecord(options.request) ? options.request : {};
  const both = moved.filter((k) => k in nested);
  const request: Record<string, unknown> = { ...nested };
  for (const k of moved) if (!(k in nested)) request[k] = options[k];
  return { request, moved, both };
}

/**
 * The step's request compiled by the connector's type, at start-up. The
 * reference check has reported a bad one at its line already; here it stops
 * start-up with the same words.
 * @param options the step's options as parsed (with any request keys written on the step)
 * @param own the keys of the step's own schema
 * @param baseDir the config file's directory: a file the request names (a GraphQL document) is read from there.
 */
export function compileStepRequest(connector: Connector, options: Readonly<Record<string, unknown>>, own: readonly string[], use: RequestUse, where: string, baseDir: string): CompiledRequest {
  const kind = connectorTypes.get(connector.type)?.request;
  if (kind === undefined) throw errors.CONFIG_INVALID.create([`connector ${connector.name} has no registered type ${connector.type}`]);
  const { request, both } = splitRequest(options, own);
  if (both.length > 0) throw errors.CONFIG_INVALID.create([`${where}: ${both.join(', ')} is written both on the step and under request; keep one`]);
  const parsed = kind.options(use).safeParse(request ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw errors.CONFIG_INVALID.create([`${where}: request${first?.path.length ? `.${first.path.join('.')}` : ''}: ${first?.message ?? 'invalid'}`]);
  }
  return kind.compile(parsed.data, where, { baseDir, connector: connector.options });
}

/** Renders the Idempotency-Key: the template's result, or the message's own key. */
export function compileIdempotencyKey(source: string | undefined, where: string): (msg: Message) => Promise<string> {
  if (source === undefined) return async (msg) => msg.idempotencyKey;
  // The option is a keyTemplate: it has a part, and a part never renders empty.
  const key = compileTemplate(source);
  return (msg) => renderTemplate(key, msg, where, 'idempotencyKey');
}

/** The options deliver and call share. */
/** deliver and call: any method, POST by default. */
export const SEND_USE: RequestUse = { methods: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'], defaultMethod: 'POST' };

/** A template for the Idempotency-Key header, shared by deliver and call. */
export const idempotencyKeyOption = keyTemplate
  .optional()
  .describe('Template for the Idempotency-Key header, with at least one {{ expr }} part; defaults to the message key. A part that gives nothing, null, an empty string, an object or an array fails the message (JNC_TEMPLATE_VALUE): it never sends a key two messages share.');

export interface DeliveryOptions {
  /** Name of a connector under `connectors`. */
  connector: string;
  /** As written; the connector's type parses it (with any of its keys written on the step). */
  request?: unknown;
  idempotencyKey?: string | undefined;
  readonly [key: string]: unknown;
}

export interface Delivery {
  readonly connector: Connector;
  /**
   * Sends the message as {@link sendRequest} does; resolves with the success.
   * @param page a page of a paginated answer: its path replaces the rendered one, its cursor goes to the request (GraphQL's `after`).
   */
  send(msg: Message, ctx: StepContext, page?: PageRequest): Promise<OutboundResponse>;
  /** The request's path rendered for the message: the first page of a paginated answer. */
  path(msg: Message): Promise<string>;
}

/**
 * What deliver and call do alike: send the message's body under its content type
 * with the rendered request and the Idempotency-Key, to the connector they name.
 * The connector is looked up and the templates compiled now, at start-up.
 */
export function compileDelivery(step: 'deliver' | 'call', options: DeliveryOptions, own: readonly string[], deps: StepDeps): Delivery {
  const connector = deps.connector(options.connector);
  const where = `${deps.flow}[${deps.index}].${step}`;
  const request = compileStepRequest(connector, options, own, SEND_USE, where, deps.baseDir);
  const key = compileIdempotencyKey(options.idempotencyKey, where);
  return {
    connector,
    async send(msg, ctx, page) {
      const idempotencyKey = await key(msg);
      const rendered = await request.render(msg, page);
      const { method, headers } = rendered;
      const path = page?.path ?? rendered.path;
      const body = bodyOf(rendered, msg);
      ctx.sendsIdempotencyKey?.(idempotencyKey);
      return sendRequest(connector, { method, path, headers: { ...body.headers, ...headers }, body: body.body, idempotencyKey }, msg, ctx);
    },
    path: async (msg) => (await request.render(msg)).path,
  };
}

/**
 * The message's body as the request body, under its content type. A GET carries
 * none: RFC 9110 gives a body on GET no meaning, and some servers refuse it.
 */
export function bodyOf(req: { method: Method; body?: { payload: string | Uint8Array; contentType: string } | undefined }, msg: Message): Pick<OutboundRequest, 'body' | 'headers'> {
  // A protocol that builds its own body (a GraphQL document) sends that one.
  if (req.body !== undefined) return { body: req.body.payload, headers: { 'content-type': req.body.contentType } };
  if (req.method === 'GET') return {};
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
  const res = await connector.call({ ...req, headers }, ctx.scope === undefined ? { signal: ctx.signal } : { signal: ctx.signal, scope: ctx.scope });
  const cls = connector.classify(res);
  if (cls !== 'ok') throw errorForResponse(connector.name, res, cls, ctx.clock.now(), connector.explain(res));
  return res;
}
