/**
 * @module observability/logger
 * pino JSON logs. Secrets never reach a line: config secrets are {@link Secret}
 * values that serialise as `[redacted]`, credential headers and secret-looking
 * keys are censored by path, and the resolved secret values themselves are cut
 * out of every line before it is written (a receiver may echo a key back in an
 * answer that an error message quotes).
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';
import { logRedactPaths, noScrub, REDACTED, type Scrub } from './redact.ts';

export type Logger = PinoLogger;

export const REDACT_PATHS: readonly string[] = logRedactPaths();

export interface LoggerOptions {
  level?: LevelWithSilent;
  destination?: NodeJS.WritableStream;
  /** Cuts values out of every line: the config's resolved secrets (`secretScrub`). */
  scrub?: Scrub;
  /** `log.format`; default: {@link logFormat} of the destination. */
  format?: LogFormat | undefined;
}

export type LogFormat = 'json' | 'pretty';

/**
 * The format lines are written in: the configured one, else pretty for a
 * person at a terminal and JSON for everything else (a file, a pipe, a log
 * collector), which must never get colour codes.
 */
export function logFormat(configured: LogFormat | undefined, destination: { isTTY?: boolean | undefined }): LogFormat {
  return configured ?? (destination.isTTY === true ? 'pretty' : 'json');
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const scrub = opts.scrub ?? noScrub;
  const destination = opts.destination ?? process.stdout;
  const tty = { isTTY: (destination as { isTTY?: boolean }).isTTY };
  const pretty = logFormat(opts.format, tty) === 'pretty';
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      // The scrub runs on the JSON line, before pino-pretty reads it: a pretty line is scrubbed too.
      ...(scrub === noScrub ? {} : { hooks: { streamWrite: scrub } }),
    },
    // In-process, not a worker-thread transport: a line is written before the process can exit on a fatal error.
    pretty ? pinoPretty({ destination, colorize: tty.isTTY === true, sync: true }) : destination,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
