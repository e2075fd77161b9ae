/**
 * @module core/message
 * The unit of work and the three outcomes of trying to process it.
 */
import type { ResponseSnapshot } from './call.ts';
import type { JunctionError } from './errors.ts';

/** A JSON value, as stored and as handed to steps. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Message<B = Json> {
  readonly id: string;
  readonly flow: string;
  /** 1 on the first try; counts every claim that spent an attempt. */
  readonly attempt: number;
  /** Sent as `Idempotency-Key`; the same on every attempt and every replay. */
  readonly idempotencyKey: string;
  readonly traceparent?: string | undefined;
  body: B;
  headers: Record<string, string>;
  meta: Record<string, Json>;
  /** The step the flow starts at: 0, or the step after the split that made this message. */
  readonly startStep?: number;
}

/** What a trigger hands to the store. */
export interface NewMessage {
  flow: string;
  body: Json;
  headers?: Record<string, string>;
  meta?: Record<string, Json>;
  /**
   * A key given by the sender (a header or the trigger's expression). When set, a
   * second message with the same key in the same flow is not created: the first
   * one's id is returned instead. When absent, the message id serves as the key.
   */
  dedupeKey?: string | undefined;
  traceparent?: string | undefined;
  /** Not before this time (ms since epoch); defaults to now. */
  runAt?: number;
  /** The step to start at; set for the parts a split makes. Default 0. */
  startStep?: number;
}


/** The decision after one attempt. Pure data: only `runtime/` writes it to the store. */
export type Outcome =
  | { kind: 'ack' }
  /** spendAttempt false: the attempt is given back (shutdown, circuit open); `at` is then when the pause ends. */
  | { kind: 'retry'; at: number; error: JunctionError; spendAttempt: boolean; lastResponse?: ResponseSnapshot | undefined }
  | { kind: 'dead'; error: JunctionError; lastResponse?: ResponseSnapshot | undefined };

/** One try at processing a message, as kept in its history. */
export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: Outcome['kind'];
  /** `JNC_*` code and human message; absent on success. */
  errorCode?: string | undefined;
  error?: string | undefined;
  response?: ResponseSnapshot | undefined;
  /**
   * The Idempotency-Key header the attempt's last request sent (deliver, call),
   * as its template rendered it; absent when the attempt sent none.
   */
  idempotencyKey?: string | undefined;
}

/** An answer read back into a message body, and the content type that says its kind. */
export interface Answer {
  body: Json;
  contentType: string;
}
