/**
 * @module connectors/ws-security
 * WS-Security UsernameToken for the SOAP Header (not an HTTP header), built by
 * the soap package's `WSSecurity`. Every call gets a fresh Nonce and Created:
 * the token is built when the envelope is, once per attempt, so a retried or
 * resent message is never refused as a replay. PasswordDigest is
 * Base64(SHA-1(nonce + created + password)); the password never goes out.
 */
import { z } from 'zod';
import soap from 'soap';
import { secret } from '../core/secret-field.ts';

export const wsSecurityOptions = z
  .strictObject({
    username: z.string().min(1).describe('UsernameToken user name.'),
    password: secret.describe('Password; use ${env:NAME} or ${file:path}.'),
    passwordType: z
      .enum(['PasswordText', 'PasswordDigest'])
      .default('PasswordText')
      .describe('PasswordText sends the password; PasswordDigest sends Base64(SHA-1(nonce + created + password)). Both carry a fresh Nonce and Created on each attempt.'),
  })
  .describe('WS-Security UsernameToken, put in the SOAP Header of every call.');

export type WsSecurityOptions = z.output<typeof wsSecurityOptions>;

/** A function giving a new `<wsse:Security>` header element on each call. */
export function wsSecurityHeader(options: WsSecurityOptions): () => string {
  const security = new soap.WSSecurity(options.username, options.password.reveal(), {
    passwordType: options.passwordType,
    hasNonce: true,
    hasTokenCreated: true,
    hasTimeStamp: false,
    mustUnderstand: true,
  });
  return () => security.toXML();
}
