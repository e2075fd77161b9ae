/**
 * @module auth/outbound/bearer
 * A static bearer token (RFC 6750), sent as `Authorization: Bearer …`.
 */
import type { Secret } from '../../core/secret.ts';
import type { Policy } from '../../core/call.ts';
import { headerPolicy } from './inject.ts';

export function bearerAuth(token: Secret): Policy {
  return headerPolicy('authorization', () => `Bearer ${token.reveal()}`);
}
