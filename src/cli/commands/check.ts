/**
 * @module cli/commands/check
 * `junction check`: validates the configuration and prints every mistake with
 * its file, line, column and key path.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { configOption } from './options.ts';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate the configuration; print every mistake with file, line and path')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const { config, file } = await loadConfig(opts.config);
      const flows = Object.keys(config.flows).length;
      const connectors = Object.keys(config.connectors).length;
      process.stdout.write(`${file}: OK (${flows} flow${flows === 1 ? '' : 's'}, ${connectors} connector${connectors === 1 ? '' : 's'})\n`);
    });
}
