/**
 * @module cli/commands/check
 * `junction check`: validates the configuration and prints every mistake with
 * its file, line, column and key path.
 */
import type { Command } from 'commander';
import { formatIssue } from '../../config/issue.ts';
import { loadConfig } from '../../config/load.ts';
import { closeConnectors, createConnectors } from '../../connectors/registry.ts';
import { checkConnectors } from '../../engine/connector-checks.ts';
import { compileFlows } from '../../engine/flows.ts';
import { configOption } from './options.ts';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate the configuration; print every mistake with file, line and path')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const loaded = await loadConfig(opts.config);
      const { config, file } = loaded;
      // A file a connector names (an SDL schema, a WSDL) is checked before the connectors are made from it.
      await checkConnectors(loaded);
      // Starting each step finds what the file alone cannot show: a schema file that is missing, a module that does not load.
      const pools = createConnectors(config.connectors, { baseDir: loaded.baseDir });
      try {
        await compileFlows(loaded, pools);
      } finally {
        await closeConnectors(pools);
      }
      // Warnings do not fail the check: the config works as it is, but should be written otherwise.
      for (const w of loaded.warnings) process.stderr.write(`${formatIssue(w)} (warning)\n`);
      const flows = Object.keys(config.flows).length;
      const connectors = Object.keys(config.connectors).length;
      process.stdout.write(`${file}: OK (${flows} flow${flows === 1 ? '' : 's'}, ${connectors} connector${connectors === 1 ? '' : 's'})\n`);
    });
}
