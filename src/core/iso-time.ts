/**
 * @module core/iso-time
 * A time as an operator writes it in a filter (admin API, `junction dlq`):
 * ISO 8601 with a zone (`2026-12-05T08:00:00Z`, `…T09:00+01:00`) or a date
 * alone (UTC midnight). A time without a zone is refused rather than read in
 * whichever zone the server happens to run.
 */

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/** What a refusal says is expected. */
export const ISO_TIME_HINT = 'an ISO 8601 time with a zone, e.g. 2026-12-05T08:00:00Z';

/** Milliseconds since the epoch, or undefined when `value` is not such a time. */
export function parseIsoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_8601.test(value.trim())) return undefined;
  const ms = Date.parse(value.trim());
  return Number.isFinite(ms) ? ms : undefined;
}
