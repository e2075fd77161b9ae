/**
 * @module engine/alert-flows
 * Wires the alert rules (observability/alerts) into the engine. A notice is
 * not sent from the evaluator: it becomes a message of an internal flow,
 * `junction:alerts:<connector>`, whose one step delivers it through the rule's
 * connector. So a notice is durable before anything is sent, it is signed when
 * the connector is a webhook, and it is retried, paused by an open circuit and
 * dead-lettered (and replayable with `junction dlq`) like any delivery. Its
 * idempotency key is stable per rule, firing and status, so a retry or a
 * second evaluation of the same change is one notice (one `webhook-id`).
 */
import type { LoadedConfig } from '../config/load.ts';
import type { Connector } from '../connectors/connector.ts';
import { retryOptions } from '../connectors/options.ts';
import type { Clock } from '../core/clock.ts';
import type { Json } from '../core/message.ts';
import { alertFlowName } from '../observability/alert-options.ts';
import { startAlerts, type Alerts } from '../observability/alerts.ts';
import type { LiveStats } from '../observability/live-stats.ts';
import type { Logger } from '../observability/logger.ts';
import { compileFlow, type CompiledFlow } from '../runtime/flow.ts';
import type { Store } from '../store/store.ts';
import type { Ingest } from '../triggers/ingest.ts';

/** The internal flows that deliver notices, one per connector some rule notifies; none without rules. */
export async function compileAlertFlows(loaded: LoadedConfig, connectors: ReadonlyMap<string, Connector>): Promise<Map<string, CompiledFlow>> {
  const flows = new Map<string, CompiledFlow>();
  const targets = new Set(Object.values(loaded.config.alerts?.rules ?? {}).map((r) => r.notify.connector));
  for (const connector of targets) {
    const name = alertFlowName(connector);
    // Steps that call no connector use this retry policy; the deliver step uses its connector's.
    flows.set(name, await compileFlow(name, { steps: [{ type: 'deliver', options: { connector } }], retry: retryOptions.parse({}) }, { connectors, baseDir: loaded.baseDir }));
  }
  return flows;
}

export interface AlertWiring {
  store: Store;
  stats: LiveStats;
  connectors: ReadonlyMap<string, Connector>;
  ingest: Ingest;
  clock: Clock;
  logger: Logger;
}

/** Starts evaluating the config's rules; undefined when it has none. */
export function startAlertRules(loaded: LoadedConfig, w: AlertWiring): Alerts | undefined {
  const options = loaded.config.alerts;
  if (options === undefined || Object.keys(options.rules).length === 0) return undefined;
  return startAlerts(options, {
    clock: w.clock,
    logger: w.logger,
    stats: w.stats,
    store: w.store,
    circuit: (name) => {
      const circuit = w.connectors.get(name)?.state().policies.circuit;
      return typeof circuit === 'object' && circuit !== null && 'state' in circuit ? String(circuit.state) : undefined;
    },
    async notify(notice, rule, key, state) {
      // The rule's new state commits with its notice: neither is kept without the other.
      await w.ingest(
        [{ flow: alertFlowName(rule.notify.connector), body: notice as unknown as Json, dedupeKey: key, meta: { alert: notice.rule } }],
        { checkpoint: { key: state.key, value: state.value as unknown as Json } },
      );
    },
  });
}
