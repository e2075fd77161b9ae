/**
 * @module observability/alert-options
 * The `alerts` section of `junction.yaml`: how often rules are evaluated, and
 * each rule's condition, the connector its notices go through and its
 * cool-down. The names a rule holds (flows, connectors) are checked against
 * the rest of the config by `config/check-alerts.ts`.
 */
import { z } from 'zod';
import { duration } from '../core/duration.ts';
import { BUCKET_MS, BUCKETS } from './live-stats.ts';

/** LiveStats keeps one hour: a rate or latency window cannot be longer. */
const STATS_SPAN_MS = BUCKET_MS * BUCKETS;

const statsWindow = (defaultMs: number) =>
  duration
    .default(defaultMs)
    .refine((ms) => ms <= STATS_SPAN_MS, { message: 'at most 1h: live figures are kept for the last hour' })
    .describe(`The span the figure is taken over, e.g. 5m (at most 1h, in steps of 10s); default ${defaultMs / 60_000}m.`);

const flowName = z.string().min(1).describe('Name of a flow under `flows`.');
const connectorName = z.string().min(1).describe('Name of a connector under `connectors`.');

/** errorRatio and p95 watch a flow's outcomes or a connector's calls: one of the two. */
function oneTarget(o: { flow?: string | undefined; connector?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((o.flow === undefined) === (o.connector === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'name either a flow or a connector (one of the two)' });
  }
}

export const errorRatioCondition = z
  .strictObject({
    flow: flowName.optional().describe('The flow whose outcomes are counted: retries that spent an attempt and dead letters are errors.'),
    connector: connectorName.optional().describe('The connector whose calls are counted: calls classified retry or permanent are errors.'),
    above: z.number().min(0).max(1).describe('Fires when the ratio of errors is above this fraction, e.g. 0.2 for 20%.'),
    window: statsWindow(5 * 60_000),
    minEvents: z.int().min(1).default(1).describe('With fewer outcomes or calls than this in the window the rule cannot tell: it neither fires nor resolves (a firing rule stays firing until there is enough traffic to see it healthy); default 1.'),
  })
  .superRefine(oneTarget)
  .describe('Errors over all outcomes (a flow) or calls (a connector) in the window, from this process\'s live figures. Paused attempts (circuit open, rate limited) are not errors.');

export const p95Condition = z
  .strictObject({
    flow: flowName.optional().describe('The flow whose attempts are timed (claim to commit).'),
    connector: connectorName.optional().describe('The connector whose calls are timed.'),
    aboveMs: z.number().positive().describe('Fires when the 95th percentile latency in the window is above this many milliseconds.'),
    window: statsWindow(5 * 60_000),
    minEvents: z.int().min(1).default(1).describe('With fewer attempts or calls than this in the window the rule cannot tell: it neither fires nor resolves; default 1.'),
  })
  .superRefine(oneTarget)
  .describe('The 95th percentile latency in the window (estimated from a histogram, as Prometheus does), from this process\'s live figures.');

export const deadLettersCondition = z
  .strictObject({
    flow: flowName.optional().describe('The flow whose dead letters are counted; all flows when omitted.'),
    growsBy: z.int().min(1).describe('Fires when the number of dead letters is this many above its lowest count in the window.'),
    window: duration
      .default(10 * 60_000)
      .refine((ms) => ms <= 86_400_000, { message: 'at most 1d' })
      .describe('The span over which growth is measured, e.g. 10m (at most 1d); default 10m.'),
  })
  .describe('Growth of the dead letters in the store (shared by every node).');

export const circuitOpenCondition = z
  .strictObject({
    connector: connectorName.describe('The connector whose circuit breaker is watched.'),
  })
  .describe('Fires while the connector\'s circuit is open or half-open (not yet closed again), as this process sees it.');

export const queueAgeCondition = z
  .strictObject({
    flow: flowName.describe('The flow whose queue is watched.'),
    aboveMs: z.int().positive().describe('Fires when the oldest due message of the flow has waited longer than this many milliseconds to be claimed.'),
  })
  .describe('How long the oldest due message of a flow has waited in the store: a worker that does not keep up. Messages scheduled for later (a retry\'s backoff, a paused circuit) are not due yet.');

const conditionShapes = {
  errorRatio: errorRatioCondition.optional(),
  p95: p95Condition.optional(),
  deadLetters: deadLettersCondition.optional(),
  circuitOpen: circuitOpenCondition.optional(),
  queueAge: queueAgeCondition.optional(),
};

/** The kinds of condition a rule may hold. */
export const CONDITION_KINDS = Object.keys(conditionShapes) as (keyof typeof conditionShapes)[];
export type ConditionKind = (typeof CONDITION_KINDS)[number];

export const alertCondition = z
  .strictObject(conditionShapes)
  .superRefine((o, ctx) => {
    const kinds = Object.keys(o).filter((k) => o[k as ConditionKind] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a condition has exactly one key, its kind (one of ${CONDITION_KINDS.join(', ')}); found ${kinds.length === 0 ? 'none' : kinds.join(', ')}` });
    }
  })
  .describe(`When the rule fires: a single key naming the kind (${CONDITION_KINDS.join(', ')}) and holding its options.`);

export const alertRule = z
  .strictObject({
    description: z.string().optional().describe('A note for the people who read this config; sent with each notice.'),
    when: alertCondition,
    notify: z
      .strictObject({
        connector: connectorName.describe('A connector of type webhook (signed) or rest (POSTed to its baseUrl) under `connectors`.'),
      })
      .describe('Where notices go: a durable message delivered through this connector, retried and dead-lettered like any delivery (flow junction:alerts:<connector>).'),
    coolDown: duration
      .default(15 * 60_000)
      .describe('After a firing, the rule does not fire again for this long, even if it resolved in between (e.g. 15m); default 15m.'),
  })
  .describe('A rule: it fires once when its condition becomes true, sends a resolved notice when it becomes false, and fires again only after its coolDown.');

export const alertsOptions = z
  .strictObject({
    evaluateEvery: duration.default(15_000).describe('How often the rules are evaluated (e.g. 15s); on PostgreSQL one node at a time does it. Default 15s.'),
    rules: z.record(z.string().regex(/^[A-Za-z][\w-]*$/, 'letters, digits, - and _'), alertRule).default({}).describe('Rules by name; the name is sent with each notice.'),
  })
  .describe('Alert rules on live figures (error ratio, p95 latency), dead-letter growth, open circuits and queue age; notices are delivered through a webhook or rest connector.');

export type AlertsOptions = z.output<typeof alertsOptions>;
export type AlertRule = z.output<typeof alertRule>;
export type AlertCondition = z.output<typeof alertCondition>;

/** The internal flow that delivers the notices of rules that notify `connector`. */
export function alertFlowName(connector: string): string {
  return `junction:alerts:${connector}`;
}
