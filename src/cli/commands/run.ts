/**
 * @module cli/commands/run
 * `junction run`: the server and the workers, until SIGTERM or SIGINT, which drain
 * (no new messages, in-flight work finishes or goes back to the queue) and exit 0.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { startEngine } from '../../engine/engine.ts';
import { configOption, integerIn } from './options.ts';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('start the HTTP server and the workers')
    .addOption(configOption())
    .option('-p, --port <port>', 'listen on this port instead of server.port (0: a free one)', integerIn(0, 65535))
    .action(async (opts: { config: string; port?: number }) => {
      const loaded = await loadConfig(opts.config);
      const engine = await startEngine(loaded, opts.port === undefined ? {} : { port: opts.port });
      await new Promise<void>((resolve) => {
        const onSignal = (): void => {
          // A second signal means "now": leases expire and nothing is lost either way.
          process.once('SIGTERM', () => process.exit(1));
          process.once('SIGINT', () => process.exit(1));
          engine.stop().then(resolve, (e: unknown) => {
            console.error(e);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
    });
}
