/**
 * @module auth/inbound/jwt-claims
 * What a verified token's claims must say before `http.auth.jwt` lets its
 * caller in: the claims the trigger requires (`requiredClaims`), and who the
 * caller is (its consumer name in logs, rate limits and `meta.consumer`).
 */
import type { JWTPayload } from 'jose';
import { z } from 'zod';

const SCOPE_CLAIMS = new Set(['scope', 'scp']);

/** OIDC caps `sub` at 255 characters; a longer name would only bloat logs and rate-limit keys. */
const MAX_CONSUMER_LENGTH = 255;

export const requiredClaimsOptions = z
  .record(
    z.string().min(1),
    z.union([z.literal(true), z.string().min(1), z.number()], { error: 'expected true (present) or the value the claim must hold (a string or a number)' }),
  )
  .describe(
    'Claims a token must carry to be let in, else 403: `name: true` needs the claim present (and not false); `name: value` needs it equal to the value, or, for a claim that is a list, to contain it. `scope` (and `scp`) may be a space-separated string: every scope the value names must be granted, e.g. scope: orders.write.',
  );

export type RequiredClaims = z.output<typeof requiredClaimsOptions>;

/** Says which required claim the token lacks or holds wrongly, or undefined when it has them all. */
export function missingClaim(payload: JWTPayload, required: RequiredClaims): string | undefined {
  for (const [name, wanted] of Object.entries(required)) {
    const held = payload[name];
    if (held === undefined || held === null || held === false) return `the token has no "${name}" claim, which this trigger requires`;
    if (wanted === true) continue;
    if (!holds(name, held, wanted)) return `the token's "${name}" claim does not ${Array.isArray(held) || SCOPE_CLAIMS.has(name) ? 'include' : 'equal'} ${JSON.stringify(wanted)}`;
  }
  return undefined;
}

function holds(name: string, held: unknown, wanted: string | number): boolean {
  if (Array.isArray(held)) return held.includes(wanted);
  if (SCOPE_CLAIMS.has(name) && typeof held === 'string' && typeof wanted === 'string') {
    // RFC 9068 / 8693: scope is one string of space-separated scopes.
    const granted = new Set(held.split(' '));
    return wanted.split(' ').filter(Boolean).every((s) => granted.has(s));
  }
  return held === wanted;
}

/**
 * The caller a token names: its subject, or for a token a client got for
 * itself without one, its client (`client_id`, RFC 9068; `azp`, OIDC).
 * Undefined when it names none usable.
 */
export function consumerOf(payload: JWTPayload): string | undefined {
  const name = [payload.sub, payload.client_id, payload.azp].find((v) => typeof v === 'string' && v.length > 0);
  return typeof name === 'string' && name.length <= MAX_CONSUMER_LENGTH ? name : undefined;
}
