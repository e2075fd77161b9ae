/**
 * @module connectors/request-kind
 * What a connector type asks of the steps that call it (deliver, call,
 * enrich): the schema of their `request` option, and how a message becomes
 * that request. REST has method, path, query and headers; a GraphQL type will
 * have a query and variables, SOAP an operation. The step knows only this
 * interface, so a new protocol brings its own request shape with it.
 */
import type { z } from 'zod';
import type { Message } from '../core/message.ts';

export const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
export type Method = (typeof METHODS)[number];

/** What the step allows: deliver and call send with any method (POST by default), enrich looks up with GET or POST. */
export interface RequestUse {
  methods: readonly [Method, ...Method[]];
  defaultMethod: Method;
}

/** A request rendered for one message: what the cache key of enrich is made of. */
export interface RenderedRequest {
  method: Method;
  /** With the query string, if any. */
  path: string;
  /** Lower-case names; only the configured ones (not content-type or traceparent). */
  headers: Record<string, string>;
  /** The body the protocol builds itself (a GraphQL document, a SOAP envelope); absent: the message's body is sent. */
  body?: { payload: string | Uint8Array; contentType: string };
}

export interface CompiledRequest {
  /** Renders every template; one that fails on this message, or has a part that gives nothing, throws JNC_STEP_INVALID. */
  render(msg: Message): Promise<RenderedRequest>;
}

export interface RequestKind {
  /** The schema of a step's `request` option for this connector type (parsing, defaults, JSON Schema, docs). */
  options(use: RequestUse): z.ZodType;
  /**
   * Compiles options parsed by {@link options} once, at start-up.
   * @param where names the step in errors, e.g. `orders[2].deliver`.
   */
  compile(options: unknown, where: string): CompiledRequest;
}
