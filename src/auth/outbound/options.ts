/**
 * @module auth/outbound/options
 * The `auth` options of a connector: the credentials put on every call. Every
 * connector type takes the same ones; the schema lives with the code that uses it.
 */
import { z } from 'zod';
import { secret } from '../../core/secret-field.ts';
import { secureUrl } from '../../core/secure-url.ts';

export const oauth2Options = z
  .strictObject({
    tokenUrl: secureUrl('it carries the client secret').describe('Token endpoint of the authorization server.'),
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

/** The HTTP credentials a connector may send, one of them at a time; a type with credentials of its own (SOAP's WS-Security) adds them beside these. */
export const httpAuthShape = {
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
};

export const authOptions = z
  .strictObject(httpAuthShape)
  .refine((a) => [a.apiKey, a.bearer, a.basic, a.oauth2].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of apiKey, bearer, basic or oauth2',
  })
  .describe('Credentials injected into every call.');

export type AuthOptions = z.output<typeof authOptions>;
export type OAuth2Options = z.output<typeof oauth2Options>;
