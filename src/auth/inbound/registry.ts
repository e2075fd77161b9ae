/**
 * @module auth/inbound/registry
 * The kinds of inbound credential a trigger can require, and the composite that
 * admits a request when any one configured kind accepts it (so a trigger can move
 * from API keys to JWT with both accepted for a while).
 */
import { z } from 'zod';
import { errors, isJunctionError, type JunctionError } from '../../core/errors.ts';
import { apiKeys } from './api-keys.ts';
import type { Authenticator, AuthenticatorDefinition, AuthenticatorDeps } from './inbound.ts';
import { jwt } from './jwt.ts';
import { signature } from './signature.ts';

export const inboundAuthenticators: ReadonlyMap<string, AuthenticatorDefinition> = new Map<string, AuthenticatorDefinition>([
  [apiKeys.name, apiKeys],
  [jwt.name, jwt],
  [signature.name, signature],
]);

export const inboundAuthOptions = z
  .strictObject(Object.fromEntries([...inboundAuthenticators].map(([name, def]) => [name, def.options.optional()])))
  .refine((o) => Object.values(o).some((v) => v !== undefined), 'name at least one kind of credential')
  .describe('Who may send: any one of the kinds configured here admits a request; none configured means anyone.');

export type InboundAuthConfig = Record<string, unknown>;

export async function createInboundAuth(config: InboundAuthConfig, deps: AuthenticatorDeps): Promise<Authenticator> {
  const chain: Authenticator[] = [];
  for (const [name, options] of Object.entries(config)) {
    if (options === undefined) continue;
    const def = inboundAuthenticators.get(name);
    if (!def) throw errors.CONFIG_INVALID.create([`unknown kind of credential ${name}`]);
    chain.push(await def.create(options, deps));
  }
  if (chain.length === 1) return chain[0]!;
  // Kinds are tried in the registry's order (the schema's), not the order written in the file.
  return async (req) => {
    const refusals: JunctionError[] = [];
    for (const authenticate of chain) {
      try {
        return await authenticate(req);
      } catch (e) {
        // A kind that cannot decide now (its key server is down: 503) must not stop another kind from admitting.
        if (!isJunctionError(e) || (e.status !== 401 && e.status !== 403 && e.status !== 503)) throw e;
        refusals.push(e);
      }
    }
    throw combinedRefusal(refusals);
  };
}

/**
 * Right credentials that are not allowed here (403) say more than a kind that could
 * not decide (503), which says more than wrong or missing ones (401). The 401 names
 * what each kind found and keeps every kind's challenge.
 */
function combinedRefusal(refusals: JunctionError[]): JunctionError {
  const decisive = refusals.find((e) => e.status === 403) ?? refusals.find((e) => e.status === 503);
  if (decisive) return decisive;
  // Each refusal's own reason, without the catalog's prefix that the combined error adds again.
  const prefix = errors.AUTH_DENIED.template.split('%s')[0]!;
  const reasons = refusals.map((e) => (e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message));
  const challenges = refusals.map((e) => e.headers?.['www-authenticate']).filter((c): c is string => c !== undefined);
  return errors.AUTH_DENIED.create([reasons.join('; ')], challenges.length > 0 ? { headers: { 'www-authenticate': challenges.join(', ') } } : {});
}
