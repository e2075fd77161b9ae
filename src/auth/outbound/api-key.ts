/**
 * @module auth/outbound/api-key
 * An API key sent in a header of the connector's choosing (`X-Api-Key` by default).
 */
import type { Secret } from '../../core/secret.ts';
import type { Policy } from '../../core/call.ts';
import { headerPolicy } from './inject.ts';

export function apiKeyAuth(opts: { header: string; value: Secret }): Policy {
  return headerPolicy(opts.header, () => opts.value.reveal());
}
