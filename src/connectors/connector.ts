/**
 * @module connectors/connector
 * A connector is a named external system. Every call goes through one chain of
 * policies (`connectors/pipeline.ts`), the same for every connector type; a call
 * never throws for an HTTP status, it returns the response and `classify` says
 * what it means.
 *
 * A connector type is one {@link defineConnector}: its name, its options schema,
 * and the three things that differ between protocols: the request a step
 * describes, the transport (how a request goes on the wire) and the
 * classification of an answer.
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import type { AnswerDetail, Call, CallContext, Classification, OutboundRequest, OutboundResponse, RetryPolicy } from '../core/call.ts';
import type { Answer } from '../core/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { Json } from '../core/message.ts';
import type { KeyValue, TokenStore } from '../store/store.ts';
import type { RateLimiterFactory } from '../core/rate-limiter.ts';
import type { HttpConnectorOptions } from './options.ts';
import type { RequestKind } from './request-kind.ts';


/** What a connector may use beyond its options; every member is optional. */
export interface ConnectorDeps {
  /** Where OAuth 2.0 tokens are shared: the store's `tokens`. Default: this process only. */
  tokens?: TokenStore | undefined;
  /** Decides when a token is due for renewal, and when an open circuit half-opens. */
  clock?: Clock | undefined;
  /** Where policies log what an operator should see (a circuit opening). Default: nowhere. */
  logger?: Logger | undefined;
  /** Relative paths in the options (a GraphQL schema file) start here: the config file's directory. Default: the working directory. */
  baseDir?: string | undefined;
  /**
   * Where a connector keeps state that must survive a restart and be shared by
   * every process on the store (a webhook endpoint disabled after failing), under
   * keys that start with its type and name, e.g. `webhook:partner`. The engine
   * passes the store's `checkpoints`. Default: this process only.
   */
  state?: KeyValue<Json> | undefined;
  /** Where the outbound rate limit counts: the store's counters, shared by every node (PostgreSQL). Default: this process only. */
  rateLimiters?: RateLimiterFactory | undefined;
}

/** A connector's live state, for the admin API: each policy that keeps state reports it under its slot. */
export interface ConnectorState {
  type: string;
  policies: Record<string, unknown>;
  /** The type's own state of the endpoint, when it keeps one (a webhook: disabled, failingSince). */
  endpoint?: Record<string, unknown>;
}

export interface Connector {
  readonly name: string;
  /** The connector type, e.g. `rest`. */
  readonly type: string;
  /** Its parsed options (defaults applied): a step's request may depend on them (a GraphQL document checked against the schema). */
  readonly options: Readonly<ConnectorTypeOptions & { readonly [key: string]: unknown }>;
  readonly retry: RetryPolicy;
  /**
   * Sends the request through the policies. Resolves with any HTTP response
   * (after one renewal of refreshable credentials and one resend, when the
   * first answer was classified `refresh`); rejects only with a JunctionError:
   * JNC_CONN_TIMEOUT, JNC_CONN_NETWORK, JNC_SHUTDOWN or JNC_OAUTH_*.
   */
  call(req: OutboundRequest, ctx: CallContext): Promise<OutboundResponse>;
  /** What the answer means: the type's own rules, then the status table with the connector's overrides. */
  classify(res: OutboundResponse): Classification;
  /**
   * A successful answer as a message body: the type's own reading (a SOAP
   * envelope as JSON), else JSON or text by its content type. Throws a
   * permanent JunctionError for an answer that cannot be read.
   */
  read(res: OutboundResponse): Answer;
  /** The protocol's reason for a failed answer (a GraphQL error, a SOAP fault), when it gives one. */
  explain(res: OutboundResponse): AnswerDetail | undefined;
  /** Live state of the policies (circuit, tokens, …), for the admin API. */
  state(): ConnectorState;
  /** Drops every cached answer; present only when the connector has a `cache`. @returns how many there were */
  purgeCache?(): number;
  /**
   * Enables an endpoint the connector disabled (a webhook that kept failing), so
   * that calls are sent again; present only when its type can disable one.
   * Resolves after the change is stored.
   */
  enable?(): Promise<void>;
  /** Closes pooled connections and stops work in flight (a token request). */
  close(): Promise<void>;
}

/** The terminal call of a connector: its wire format over its pool. */
export interface Transport {
  call: Call;
  /** Waits for calls in flight, then closes every socket. Idempotent. */
  close(): Promise<void>;
}

/** What a connector type contributes; the pipeline around it is built the same for every type. */
export interface ConnectorParts {
  transport: Transport;
  /**
   * The type's own reading of an answer (e.g. GraphQL errors in a 200); absent:
   * the status alone decides. `byStatus` is the status table with the
   * connector's `classify` overrides applied.
   */
  classify?(res: OutboundResponse, byStatus: (status: number) => Classification): Classification;
  /** The type's reading of a successful answer into a body; absent: JSON or text by its content type. */
  read?(res: OutboundResponse): Answer;
  /** The type's reason for an answer that is not a success, kept with the attempt and the dead letter. */
  explain?(res: OutboundResponse): AnswerDetail | undefined;
  /** The type's own state of the endpoint, for the admin API (`ConnectorState.endpoint`). */
  state?(): Record<string, unknown>;
  /** Enables an endpoint the type disabled; see {@link Connector.enable}. */
  enable?(): Promise<void>;
}

/** A mistake a connector type finds in its options or a step's request ({@link ConnectorDefinition.check}, `checkRequest`). */
export interface ConnectorCheckIssue {
  /** Relative to the connector's options (`['schema']`), or to the step's request (`['operation']`). */
  path: (string | number)[];
  message: string;
}

/** Options of every connector type: the shared HTTP ones and its `type`. */
export type ConnectorTypeOptions = HttpConnectorOptions & { type: string };

export interface ConnectorDefinition<O extends z.ZodType<ConnectorTypeOptions> = z.ZodType<ConnectorTypeOptions>> {
  /** The `type:` value in junction.yaml. */
  readonly name: string;
  readonly summary: string;
  /** zod → parsing, defaults, JSON Schema and docs of `connectors.<name>`. */
  readonly options: O;
  /** The `request` of the steps that call it (deliver, call, enrich): its schema, and how a message renders into it. */
  readonly request: RequestKind;
  /**
   * What the options alone cannot show (a WSDL that does not parse, an SDL
   * file missing): called by `junction check` and at start-up, before
   * `create`; each issue is reported at its line under `connectors.<name>`.
   */
  check?(options: z.output<O>, ctx: { baseDir: string }): Promise<ConnectorCheckIssue[]>;
  /**
   * A step's or poll's `request` (as written) checked against this connector
   * (an operation the WSDL has not): called like `check`; paths are relative to the `request`.
   */
  checkRequest?(options: z.output<O>, request: unknown, ctx: { baseDir: string }): Promise<ConnectorCheckIssue[]>;
  /** Called once per connector at start-up, with parsed options (defaults applied). */
  create(name: string, options: z.output<O>, deps: ConnectorDeps): ConnectorParts;
}

/** Binds a connector type's name, options schema, factory and docs. Register it in `connectors/registry.ts`. */
export function defineConnector<O extends z.ZodType<ConnectorTypeOptions>>(def: ConnectorDefinition<O>): ConnectorDefinition<O> {
  return def;
}
