/**
 * @module server/admin/token
 * The admin API's one credential: `Authorization: Bearer <server.adminToken>`.
 * Both sides are hashed with SHA-256 and compared with `timingSafeEqual`, so the
 * comparison takes the same time whatever the token's length and wherever the
 * first wrong byte is. The token is read on every request (cheap), so a token
 * that follows a rotated file takes effect at once.
 */
import { timingSafeEqual } from 'node:crypto';
import { bearerCredential, credentialDigest } from '../../auth/inbound/inbound.ts';
import type { Secret } from '../../core/secret.ts';
import { errors, type JunctionError } from '../../core/errors.ts';

/** Why a request was refused, and the `WWW-Authenticate` challenge to send with a 401 (RFC 6750). */
export interface Refusal {
  error: JunctionError;
  challenge?: string;
}

/** Undefined when the request may pass; otherwise the refusal. Never quotes what was sent. */
export type AdminTokenCheck = (authorization: string | undefined) => Refusal | undefined;

const REALM = 'realm="junction-admin"';

export function adminTokenCheck(token: Secret | undefined): AdminTokenCheck {
  if (token === undefined) {
    // Disabled is not a credential problem: no token would help, so not 401 (and not 403, which says "not you").
    const error = errors.ADMIN_DISABLED.create(['set server.adminToken (e.g. "${env:JUNCTION_ADMIN_TOKEN}") to enable it']);
    return () => ({ error });
  }
  return (authorization) => {
    if (authorization === undefined || authorization === '') {
      return { error: errors.AUTH_DENIED.create(['the admin API needs Authorization: Bearer <server.adminToken>']), challenge: `Bearer ${REALM}` };
    }
    const presented = bearerCredential(authorization);
    if (presented === undefined) {
      return { error: errors.AUTH_DENIED.create(['the admin API takes a bearer token (Authorization: Bearer <server.adminToken>)']), challenge: `Bearer ${REALM}, error="invalid_request"` };
    }
    if (!timingSafeEqual(credentialDigest(presented), credentialDigest(token.reveal()))) {
      return { error: errors.AUTH_DENIED.create(['the admin token is not valid']), challenge: `Bearer ${REALM}, error="invalid_token"` };
    }
    return undefined;
  };
}
