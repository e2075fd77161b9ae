/**
 * @module observability/alerts
 * Evaluates the alert rules of `junction.yaml` every `evaluateEvery`: reads
 * each rule's figure (live stats, the store, a circuit's state), runs the
 * rule's state machine (`alert-rule.ts`) and hands each change, a firing or
 * a resolve, to `notify`, which the engine makes a durable message delivered
 * through the rule's connector (so a notice is signed, retried and
 * dead-lettered like any delivery).
 *
 * One node at a time evaluates (`store.exclusive`), and a rule's state is kept
 * in the store, so nodes taking turns neither fire a rule twice nor lose a
 * firing. The live figures (error ratio, p95, circuits) are those of the node
 * that evaluates: on PostgreSQL with several nodes, a rule on them sees that
 * node's share of the traffic. Dead letters and queue age come from the store
 * and are shared.
 */
import type { Clock } from '../core/clock.ts';
import { formatDuration } from '../core/duration.ts';
import type { Json } from '../core/message.ts';
import type { Store } from '../store/store.ts';
import type { AlertRule, AlertsOptions } from './alert-options.ts';
import { addSample, growth, INITIAL_STATE, nextState, type RuleState, type Transition } from './alert-rule.ts';
import type { WindowFigures } from './live-stats.ts';
import type { Logger } from './logger.ts';

/** The body of a notice, as the receiver gets it. */
export interface AlertNotice {
  rule: string;
  status: 'firing' | 'resolved';
  /** The condition's kind: errorRatio, p95, deadLetters, circuitOpen or queueAge. */
  condition: string;
  /** The figure when the notice was made: a ratio, milliseconds, a count, or a circuit's state. */
  value: number | string | null;
  threshold: number | string;
  /** The condition's window (`5m`), when it has one. */
  window?: string;
  flow?: string;
  connector?: string;
  /** A sentence saying what happened, for a chat channel or an e-mail. */
  summary: string;
  description?: string;
  /** When this notice was made, and when the firing began (ISO 8601). */
  at: string;
  since: string;
}

/** What a rule's condition reads. */
export interface AlertSources {
  stats: { flow(name: string, windowMs: number): WindowFigures; connector(name: string, windowMs: number): WindowFigures };
  store: Pick<Store, 'deadLetters' | 'oldestDue' | 'checkpoints' | 'exclusive'>;
  /** The state of a connector's circuit breaker (`open`, `halfOpen`, `closed`), or undefined without one. */
  circuit(connector: string): string | undefined;
}

export interface AlertsDeps extends AlertSources {
  clock: Clock;
  logger: Logger;
  /**
   * Makes the notice durable with the rule's new state, in one transaction:
   * resolves after commit. `key` is stable per rule, firing and status, so a
   * notice made twice is stored once.
   */
  notify(notice: AlertNotice, rule: AlertRule, key: string, state: { key: string; value: RuleState }): Promise<void>;
}

export interface Alerts {
  /** One evaluation of every rule now; resolves with the notices made (none when another node holds the turn). */
  evaluate(): Promise<AlertNotice[]>;
  stop(): Promise<void>;
}

/** A condition read at one instant: whether it holds, and what to tell. */
interface Reading {
  /**
   * Undefined when the figure cannot tell (too few events in the window): the
   * rule keeps its state. Otherwise a node just started, or one that took over
   * the evaluation with no traffic of its own yet, would resolve every firing
   * rule on live figures.
   */
  holds: boolean | undefined;
  value: number | string | null;
  threshold: number | string;
  windowMs?: number;
  flow?: string;
  connector?: string;
  summary: string;
  /** Dead-letter rules: the samples to keep. */
  samples?: [number, number][];
}

/** The store key of a rule's state; beside the triggers' checkpoints, under a prefix of its own. */
export function stateKey(rule: string): string {
  return `alert:${rule}`;
}

