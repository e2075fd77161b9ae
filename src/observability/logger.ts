/**
 * @module observability/logger
 * pino JSON logs. Secrets never reach a line: config secrets are {@link Secret}
 * values that serialise as `[redacted]`, credential headers and secret-looking
 * keys are censored by path, and the resolved secret values themselves are cut
 * out of every line before it is written (a receiver may echo a key back in an
 * answer that an error message quotes).
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { logRedactPaths, noScrub, REDACTED, type Scrub } from './redact.ts';

export type Logger = PinoLogger;

export const REDACT_PATHS: readonly string[] = logRedactPaths();

export interface LoggerOptions {
  level?: LevelWithSilent;
  destination?: NodeJS.WritableStream;
  /** Cuts values out of every line: the config's resolved secrets (`secretScrub`). */
  scrub?: Scrub;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const scrub = opts.scrub ?? noScrub;
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      ...(scrub === noScrub ? {} : { hooks: { streamWrite: scrub } }),
    },
    opts.destination ?? process.stdout,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
