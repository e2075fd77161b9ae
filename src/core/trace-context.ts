/**
 * @module core/trace-context
 * The W3C Trace Context `traceparent` header (version 00), as the HTTP trigger
 * takes it in, the stores keep it and the logs quote its trace id; and the
 * scope object by which observers of one attempt find their own state.
 */

/**
 * `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. A future version
 * (not `ff`) may append fields after a dash; its first four are read the same.
 */
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/;

/**
 * Identifies one attempt of one message to whoever observes it (tracing keys
 * its spans by it). The runtime creates one per attempt only when someone
 * listens, and passes it down to steps and calls; to everyone else it is an
 * opaque, empty object.
 */
export type TraceScope = object;

/**
 * The header as given when it is a valid `traceparent`, else undefined: an
 * all-zero trace or parent id, version `ff`, extra fields on version 00 and
 * upper-case hex are invalid (W3C Trace Context §3.2). An invalid header is
 * ignored, never a reason to refuse a request.
 */
export function validTraceparent(header: string | string[] | undefined): string | undefined {
  // Two traceparent headers are ambiguous: the spec says to ignore them both.
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, parentId, , rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  return value;
}

/** The trace id of a valid `traceparent` (see {@link validTraceparent}), for log lines; undefined otherwise. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent !== undefined && validTraceparent(traceparent) !== undefined ? traceparent.slice(3, 35) : undefined;
}
