/**
 * @module auth/outbound
 * Picks the outbound credentials policy from a connector's `auth` options.
 */
import type { Policy } from '../../connectors/connector.ts';
import type { AuthOptions } from '../../connectors/options.ts';
import { apiKeyAuth } from './api-key.ts';
import { basicAuth } from './basic.ts';
import { bearerAuth } from './bearer.ts';

export { apiKeyAuth, basicAuth, bearerAuth };

/**
 * The policy that injects `auth`, or undefined when the connector has none.
 * The schema guarantees exactly one kind is set.
 */
export function authPolicy(auth: AuthOptions | undefined): Policy | undefined {
  if (auth === undefined) return undefined;
  if (auth.apiKey) return apiKeyAuth(auth.apiKey);
  if (auth.bearer) return bearerAuth(auth.bearer);
  if (auth.basic) return basicAuth(auth.basic);
  return undefined;
}
