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

/** Loopback hosts, where a token URL may be plain http (a local or test authorization server). */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

export const oauth2Options = z
  .strictObject({
    tokenUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => u.startsWith('https:') || LOOPBACK.test(new URL(u).hostname), {
        message: 'must be https: it carries the client secret (plain http is allowed only on loopback, e.g. 127.0.0.1)',
      })
      .describe('Token endpoint of the authorization server.'),
    clientId: z.string().min(1).describe('OAuth client id.'),
    clientSecret: secret.describe('OAuth client secret; use ${env:NAME} or ${file:path}.'),
    authMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How the client authenticates to the token endpoint: HTTP basic (default), or id and secret in the form body.'),
    scope: z.string().min(1).optional().describe('Space-separated scopes to ask for.'),
    audience: z.string().min(1).optional().describe('Sent as the `audience` parameter (Auth0, Okta and others name the API this way).'),
    resource: z.url().optional().describe('Sent as the `resource` parameter (RFC 8707 resource indicator): the API the token is for.'),
    grant: z
      .enum(['client_credentials', 'refresh_token'])
      .default('client_credentials')
      .describe('client_credentials: the client\'s own token. refresh_token: a token on behalf of a user, from refreshToken.'),
    refreshToken: secret
      .optional()
      .describe('With grant refresh_token: the first refresh token; the rotated ones the server returns are kept in the store.'),
    refreshBeforeMs: z
      .int()
      .min(0)
      .default(30_000)
      .describe('Fetch a new token this long before the current one expires (at most half its lifetime).'),
  })
  .refine((o) => o.grant !== 'refresh_token' || o.refreshToken !== undefined, {
    message: 'grant refresh_token needs refreshToken',
    path: ['refreshToken'],
  })
  .describe('OAuth 2.0: a bearer token from the token endpoint, kept in the store, renewed before it expires and after a 401.');

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
    oauth2: oauth2Options.optional(),
  })
  .refine((a) => [a.apiKey, a.bearer, a.basic, a.oauth2].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of apiKey, bearer, basic or oauth2',
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
export type OAuth2Options = z.output<typeof oauth2Options>;

/** Every connector type; a discriminated union on `type`. Later issues add graphql, soap, webhook. */
export const connectorOptions = z.discriminatedUnion('type', [restConnectorOptions]);
export type ConnectorOptions = z.output<typeof connectorOptions>;
