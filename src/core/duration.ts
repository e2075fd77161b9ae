/**
 * @module core/duration
 * A span of time in the config: a number of milliseconds, or a number with a
 * unit (`500ms`, `1s`, `1.5m`, `1h`, `1d`). It parses to milliseconds, so code
 * always sees `…Ms`; a mistake says what would have been accepted.
 */
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const HINT = 'write a number of milliseconds, or a number with a unit: 500ms, 1s, 5m, 1h, 1d';

/** Milliseconds, or undefined when `v` is not a positive duration. Whole milliseconds: a fraction is rounded up. */
export function parseDuration(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined;
  const m = DURATION.exec(v.trim());
  if (!m) return undefined;
  const ms = Math.ceil(Number(m[1]) * UNIT_MS[m[2] as Unit]);
  return ms > 0 ? ms : undefined;
}

/** The shortest exact way to write `ms` back: `1s`, `90s`, `5m`, `250ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** The zod type of a duration option; its output is milliseconds. */
export const duration = z
  .union([z.number(), z.string()], { error: `expected a duration; ${HINT}` })
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      const what = typeof v === 'number' ? String(v) : `"${v}"`;
      ctx.addIssue({ code: 'custom', message: `${what} is not a duration greater than zero; ${HINT}` });
      return z.NEVER;
    }
    return ms;
  })
  // What editors and the config reference show: zod would render the union as "number or string", with no hint.
  .meta({ anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: DURATION.source, examples: ['500ms', '1s', '5m'] }] });
