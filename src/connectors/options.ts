/**
 * @module connectors/options
 * Options shared by every HTTP connector type: auth, timeouts, pool and retry.
 * One zod schema gives the parsing, the defaults, the types and the JSON Schema.
 */
import { z } from 'zod';
import { secret } from '../config/secret-field.ts';

export const retryOptions = z
  .strictObject({
    maxAttempts: z.int().min(1).max(1000).default(8).describe('Attempts before the message becomes a dead letter (the first try counts).'),
    baseMs: z.int().min(1).default(200).describe('Backoff base: attempt n waits a random time in [0, min(maxMs, baseMs·2^(n-1))] (full jitter).'),
    maxMs: z.int().min(1).default(60_000).describe('Cap on one backoff wait, and on a Retry-After the server asks for.'),
  })
  .describe('Retry policy: durable, exponential backoff with full jitter; Retry-After wins when present (capped by maxMs).');

export const retryDefaults = retryOptions.parse({});

export const authOptions = z
  .strictObject({
    apiKey: z
      .strictObject({
        header: z.string().min(1).default('X-Api-Key').describe('Header that carries the key.'),
        value: secret.describe('The key; use ${env:NAME} or ${file:path}.'),
      })
      .optional()
      .describe('An API key sent in a header on every call.'),
    bearer: secret.optional().describe('A bearer token sent as `Authorization: Bearer …`.'),
    basic: z
      .strictObject({
        username: z.string().min(1).describe('User name.'),
        password: secret.describe('Password; use ${env:NAME} or ${file:path}.'),
      })
      .optional()
      .describe('HTTP basic credentials.'),
  })
  .refine((a) => [a.apiKey, a.bearer, a.basic].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of apiKey, bearer or basic',
  })
  .describe('Credentials injected into every call.');

export const poolOptions = z
  .strictObject({
    connections: z.int().min(1).max(1024).default(16).describe('Most sockets open to the origin at once.'),
    keepAliveMs: z.int().min(0).default(30_000).describe('How long an idle socket is kept for reuse.'),
  })
  .describe('Connection pool (undici), with keep-alive.');

export const restConnectorOptions = z
  .strictObject({
    type: z.literal('rest').describe('Connector type.'),
    baseUrl: z.url({ protocol: /^https?$/ }).describe('Origin and optional path prefix, e.g. http://127.0.0.1:4010/api.'),
    headers: z.record(z.string(), z.string().describe('Header value.')).optional().describe('Headers sent on every call.'),
    auth: authOptions.optional(),
    timeoutMs: z.int().min(1).default(5000).describe('Whole call, from sending to the last byte of the answer.'),
    connectTimeoutMs: z.int().min(1).optional().describe('Establishing the connection; defaults to timeoutMs.'),
    headersTimeoutMs: z.int().min(1).optional().describe('Waiting for the response headers; defaults to timeoutMs.'),
    bodyTimeoutMs: z.int().min(1).optional().describe('Longest silence while the body arrives; defaults to timeoutMs.'),
    maxResponseBytes: z.int().min(1).default(10 * 1024 * 1024).describe('Larger answers fail the call (network error, retried).'),
    pool: poolOptions.prefault({}),
    retry: retryOptions.prefault({}),
  })
  .describe('A REST (HTTP/JSON) system.');

export type RestConnectorOptions = z.output<typeof restConnectorOptions>;
export type AuthOptions = z.output<typeof authOptions>;

/** Every connector type; a discriminated union on `type`. Later issues add graphql, soap, webhook. */
export const connectorOptions = z.discriminatedUnion('type', [restConnectorOptions]);
export type ConnectorOptions = z.output<typeof connectorOptions>;
