/**
 * @module server/outage-log
 * While the store is down, every request that needs it is refused with a 503
 * (`storeUnavailable`), thousands a second at ingest rates. One error line with
 * a stack for each would bury the one fact an operator needs under copies of
 * it, so the log says it once, then once per interval with how many were
 * refused since: a warning, since nothing was lost (the senders retry).
 */
import type { Clock } from '../core/clock.ts';
import { causeChain } from '../core/errors.ts';
import type { Logger } from '../observability/logger.ts';

/** At most one line per this long while refusals go on. */
export const OUTAGE_LOG_INTERVAL_MS = 10_000;

export interface OutageLog {
  /** A request refused because the store did not answer; `cause` is what the store threw. */
  refused(cause: unknown, where: string): void;
}

export function createOutageLog(logger: Logger, clock: Clock): OutageLog {
  let lastAt = Number.NEGATIVE_INFINITY;
  let since = 0;
  return {
    refused(cause, where) {
      since++;
      const now = clock.now();
      if (now - lastAt < OUTAGE_LOG_INTERVAL_MS) return;
      // The causes name the database (host, port): the operator's business, unlike the sender's.
      logger.warn({ causes: causeChain(cause), refused: since, where }, 'store unavailable: requests refused with 503 and Retry-After');
      lastAt = now;
      since = 0;
    },
  };
}
