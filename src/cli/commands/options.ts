/**
 * @module cli/commands/options
 * Options shared by the commands: the configuration file, and whole numbers
 * checked against their range, so that a value out of range is a usage error
 * (exit 2) before any work starts.
 */
import { InvalidArgumentError, Option } from 'commander';
import { ISO_TIME_HINT, parseIsoTime } from '../../core/iso-time.ts';

export function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file').env('JUNCTION_CONFIG').default('junction.yaml');
}

/** A commander argument parser that accepts a whole number from `min` to `max`. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*[-+]?\d+\s*$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A commander argument parser for an ISO 8601 time with a zone (or a date): milliseconds since the epoch. */
export function isoTime(value: string): number {
  const ms = parseIsoTime(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected ${ISO_TIME_HINT}`);
  return ms;
}
