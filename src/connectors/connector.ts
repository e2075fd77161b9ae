/**
 * @module connectors/connector
 * A connector is a named external system. Every call goes through one pipeline of
 * policies (`connectors/pipeline.ts`); a call never throws for an HTTP status, it
 * returns the response and `classify` says what it means.
 */
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

export interface Connector {
  readonly name: string;
  readonly retry: RetryPolicy;
  /**
   * Sends the request through the policies. Resolves with any HTTP response;
   * rejects only with a JunctionError: JNC_CONN_TIMEOUT, JNC_CONN_NETWORK or JNC_SHUTDOWN.
   */
  call(req: OutboundRequest, ctx: CallContext): Promise<OutboundResponse>;
  classify(res: OutboundResponse): Classification;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
