/**
 * @module core/wire-error
 * An error as data, for where it crosses a boundary: between the SQLite
 * store's worker thread and its caller, and between nodes (an answer
 * published through the store's signals, `runtime/responses`).
 * Structured cloning keeps an Error's message but drops the fields a
 * JunctionError carries (code, family, details), and callers branch on those
 * (JNC_IDEMPOTENCY_KEY_REUSED is a 422, JNC_STORE_UNAVAILABLE a 503): they are
 * sent as plain data and the error rebuilt on the other side.
 */
import type { ResponseSnapshot } from './call.ts';
import { isJunctionError, JunctionError, type ErrorFamily } from './errors.ts';
import type { Outcome } from './message.ts';

export interface WireError {
  message: string;
  code?: string | undefined;
  family?: ErrorFamily | undefined;
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
  retryAfterMs?: number | undefined;
  response?: ResponseSnapshot | undefined;
  cause?: WireError | undefined;
}

export function toWire(e: unknown, depth = 0): WireError {
  const message = e instanceof Error ? e.message : String(e);
  const cause = depth < 4 && e instanceof Error && e.cause !== undefined ? toWire(e.cause, depth + 1) : undefined;
  if (!isJunctionError(e)) return { message, cause };
  return { message, code: e.code, family: e.family, status: e.status, details: e.details, retryAfterMs: e.retryAfterMs, response: e.response, cause };
}

export function fromWire(w: WireError): Error {
  const cause = w.cause === undefined ? undefined : fromWire(w.cause);
  if (w.code === undefined || w.family === undefined) return new Error(w.message, cause === undefined ? undefined : { cause });
  return new JunctionError({ code: w.code, family: w.family, template: w.message, ...(w.status === undefined ? {} : { status: w.status }) }, w.message, {
    cause,
    details: w.details,
    retryAfterMs: w.retryAfterMs,
    status: w.status,
    response: w.response,
  });
}

/** An outcome whose error can cross: what `settle` sends. */
type WithWireError<O> = Omit<O, 'error'> & { error: WireError };
export type WireOutcome = Extract<Outcome, { kind: 'ack' }> | WithWireError<Extract<Outcome, { kind: 'retry' }>> | WithWireError<Extract<Outcome, { kind: 'dead' }>>;

export function outcomeToWire(o: Outcome): WireOutcome {
  return 'error' in o ? ({ ...o, error: toWire(o.error) } as WireOutcome) : o;
}

export function outcomeFromWire(o: WireOutcome): Outcome {
  return 'error' in o ? ({ ...o, error: fromWire(o.error) } as Outcome) : o;
}
