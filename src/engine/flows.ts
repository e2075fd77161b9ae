/**
 * @module engine/flows
 * Compiles every flow of a loaded config (runtime/flow) and places each step
 * that cannot start at its line, as the loader places its own mistakes.
 */
import { configError, type LoadedConfig } from '../config/load.ts';
import type { ConfigIssue, KeyPath } from '../config/issue.ts';
import type { Connector } from '../connectors/connector.ts';
import type { JunctionError } from '../core/errors.ts';
import { compileFlow, type CompiledFlow } from '../runtime/flow.ts';

/**
 * Compiles every flow. A step that cannot start (a schema file missing, a module
 * that does not load) is a mistake in the config: all of them are reported
 * together, each at its line, like the loader's own.
 */
export async function compileFlows(loaded: LoadedConfig, connectors: ReadonlyMap<string, Connector>): Promise<Map<string, CompiledFlow>> {
  const flows = new Map<string, CompiledFlow>();
  const issues: ConfigIssue[] = [];
  for (const [name, flow] of Object.entries(loaded.config.flows)) {
    try {
      flows.set(name, await compileFlow(name, flow, { connectors, baseDir: loaded.baseDir }));
    } catch (e) {
      const failures = (e as JunctionError).details?.failures as { keyPath: KeyPath; reason: string; code?: string }[] | undefined;
      if (!failures) throw e;
      for (const f of failures) issues.push(loaded.issueAt(f.keyPath, f.code ? `${f.code}: ${f.reason}` : f.reason));
    }
  }
  if (issues.length > 0) throw configError(loaded.file, issues);
  return flows;
}
