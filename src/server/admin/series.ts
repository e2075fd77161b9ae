/**
 * @module server/admin/series
 * The query of the chart routes (`/admin/flows/:name/series`,
 * `/admin/connectors/:name/series`): a span and a step as durations (`1h`,
 * `1m`, `30s`), within what LiveStats keeps (an hour in ten-second buckets).
 */
import { formatDuration, parseDuration } from '../../core/duration.ts';
import { errors } from '../../core/errors.ts';
import { BUCKET_MS, BUCKETS } from '../../observability/live-stats.ts';

const MAX_SPAN_MS = BUCKET_MS * BUCKETS;
/** Enough for any chart's width; more points would only be drawn on top of each other. */
export const MAX_POINTS = 360;

export function parseSeriesQuery(q: { span: string; step: string }): { spanMs: number; stepMs: number } {
  const spanMs = parseDuration(q.span);
  const stepMs = parseDuration(q.step);
  if (spanMs === undefined || spanMs > MAX_SPAN_MS) throw errors.INPUT_INVALID.create([`"span" must be a duration up to ${formatDuration(MAX_SPAN_MS)} (e.g. 15m, 1h)`]);
  if (stepMs === undefined || stepMs % BUCKET_MS !== 0) throw errors.INPUT_INVALID.create([`"step" must be a duration in whole multiples of ${formatDuration(BUCKET_MS)} (e.g. 10s, 1m)`]);
  if (stepMs > spanMs) throw errors.INPUT_INVALID.create(['"step" must not be longer than "span"']);
  if (spanMs / stepMs > MAX_POINTS) throw errors.INPUT_INVALID.create([`"span" / "step" gives ${Math.floor(spanMs / stepMs)} points; at most ${MAX_POINTS}`]);
  return { spanMs, stepMs };
}
