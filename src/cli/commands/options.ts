/**
 * @module cli/commands/options
 * Options shared by the commands that read a configuration file.
 */
import { Option } from 'commander';

export function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file').env('JUNCTION_CONFIG').default('junction.yaml');
}
