/**
 * @module observability/logger
 * pino JSON logs. Secrets never reach a line: config secrets are {@link Secret}
 * values that serialise as `[redacted]`, and credential headers are censored by path.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

export const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

export function createLogger(opts: { level?: LevelWithSilent; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    opts.destination ?? process.stdout,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