/** Reads what the rule's condition watches. */
async function read(rule: AlertRule, state: RuleState, sources: AlertSources, now: number): Promise<Reading> {
  const w = rule.when;
  if (w.errorRatio) {
    const c = w.errorRatio;
    const f = c.flow !== undefined ? sources.stats.flow(c.flow, c.window) : sources.stats.connector(c.connector!, c.window);
    const counted = f.ok + f.retry + f.failed;
    const value = round(f.errorRatio);
    const what = c.flow !== undefined ? `flow ${c.flow}` : `connector ${c.connector}`;
    return {
      holds: counted < c.minEvents ? undefined : f.errorRatio > c.above,
      value,
      threshold: c.above,
      windowMs: c.window,
      ...target(c),
      summary: `error ratio of ${what} is ${value} over ${formatDuration(c.window)} (${counted} counted; threshold ${c.above})`,
    };
  }
  if (w.p95) {
    const c = w.p95;
    const f = c.flow !== undefined ? sources.stats.flow(c.flow, c.window) : sources.stats.connector(c.connector!, c.window);
    const value = f.p95Ms === undefined ? null : Math.round(f.p95Ms);
    const what = c.flow !== undefined ? `flow ${c.flow}` : `connector ${c.connector}`;
    return {
      holds: f.total < c.minEvents || f.p95Ms === undefined ? undefined : f.p95Ms > c.aboveMs,
      value,
      threshold: c.aboveMs,
      windowMs: c.window,
      ...target(c),
      summary: `p95 latency of ${what} is ${value === null ? 'unknown (no traffic)' : `${value}ms`} over ${formatDuration(c.window)} (threshold ${c.aboveMs}ms)`,
    };
  }
  if (w.deadLetters) {
    const c = w.deadLetters;
    const count = await sources.store.deadLetters.count(c.flow);
    const samples = addSample(state.samples, now, count, c.window);
    const grew = growth(samples, count);
    return {
      holds: grew >= c.growsBy,
      value: grew,
      threshold: c.growsBy,
      windowMs: c.window,
      ...(c.flow === undefined ? {} : { flow: c.flow }),
      summary: `dead letters of ${c.flow === undefined ? 'all flows' : `flow ${c.flow}`} grew by ${grew} in ${formatDuration(c.window)} (${count} now; threshold ${c.growsBy})`,
      samples,
    };
  }
  if (w.circuitOpen) {
    const c = w.circuitOpen;
    const circuit = sources.circuit(c.connector) ?? null;
    return {
      holds: circuit !== null && circuit !== 'closed',
      value: circuit,
      threshold: 'open',
      connector: c.connector,
      summary: `circuit of connector ${c.connector} is ${circuit ?? 'absent (the connector has no circuit breaker)'}`,
    };
  }
  const c = w.queueAge!;
  const oldest = (await sources.store.oldestDue())[c.flow];
  const age = oldest === undefined ? 0 : Math.max(0, now - oldest);
  return {
    holds: age > c.aboveMs,
    value: age,
    threshold: c.aboveMs,
    flow: c.flow,
    summary: `the oldest due message of flow ${c.flow} has waited ${formatDuration(Math.max(1, age))} (threshold ${formatDuration(c.aboveMs)})`,
  };
}

function target(c: { flow?: string | undefined; connector?: string | undefined }): { flow?: string; connector?: string } {
  return c.flow !== undefined ? { flow: c.flow } : { connector: c.connector! };
}

function round(ratio: number): number {
  return Math.round(ratio * 10_000) / 10_000;
}

function notice(name: string, rule: AlertRule, r: Reading, t: Transition, now: number): AlertNotice {
  const kind = Object.keys(rule.when).find((k) => rule.when[k as keyof AlertRule['when']] !== undefined)!;
  return {
    rule: name,
    status: t.status,
    condition: kind,
    value: r.value,
    threshold: r.threshold,
    ...(r.windowMs === undefined ? {} : { window: formatDuration(r.windowMs) }),
    ...(r.flow === undefined ? {} : { flow: r.flow }),
    ...(r.connector === undefined ? {} : { connector: r.connector }),
    summary: `${t.status === 'firing' ? 'FIRING' : 'RESOLVED'} ${name}: ${r.summary}`,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    at: new Date(now).toISOString(),
    since: new Date(t.since).toISOString(),
  };
}

function isRuleState(v: Json | undefined): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.firing === 'boolean';
}

/**
 * Starts evaluating `options.rules` every `options.evaluateEvery`. A rule whose
 * figure cannot be read (the store is down) is skipped this time and logged;
 * the others go on.
 */
export function startAlerts(options: AlertsOptions, deps: AlertsDeps): Alerts {
  const stopping = new AbortController();
  let pass: Promise<AlertNotice[]> | undefined;

  async function evaluateRule(name: string, rule: AlertRule, out: AlertNotice[]): Promise<void> {
    const key = stateKey(name);
    const stored = await deps.store.checkpoints.get(key);
    const state = isRuleState(stored) ? (stored as unknown as RuleState) : INITIAL_STATE;
    const now = deps.clock.now();
    const reading = await read(rule, state, deps, now);
    const next = reading.holds === undefined ? { state } : nextState(state, reading.holds, now, rule.coolDown);
    const value: RuleState = reading.samples === undefined ? next.state : { ...next.state, samples: reading.samples };
    if (next.transition === undefined) {
      // Only a dead-letter rule's samples change while nothing is sent.
      if (reading.samples !== undefined) await deps.store.checkpoints.set(key, value as unknown as Json);
      return;
    }
    const n = notice(name, rule, reading, next.transition, now);
    await deps.notify(n, rule, `alert:${name}:${next.transition.since}:${next.transition.status}`, { key, value });
    deps.logger.warn({ alert: n }, `alert ${n.summary}`);
    out.push(n);
  }

  function evaluate(): Promise<AlertNotice[]> {
    pass ??= (async () => {
      const out: AlertNotice[] = [];
      try {
        await deps.store.exclusive('junction:alerts', async (lost) => {
          for (const [name, rule] of Object.entries(options.rules)) {
            if (lost.aborted || stopping.signal.aborted) return;
            try {
              await evaluateRule(name, rule, out);
            } catch (e) {
              if (!stopping.signal.aborted) deps.logger.warn({ err: e, rule: name }, `alert ${name}: cannot be evaluated now; the next evaluation tries again`);
            }
          }
        });
      } catch (e) {
        // The store is down or closing: the next evaluation tries again.
        if (!stopping.signal.aborted) deps.logger.warn({ err: e }, 'alerts: an evaluation failed; the next one tries again');
      } finally {
        pass = undefined;
      }
      return out;
    })();
    return pass;
  }

  const timer = setInterval(() => void evaluate(), options.evaluateEvery);
  timer.unref();
  return {
    evaluate,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await pass;
    },
  };
}
