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

/**
 * Where a page of a paginated answer differs from the first request: GraphQL
 * relay pagination sends the same document with the variable `after` set to
 * the last page's `pageInfo.endCursor`. The path-based styles change the path
 * instead, which the caller does.
 */
export interface PageCursor {
  after?: string | undefined;
}

export interface CompiledRequest {
  /**
   * Renders every template; one that fails on this message, or has a part that gives nothing, throws JNC_STEP_INVALID.
   * @param page the cursor of a page after the first, for a type that carries it in the request (GraphQL).
   */
  render(msg: Message, page?: PageCursor): Promise<RenderedRequest>;
}

/** What a step's request may need beyond its options, resolved at start-up. */
export interface RequestContext {
  /** Relative paths in the request (a `.graphql` document file) start here: the config file's directory. */
  baseDir: string;
  /** The parsed options of the connector the request goes to (a GraphQL schema to check the document against). */
  connector: Readonly<Record<string, unknown>>;
}

export interface RequestKind {
  /** The schema of a step's `request` option for this connector type (parsing, defaults, JSON Schema, docs). */
  options(use: RequestUse): z.ZodType;
  /**
   * Compiles options parsed by {@link options} once, at start-up; throws
   * JNC_CONFIG_INVALID for a request that cannot work (a document that does
   * not match the connector's schema).
   * @param where names the step in errors, e.g. `orders[2].deliver`.
   */
  compile(options: unknown, where: string, ctx: RequestContext): CompiledRequest;
  /**
   * True when a paginated answer carries its cursor in the request (GraphQL
   * relay: `paginate: { relay }`) rather than in the path (link, cursor,
   * offset, page).
   */
  readonly relay?: boolean;
}
