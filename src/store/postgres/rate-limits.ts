/**
 * @module store/postgres/rate-limits
 * Rate limits that hold across every node on the store: rate-limiter-flexible's
 * RateLimiterPostgres on the store's pool, counting in the `rate_limits` table
 * (migration 0004; the connection's search_path puts it in the store's schema).
 * Each consume is one upsert. Its windows follow `Date.now()`, not the store's
 * clock: the limiter reads the time itself.
 */
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type pg from 'pg';
import type { RateLimiterFactory } from '../../core/rate-limiter.ts';

export const RATE_LIMITS_TABLE = 'rate_limits';

export function postgresLimiters(pool: pg.Pool): RateLimiterFactory {
  return (spec) =>
    new RateLimiterPostgres({
      ...spec,
      storeClient: pool,
      storeType: 'pool',
      tableName: RATE_LIMITS_TABLE,
      // migrate() made it; no CREATE TABLE from each limiter.
      tableCreated: true,
      // Every 5 minutes (an unref'd timer), rows expired over an hour ago go: keys that stop coming
      // (anonymous callers' addresses) would otherwise stay for good. The expire index keeps it cheap.
      clearExpiredByTimeout: true,
    });
}
