/**
 * @module cli/main
 * `junction` command line: run, check, schema, dlq, send, status, init, migrate.
 * Exit codes: 0 success (warnings included), 1 the work failed (invalid config,
 * unknown id), 2 usage (an unknown command or option, a value out of range).
 */
import { Command, CommanderError } from 'commander';
import { isJunctionError } from '../core/errors.ts';
import { quietOnClosedPipe } from './closed-pipe.ts';
import { registerCheck } from './commands/check.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerInit } from './commands/init.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerRun } from './commands/run.ts';
import { registerSchema } from './commands/schema.ts';
import { registerSend } from './commands/send.ts';
import { registerStatus } from './commands/status.ts';
import { VERSION } from '../core/version.ts';

export function buildProgram(): Command {
  const program = new Command('junction')
    .description('Integration engine: no accepted message is lost.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerCheck(program);
  registerSchema(program);
  registerDlq(program);
  registerSend(program);
  registerStatus(program);
  registerInit(program);
  registerMigrate(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    // commander exits 1 on every usage error; ours say 2 (docs/cli.md). Help and --version are 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isJunctionError(e)) {
      process.stderr.write(`${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  const code = await main(process.argv);
  if (code !== 0) process.exitCode = code;
}
