/**
 * @module auth/inbound/jwt
 * `http.auth.jwt`: callers send a JWT access token as `Authorization: Bearer`,
 * signed by an issuer whose public keys are published as a JSON Web Key Set
 * (`jwksUrl`). A token is let in when jose verifies its signature with one of
 * those keys, under an algorithm on the allow-list, and its `iss`, `aud`,
 * `exp` and `nbf` hold (within `clockSkewMs`); then it must carry every
 * claim in `requiredClaims`. The caller is named by the token's `sub`, else
 * its `client_id` or `azp` (a token a client got for itself).
 *
 * Only public-key algorithms are accepted. `none` would let anyone mint a token;
 * an HMAC one (HS256…) would need the verifying secret shared with every signer,
 * and is the classic confusion attack when a public key is used as its secret.
 *
 * Refusals: 401 (JNC_AUTH_DENIED) when the token is missing or not good, saying
 * which check failed and never echoing the token; 403 (JNC_AUTH_FORBIDDEN) when
 * it is good but lacks a required claim; 503 (JNC_AUTH_KEYS_UNAVAILABLE) when
 * the keys cannot be fetched to check it (see ./jwks.ts).
 */
import { decodeProtectedHeader, errors as jose, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { secureUrl } from '../../core/secure-url.ts';
import { errors, isJunctionError, type JunctionError } from '../../core/errors.ts';
import { bearerCredential, defineAuthenticator } from './inbound.ts';
import { createKeySource } from './jwks.ts';
import { consumerOf, missingClaim, requiredClaimsOptions } from './jwt-claims.ts';

/** Public-key JWS algorithms (RFC 7518, RFC 8037, RFC 9864); never `none`, never HMAC. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

export const jwtOptions = z
  .strictObject({
    jwksUrl: secureUrl('whoever can change the keys on their way here can sign tokens').describe("The issuer's JSON Web Key Set (its discovery document's jwks_uri), e.g. https://id.example.com/.well-known/jwks.json."),
    issuer: z
      .string()
      .min(1)
      .describe("The `iss` a token must carry, character for character (a trailing slash counts): the discovery document's issuer."),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1, 'list at least one audience')])
      .describe('The `aud` a token must carry: this API\'s identifier, or a list of which any one will do. Required, so that a token the same issuer made for another API is refused.'),
    algorithms: z
      .array(
        z.enum(JWT_ALGORITHMS, {
          error: `expected one of ${JWT_ALGORITHMS.join(', ')}: none and HMAC algorithms (HS256…) are not accepted, since tokens are checked against the issuer's public keys`,
        }),
      )
      .min(1)
      .default(['RS256', 'ES256', 'EdDSA'])
      .describe('Signature algorithms accepted (an allow-list; a token under any other is refused before its keys are looked up). Public-key algorithms only.'),
    clockSkewMs: z
      .int()
      .min(0)
      .max(300_000)
      .optional()
      .describe('How far our clock and the issuer\'s may disagree when exp and nbf are checked, in milliseconds (default 30000).'),
    clockSkewSec: z
      .int()
      .min(0)
      .max(300)
      .optional()
      .meta({ deprecated: true, replacedBy: 'clockSkewMs' })
      .describe('Deprecated: use clockSkewMs (the same skew in seconds; `junction check` warns).'),
    requiredClaims: requiredClaimsOptions.optional(),
    cacheMaxAgeMs: z
      .int()
      .min(1000)
      .default(600_000)
      .describe('How long a fetched key set is used before it is fetched again.'),
    cooldownMs: z
      .int()
      .min(0)
      .default(30_000)
      .describe('Least time between two fetches of the key set: one made because a token names a key not held (a rotation), or one after a fetch that failed. Caps what a flood of made-up key ids costs the key server.'),
    timeoutMs: z.int().min(1).default(5000).describe('How long a fetch of the key set may take.'),
  })
  .refine((o) => o.clockSkewMs === undefined || o.clockSkewSec === undefined, { message: 'give clockSkewMs only: clockSkewSec is its deprecated form', path: ['clockSkewSec'] })
  // Every other duration is in milliseconds; the deprecated seconds are read into them once, here.
  .transform(({ clockSkewSec, clockSkewMs, ...rest }) => ({ ...rest, clockSkewMs: clockSkewMs ?? (clockSkewSec === undefined ? 30_000 : clockSkewSec * 1000) }))
  .describe('JWT access tokens sent as Authorization: Bearer, verified against the issuer\'s published keys (JWKS); the caller is the token\'s sub (else client_id or azp).');

const MISSING = 'send a JWT access token as Authorization: Bearer <token>';

export const jwt = defineAuthenticator({
  name: 'jwt',
  summary: 'JWT access tokens (Authorization: Bearer) signed by an issuer whose keys are fetched from its JWKS; issuer, audience, expiry and required claims checked.',
  options: jwtOptions,
  create(options, deps) {
    const keys = createKeySource(
      { url: options.jwksUrl, cacheMaxAgeMs: options.cacheMaxAgeMs, cooldownMs: options.cooldownMs, timeoutMs: options.timeoutMs },
      deps,
    );
    const accepted = options.algorithms.join(', ');
    return async (req) => {
      const token = bearerCredential(req.headers.authorization);
      if (token === undefined) throw denied(MISSING, false);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: options.algorithms,
          clockTolerance: options.clockSkewMs / 1000,
          // A token without an expiry would stay good forever once leaked.
          requiredClaims: ['exp'],
          currentDate: new Date(deps.clock.now()),
        }));
      } catch (e) {
        throw refusal(e, token, accepted);
      }
      const consumer = consumerOf(payload);
      if (consumer === undefined) throw denied('the token names no caller: no sub, client_id or azp claim of at most 255 characters', true);
      const missing = options.requiredClaims && missingClaim(payload, options.requiredClaims);
      if (missing) {
        throw errors.AUTH_FORBIDDEN.create([missing], { headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' } });
      }
      return { consumer, via: 'jwt' };
    };
  },
});

/** What jose refused, said for the caller: which check failed, never the token. */
function refusal(e: unknown, token: string, accepted: string): JunctionError {
  if (isJunctionError(e)) return e;
  if (e instanceof jose.JWTExpired) return denied('the token has expired', true);
  if (e instanceof jose.JWTClaimValidationFailed) return denied(claimRefusal(e), true);
  if (e instanceof jose.JOSEAlgNotAllowed) return denied(`the token's algorithm${algorithmOf(token)} is not accepted here; accepted: ${accepted}`, true);
  if (e instanceof jose.JWKSNoMatchingKey) return denied("no key of the issuer matches the token's key id (kid) and algorithm", true);
  if (e instanceof jose.JWKSMultipleMatchingKeys) return denied('the token names no key id (kid) and several of the issuer\'s keys could match', true);
  if (e instanceof jose.JWSSignatureVerificationFailed) return denied("the token's signature is not valid", true);
  if (e instanceof jose.JWSInvalid || e instanceof jose.JWTInvalid) return denied('the token is not a well-formed JWT', true);
  if (e instanceof jose.JOSENotSupported) return denied('the token uses a JOSE feature not supported here', true);
  if (e instanceof jose.JOSEError) return denied('the token cannot be verified', true);
  // Not the token's fault (a bug, a key in the set that cannot be imported): a 500, detailed in the log.
  throw e;
}

function claimRefusal(e: InstanceType<typeof jose.JWTClaimValidationFailed>): string {
  if (e.reason === 'missing') return e.claim === 'exp' ? 'the token has no expiry (exp)' : `the token has no "${e.claim}" claim`;
  if (e.reason === 'invalid') return `the token's "${e.claim}" claim is malformed`;
  switch (e.claim) {
    case 'nbf':
      return 'the token is not valid yet (nbf is in the future)';
    case 'iss':
      return "the token's issuer is not accepted here";
    case 'aud':
      return "the token's audience is not accepted here";
    default:
      return `the token's "${e.claim}" claim is not accepted here`;
  }
}

/** ` (HS256)`: the header's alg when it looks like one, so that a caller's own text is never repeated. */
function algorithmOf(token: string): string {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' && /^[A-Za-z0-9+-]{1,16}$/.test(alg) ? ` (${alg})` : '';
  } catch {
    return '';
  }
}

/**
 * A 401 with the RFC 6750 challenge: bare when no token came, `invalid_token`
 * with the reason when one did (the reasons are our own words, so they are safe in a header).
 */
function denied(why: string, tokenSent: boolean): JunctionError {
  const challenge = tokenSent ? `Bearer error="invalid_token", error_description="${why.replace(/["\\]/g, "'")}"` : 'Bearer';
  return errors.AUTH_DENIED.create([why], { headers: { 'www-authenticate': challenge } });
}
