/**
 * @module cli/commands/schema
 * `junction schema`: prints the JSON Schema of junction.yaml, for editors.
 */
import type { Command } from 'commander';
import { configJsonSchema } from '../../config/json-schema.ts';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the configuration file')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
