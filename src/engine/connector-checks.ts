/**
 * @module engine/connector-checks
 * Runs each connector type's own `check` (a file its options name: an SDL
 * schema, a WSDL) and places every issue at its line, as the loader places its
 * own mistakes. `junction check` and start-up both run it before creating the
 * connectors, so a broken file is reported where it is named.
 */
import { configError, type LoadedConfig } from '../config/load.ts';
import type { ConfigIssue } from '../config/issue.ts';
import { connectorTypes } from '../connectors/registry.ts';

/** Every issue the connector types find in their options, each at its line. */
export async function checkConnectors(loaded: LoadedConfig): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const [name, options] of Object.entries(loaded.config.connectors)) {
    const check = connectorTypes.get(options.type)?.check;
    if (check === undefined) continue;
    for (const issue of await check(options, { baseDir: loaded.baseDir })) issues.push(loaded.issueAt(['connectors', name, ...issue.path], issue.message));
  }
  return issues;
}

/** Throws JNC_CONFIG_INVALID listing every issue {@link checkConnectors} finds. */
export async function assertConnectorsValid(loaded: LoadedConfig): Promise<void> {
  const issues = await checkConnectors(loaded);
  if (issues.length > 0) throw configError(loaded.file, issues);
}
