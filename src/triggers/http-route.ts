/**
 * @module triggers/http-route
 * A flow's route on the engine's HTTP server, as the server sees it: admit a
 * caller, turn a request into a message, or stream an upload into records.
 * The http trigger makes one; `server/plugins/triggers` serves it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Caller, InboundRequest } from '../auth/inbound/inbound.ts';
import type { NewMessage } from '../core/message.ts';
import type { HttpTriggerConfig } from './http-options.ts';
import type { Ingest } from './ingest.ts';
import type { RecordsResult } from './records.ts';

export interface HttpRequestLike {
  headers: IncomingHttpHeaders;
  body: unknown;
  url: string;
}

/** A request let in: who sent it, and headers its answer carries whatever it turns out to be (RateLimit). */
export interface Admission {
  caller: Caller;
  headers: Record<string, string>;
}

export interface HttpRoute {
  readonly flow: string;
  readonly config: HttpTriggerConfig;
  /**
   * Names the caller, or throws 401/403; then counts the request against the
   * caller's `rateLimit`, or throws 429. Called before the request becomes a
   * message; a trigger without `auth` admits anyone, without `rateLimit` any number.
   * `named` is told the caller as soon as it is known, before the rate limit
   * counts it, so that a 429 can be attributed to whom it refused.
   */
  admit(req: InboundRequest, named?: (caller: Caller) => void): Promise<Admission>;
  /** Set when the flow answers synchronously (respond step): how long to wait. */
  readonly respondTimeoutMs: number | undefined;
  /**
   * Throws an input error (4xx) when the request cannot become a message: XML
   * that is not well-formed (400), an unusable key, or a body the flow's ingress
   * steps refuse (422).
   *
   * `traceparent` is the trace context to store with the message (the ingress
   * span's, when traced); without it, the request's own header, when valid.
   */
  toMessage(req: HttpRequestLike, caller: Caller, now: number, traceparent?: string): Promise<NewMessage>;
  /** For a trigger with `records`: streams the upload into one message per record; `traceparent` as for toMessage. */
  ingestRecords(req: { headers: IncomingHttpHeaders; url: string; body: Readable }, caller: Caller, now: number, ingest: Ingest, traceparent?: string): Promise<RecordsResult>;
}
