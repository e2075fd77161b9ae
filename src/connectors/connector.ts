/**
 * @module connectors/connector
 * A connector is a named external system. Every call goes through one pipeline of
 * policies (`connectors/pipeline.ts`); a call never throws for an HTTP status, it
 * returns the response and `classify` says what it means.
 */
import type { Clock } from '../core/clock.ts';
import type { KeyValue, TokenRecord } from '../store/store.ts';

export interface OutboundRequest {
  method: string;
  /** Relative to the connector's base URL; may carry a query string. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as the `Idempotency-Key` header. */
  idempotencyKey?: string;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  durationMs: number;
}

export interface CallContext {
  /** Aborts the call (shutdown); the call then rejects with JNC_SHUTDOWN. */
  signal: AbortSignal;
}

export type Call = (req: OutboundRequest, ctx: CallContext) => Promise<OutboundResponse>;
/** A policy wraps the next call (undici-style interceptor). */
export type Policy = (next: Call) => Call;

/** What a response means for the message: see DESIGN.md "Default classification". */
export type Classification = 'ok' | 'retry' | 'refresh' | 'permanent';

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/** What a connector may use beyond its options; every member is optional. */
export interface ConnectorDeps {
  /** Where OAuth 2.0 tokens are shared: the store's `tokens`. Default: this process only. */
  tokens?: KeyValue<TokenRecord> | undefined;
  /** Decides when a token is due for renewal. */
  clock?: Clock | undefined;
}

export interface Connector {
  readonly name: string;
  readonly retry: RetryPolicy;
  /**
   * Sends the request through the policies. Resolves with any HTTP response;
   * rejects only with a JunctionError: JNC_CONN_TIMEOUT, JNC_CONN_NETWORK or JNC_SHUTDOWN.
   */
  call(req: OutboundRequest, ctx: CallContext): Promise<OutboundResponse>;
  classify(res: OutboundResponse): Classification;
  /**
   * After `classify` said `refresh` for `res`: renews the credentials that `res`
   * was sent with (one renewal, shared by every call refused with them). Resolves
   * true when sending again may succeed; false, or absent, when there is nothing
   * to renew (static credentials). Rejects with JNC_OAUTH_REFUSED,
   * JNC_OAUTH_UNAVAILABLE or JNC_SHUTDOWN.
   */
  refreshCredentials?(res: OutboundResponse, ctx: CallContext): Promise<boolean>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
