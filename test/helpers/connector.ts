/**
 * @module test/helpers/connector
 * A rest connector made from config input, as a `connectors:` entry would make it,
 * and closed when the test ends.
 */
import type { TestContext } from 'node:test';
import type { Connector, ConnectorDeps } from '../../src/connectors/connector.ts';
import { createConnector } from '../../src/connectors/registry.ts';
import { restConnectorOptions } from '../../src/connectors/rest.ts';

/** `input` is what the config would say under the connector (before defaults), without `type: rest`. */
export function testRestConnector(t: TestContext, name: string, input: Record<string, unknown>, deps: ConnectorDeps = {}): Connector {
  const c = createConnector(name, restConnectorOptions.parse({ type: 'rest', ...input }), deps);
  t.after(() => c.close());
  return c;
}
