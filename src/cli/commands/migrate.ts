/**
 * @module cli/commands/migrate
 * `junction migrate`: brings the store named in the configuration up to date and
 * exits, without starting anything. `junction run` migrates at start-up too
 * (under a lock, so nodes starting together migrate once); this lets an operator
 * do it as a step of its own before rolling new nodes out. Reads only the store
 * part of the configuration, like `dlq`.
 */
import type { Command } from 'commander';
import { loadStoreConfig } from '../../config/load-store.ts';
import { openStore, redact } from '../../store/open.ts';
import { configOption } from './options.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the store\'s pending migrations, then exit')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const loaded = await loadStoreConfig(opts.config);
      const store = openStore(loaded.config.store.url, { baseDir: loaded.baseDir });
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      process.stdout.write(`store is up to date: ${redact(loaded.config.store.url)}\n`);
    });
}
