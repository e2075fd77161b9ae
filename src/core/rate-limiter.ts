/**
 * @module core/rate-limiter
 * Where rate-limit counters live: rate-limiter-flexible limiters made by a
 * factory that the store provides (PostgreSQL: one table every node shares) or
 * this process's memory. The inbound limit per consumer and the outbound limit
 * per connector take a factory and never know which one they were given.
 */
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** What a limiter counts: `points` per `duration` seconds per key, keys prefixed with `keyPrefix`. */
export interface LimiterSpec {
  keyPrefix: string;
  points: number;
  /** Seconds; may be fractional. */
  duration: number;
}

/** Makes a fixed-window limiter; two made with one spec on one store count together. */
export type RateLimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract;

/** Counters in this process only: the default, and what SQLite (one process) uses. */
export const memoryLimiters: RateLimiterFactory = (spec) => new RateLimiterMemory(spec);
