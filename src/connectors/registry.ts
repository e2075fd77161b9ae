/**
 * @module connectors/registry
 * The connector types, and building connectors from config. A new protocol is
 * its `defineConnector` file plus one `register` line below; the config schema,
 * `junction schema`, `docs/config.md` and the engine read this registry.
 */
import { Registry } from '../core/registry.ts';
import type { Connector, ConnectorDefinition, ConnectorDeps, ConnectorTypeOptions } from './connector.ts';
import { assembleConnector } from './pipeline.ts';
import { graphqlConnector } from './graphql.ts';
import { restConnector } from './rest.ts';
import { soapConnector } from './soap.ts';
import { webhookConnector } from './webhook.ts';

export const connectorTypes = new Registry<ConnectorDefinition>('connector type');
connectorTypes.register(restConnector as ConnectorDefinition);
connectorTypes.register(graphqlConnector as ConnectorDefinition);
connectorTypes.register(soapConnector as unknown as ConnectorDefinition);
connectorTypes.register(webhookConnector as ConnectorDefinition);

/** Parsed options of any registered connector type: the shared ones typed, the type's own as unknown. */
export type ConnectorOptions = ConnectorTypeOptions & { readonly [key: string]: unknown };

/** A connector from parsed options (defaults applied), of the type its `type` names. */
export function createConnector(name: string, options: ConnectorOptions, deps: ConnectorDeps = {}): Connector {
  const def = connectorTypes.get(options.type);
  if (def === undefined) throw new Error(`unknown connector type "${options.type}"; registered: ${connectorTypes.names().join(', ')}`);
  return assembleConnector(def, name, options, deps);
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
