/**
 * @module core/call
 * One outbound call, as every layer sees it: the steps that build it, the
 * connector that sends it, the policies around the send and the runtime that
 * turns its answer into an outcome. The types live here, below all of them, so
 * that none of those layers imports another for a type.
 */
import type { TraceScope } from './trace-context.ts';
import { VERSION } from './version.ts';

/** The User-Agent of every outbound call, token requests included. */
export const USER_AGENT = `junction/${VERSION}`;

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
  /** The attempt the call is made for, when one is observed: the call's events carry it (tracing parents its span by it). */
  scope?: TraceScope | undefined;
}

export type Call = (req: OutboundRequest, ctx: CallContext) => Promise<OutboundResponse>;
/** A policy wraps the next call (undici-style interceptor). */
export type Policy = (next: Call) => Call;

/** What a response means for the message: see DESIGN.md "Default classification". */
export type Classification = 'ok' | 'retry' | 'refresh' | 'permanent';

/** A connector's retry policy: durable, exponential backoff with full jitter. */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * What a protocol found in an answer beyond its status (a GraphQL `errors`
 * entry, a SOAP fault): the reason kept with the attempt and the dead letter,
 * and a wait the answer asks for (GraphQL `extensions.retryAfter`).
 */
export interface AnswerDetail {
  reason: string;
  retryAfterMs?: number | undefined;
}

/** A bounded copy of a response, kept with attempts and dead letters. */
export interface ResponseSnapshot {
  status: number;
  headers: Record<string, string>;
  /** At most {@link RESPONSE_EXCERPT_BYTES} of the body, as text. */
  bodyExcerpt: string;
}

export const RESPONSE_EXCERPT_BYTES = 2048;
