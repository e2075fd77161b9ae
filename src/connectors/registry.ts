/**
 * @module connectors/registry
 * Builds the connectors of a configuration by `type`. A new protocol adds one
 * entry to {@link connectorFactories}; the type system then checks that every
 * type of `ConnectorOptions` has a factory.
 */
import type { Connector, ConnectorDeps } from './connector.ts';
import type { ConnectorOptions } from './options.ts';
import { createRestConnector } from './rest.ts';

type ConnectorType = ConnectorOptions['type'];
type OptionsOf<T extends ConnectorType> = Extract<ConnectorOptions, { type: T }>;

/** One factory per connector type; options arrive parsed, defaults applied. */
export const connectorFactories: { readonly [T in ConnectorType]: (name: string, options: OptionsOf<T>, deps: ConnectorDeps) => Connector } = {
  rest: createRestConnector,
};

export function createConnector(name: string, options: ConnectorOptions, deps: ConnectorDeps = {}): Connector {
  const factory = connectorFactories[options.type] as (name: string, options: ConnectorOptions, deps: ConnectorDeps) => Connector;
  return factory(name, options, deps);
}

/**
 * Creates every connector of the configuration. If one fails, those already
 * created are closed before the error is rethrown, so no pool is left open.
 * @param deps shared by every connector: pass the store's `tokens` so that OAuth 2.0 tokens are shared.
 */
export function createConnectors(connectors: Readonly<Record<string, ConnectorOptions>>, deps: ConnectorDeps = {}): Map<string, Connector> {
  const out = new Map<string, Connector>();
  try {
    for (const [name, options] of Object.entries(connectors)) out.set(name, createConnector(name, options, deps));
  } catch (e) {
    // The creation error is the one worth reporting; a close failure would hide it.
    closeConnectors(out).catch(() => {});
    throw e;
  }
  return out;
}

/** Closes every connector, even when some fail; rethrows the first failure. */
export async function closeConnectors(connectors: ReadonlyMap<string, Connector>): Promise<void> {
  const results = await Promise.allSettled([...connectors.values()].map((c) => c.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
