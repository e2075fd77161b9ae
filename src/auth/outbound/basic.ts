/**
 * @module auth/outbound/basic
 * HTTP basic credentials (RFC 7617), UTF-8 encoded.
 */
import type { Secret } from '../../core/secret.ts';
import type { Policy } from '../../core/call.ts';
import { headerPolicy } from './inject.ts';

export function basicAuth(opts: { username: string; password: Secret }): Policy {
  return headerPolicy('authorization', () => `Basic ${Buffer.from(`${opts.username}:${opts.password.reveal()}`, 'utf8').toString('base64')}`);
}
