/**
 * @module engine/metrics
 * The engine's side of `/metrics`: what a scrape reads from the store and the
 * connectors, and where the exposition is served (the main server, a server of
 * its own on `metrics.port`, or nowhere).
 */
import type { JunctionConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Connector } from '../connectors/connector.ts';
import { Metrics, type ConnectorReading } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { startMetricsServer, type MetricsServer } from '../server/metrics-server.ts';
import type { Store } from '../store/store.ts';

/** The engine's metrics, unless `metrics.enabled` is false. */
export function createMetrics(config: JunctionConfig, deps: { store: Store; connectors: ReadonlyMap<string, Connector>; worker: string; clock: Clock }): Metrics | undefined {
  if (!config.metrics.enabled) return undefined;
  const { store, connectors } = deps;
  return new Metrics({
    worker: deps.worker,
    flows: Object.keys(config.flows),
    connectors: [...connectors.keys()],
    clock: deps.clock,
    read: {
      queue: (flow) => store.stats(flow),
      oldestDue: () => store.oldestDue(),
      connector: (name) => connectorReading(connectors.get(name)),
    },
  });
}

/** The circuit's state and the cache's counts of a connector, from the state the admin API shows. */
function connectorReading(connector: Connector | undefined): ConnectorReading | undefined {
  if (connector === undefined) return undefined;
  const { circuit, cache } = connector.state().policies as { circuit?: { state: string }; cache?: ConnectorReading['cache'] };
  return { circuit: circuit?.state, cache };
}

/** Starts the metrics' own server when `metrics.port` is set; otherwise the main server has the route. */
export async function serveMetrics(config: JunctionConfig, metrics: Metrics | undefined, logger: Logger): Promise<MetricsServer | undefined> {
  if (metrics === undefined || config.metrics.port === undefined) return undefined;
  return startMetricsServer(metrics, { port: config.metrics.port, host: config.metrics.host ?? config.server.host, logger });
}
