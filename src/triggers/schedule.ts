/**
 * @module triggers/schedule
 * Starts a flow at the instants of a cron expression, in a time zone:
 *
 * ```yaml
 * schedule: { cron: "0 7 * * 1-5", timezone: Europe/Berlin, body: { report: daily }, missed: once }
 * ```
 *
 * Each firing is one message carrying `body` and its scheduled instant
 * (`meta.scheduledAt`, ISO 8601 UTC). Why it fires once, on one node:
 * - its dedupe key is the flow and the scheduled instant, so two nodes, or a
 *   restart half-way through, make one message of it;
 * - the last instant fired is a checkpoint committed with the message, and read
 *   under `store.exclusive('schedule:<flow>')`, so a node that comes second sees
 *   that the firing is done.
 *
 * Instants are computed by croner in the schedule's time zone, so a wall-clock
 * time keeps its place across a DST change (07:00 Berlin is 06:00Z in winter,
 * 05:00Z in summer); a time that does not exist on the day the clocks go forward
 * is croner's to place. Firings missed while no node ran: `missed: once` fires
 * the latest of them on start-up, `skip` fires none.
 *
 * Time comes from the injected clock; the loop looks at it at least every
 * second, so a test that moves a manual clock sees its firing within one.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { isRecord } from '../core/record.ts';
import type { Json } from '../core/message.ts';
import type { Ingest } from './ingest.ts';
import { sleep } from '../core/sleep.ts';
import { defineTrigger } from './trigger.ts';
import { startTriggerRun } from './trigger-run.ts';

export const scheduleOptions = z
  .strictObject({
    cron: z
      .string()
      .min(1)
      .superRefine((s, ctx) => {
        try {
          new Cron(s, { paused: true });
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: `invalid cron expression: ${(e as Error).message}` });
        }
      })
      .describe('Cron expression: minute hour day-of-month month day-of-week (a leading seconds field is allowed), e.g. "0 7 * * 1-5".'),
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => validTimeZone(tz), 'unknown time zone; use an IANA name such as Europe/Berlin')
      .describe('IANA time zone the cron expression is read in, e.g. Europe/Berlin.'),
    body: z.record(z.string(), z.unknown()).default({}).describe('Body of each firing\'s message.'),
    missed: z
      .enum(['once', 'skip'])
      .default('once')
      .describe('Firings missed while no node ran: once fires the latest of them on start-up; skip fires none.'),
  })
  .describe('Start the flow at the instants of a cron expression in a time zone; each firing is one message, fired once across nodes and restarts.');

export type ScheduleOptions = z.output<typeof scheduleOptions>;

/** How late a firing may be and still count as on time for `missed: skip` (a busy loop, a slow store). */
export const ON_TIME_MS = 60_000;
/** The loop looks at the clock at least this often. */
const TICK_MS = 1000;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A compiled schedule: its instants, as ms since the epoch. */
export interface Schedule {
  /** The first instant strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined;
  /**
   * What to fire at `nowMs`, when `lastMs` was the last instant fired (or the
   * baseline): the latest instant in (lastMs, nowMs] under `missed: once`;
   * under `skip`, that one only if it is less than {@link ON_TIME_MS} late.
   * `through` is the instant the checkpoint moves to (the latest due), also when
   * nothing fires.
   */
  due(lastMs: number, nowMs: number): { fire: number | undefined; through: number } | undefined;
}

export function compileSchedule(options: Pick<ScheduleOptions, 'cron' | 'timezone' | 'missed'>): Schedule {
  const cron = new Cron(options.cron, { timezone: options.timezone, paused: true });
  const next = (afterMs: number): number | undefined => cron.nextRun(new Date(afterMs))?.getTime();
  return {
    next,
    due(lastMs, nowMs) {
      let latest: number | undefined;
      // Walks the missed instants; a schedule down for a year at every minute is half a million steps, once.
      for (let t = next(lastMs); t !== undefined && t <= nowMs; t = next(t)) latest = t;
      if (latest === undefined) return undefined;
      const fire = options.missed === 'once' || nowMs - latest < ON_TIME_MS ? latest : undefined;
      return { fire, through: latest };
    },
  };
}

export const scheduleTrigger = defineTrigger({
  name: 'schedule',
  summary: 'Start the flow at the instants of a cron expression in a time zone; each firing is one message.',
  options: scheduleOptions,
  create(options, deps) {
    const schedule = compileSchedule(options);
    const lockName = `schedule:${deps.flow}`;
    const status = { lastFiredAt: undefined as string | undefined, nextAt: undefined as string | undefined, lastError: undefined as string | undefined };
    const stopping = new AbortController();
    let loop: Promise<void> | undefined;

    /** Fires what is due, under the lock; the checkpoint moves with the message. */
    async function tick(ingest: Ingest): Promise<void> {
      await deps.store.exclusive(lockName, async () => {
        const now = deps.clock.now();
        const last = lastFired(await deps.store.checkpoints.get(lockName));
        if (last === undefined) {
          // First start ever: nothing before now was missed; later starts compare with this.
          await ingest([], { checkpoint: { key: lockName, value: { firedAt: now } } });
          return;
        }
        const due = schedule.due(last, now);
        if (due === undefined) return;
        const checkpoint = { key: lockName, value: { firedAt: due.through } };
        if (due.fire === undefined) {
          deps.logger.info({ flow: deps.flow, missedThrough: new Date(due.through).toISOString() }, 'schedule: skipped firings missed while down');
          await ingest([], { checkpoint });
          return;
        }
        const scheduledAt = new Date(due.fire).toISOString();
        const traced = startTriggerRun(deps.worker, deps.flow, 'schedule');
        try {
          await ingest(
            [{ flow: deps.flow, body: options.body as Json, meta: { scheduledAt }, dedupeKey: `${deps.flow}@${scheduledAt}`, ...(traced?.traceparent ? { traceparent: traced.traceparent } : {}) }],
            { checkpoint },
          );
          traced?.end(1);
        } catch (e) {
          traced?.end(0, e);
          throw e;
        }
        status.lastFiredAt = scheduledAt;
      });
    }

    return {
      flow: deps.flow,
      type: 'schedule',
      async start(ingest, signal) {
        const stop = AbortSignal.any([signal, stopping.signal]);
        loop = (async () => {
          while (!stop.aborted) {
            try {
              await tick(ingest);
              status.lastError = undefined;
            } catch (e) {
              if (stop.aborted) break;
              status.lastError = (e as Error).message;
              deps.logger.warn({ flow: deps.flow, err: status.lastError }, 'schedule: could not fire; trying again');
            }
            const now = deps.clock.now();
            const next = schedule.next(now);
            status.nextAt = next === undefined ? undefined : new Date(next).toISOString();
            await sleep(next === undefined ? TICK_MS : Math.max(1, Math.min(next - now, TICK_MS)), stop);
          }
        })();
      },
      async stop() {
        stopping.abort();
        await loop;
      },
      describe: () => ({ cron: options.cron, timezone: options.timezone, missed: options.missed, ...status }),
    };
  },
});

function lastFired(v: Json | undefined): number | undefined {
  return isRecord(v) && typeof v.firedAt === 'number' ? v.firedAt : undefined;
}
