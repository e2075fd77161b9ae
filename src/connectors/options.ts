/**
 * @module connectors/options
 * Options every HTTP connector type shares: auth, timeouts, pool, retry and the
 * classification of answers. A type spreads {@link httpConnectorShape} into its
 * own schema and adds what is its own (rest: `baseUrl`).
 */
import { z } from 'zod';
import { authOptions } from '../auth/outbound/options.ts';
import { cacheOptions } from '../policies/cache.ts';
import { circuitBreakerOptions } from '../policies/circuit-breaker.ts';
import { concurrencyOptions } from '../policies/concurrency.ts';
import { rateLimitOptions } from '../policies/rate-limit.ts';

export const retryOptions = z
  .strictObject({
    maxAttempts: z.int().min(1).max(1000).default(8).describe('Attempts before the message becomes a dead letter (the first try counts).'),
    baseMs: z.int().min(1).default(200).describe('Backoff base: attempt n waits a random time in [0, min(maxMs, baseMs·2^(n-1))] (full jitter).'),
    maxMs: z.int().min(1).default(60_000).describe('Cap on one backoff wait, and on a Retry-After the server asks for.'),
  })
  .describe('Retry policy: durable, exponential backoff with full jitter; Retry-After wins when present (capped by maxMs).');

export const retryDefaults = retryOptions.parse({});

export const poolOptions = z
  .strictObject({
    connections: z.int().min(1).max(1024).default(16).describe('Most sockets open to the origin at once.'),
    keepAliveMs: z.int().min(0).default(30_000).describe('How long an idle socket is kept for reuse.'),
    pipelining: z
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('Requests sent on one socket before the first answer arrives (HTTP/1.1 pipelining). 1: off, the safe default; a slow answer then holds up no other.'),
  })
  .describe('Connection pool (undici), with keep-alive.');

/** `"409"` or `"4xx"`: one status, or a whole class. */
const STATUS_KEY = /^[1-5](\d\d|xx)$/;

export const classifyOptions = z
  .record(
    z.string().regex(STATUS_KEY, 'a status such as 409, or a class such as 4xx'),
    z.enum(['ok', 'retry', 'refresh', 'permanent']).describe('ok: success; retry: try again later; refresh: renew credentials once, then permanent; permanent: dead letter.'),
  )
  .describe('Overrides of the default classification of answers, by status or class: e.g. `{ "409": ok, "423": retry }`. An exact status wins over its class.');

/** The fields every HTTP connector type has; spread into the type's own schema. */
export const httpConnectorShape = {
  headers: z.record(z.string(), z.string().describe('Header value.')).optional().describe('Headers sent on every call.'),
  auth: authOptions.optional(),
  timeoutMs: z.int().min(1).default(5000).describe('Whole call, from sending to the last byte of the answer, a token request and one resend after a 401 included.'),
  connectTimeoutMs: z.int().min(1).optional().describe('Establishing the connection; defaults to timeoutMs.'),
  headersTimeoutMs: z.int().min(1).optional().describe('Waiting for the response headers; defaults to timeoutMs.'),
  bodyTimeoutMs: z.int().min(1).optional().describe('Longest silence while the body arrives; defaults to timeoutMs.'),
  maxResponseBytes: z.int().min(1).default(10 * 1024 * 1024).describe('Larger answers fail the call (network error, retried).'),
  pool: poolOptions.prefault({}),
  retry: retryOptions.prefault({}),
  circuitBreaker: circuitBreakerOptions.optional(),
  classify: classifyOptions.optional(),
  cache: cacheOptions.optional(),
  rateLimit: rateLimitOptions.optional(),
  concurrency: concurrencyOptions.optional(),
};

/** What the pipeline reads from every connector's options, whatever its type. */
export type HttpConnectorOptions = z.output<z.ZodObject<typeof httpConnectorShape>>;
