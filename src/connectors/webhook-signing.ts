/**
 * @module connectors/webhook-signing
 * Signing an outbound webhook per the Standard Webhooks spec
 * (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, one entry per secret so that a receiver holding the
 * old or the new secret accepts the delivery during a rotation.
 *
 * The HMAC is computed here with node:crypto over the body's bytes, the exact
 * bytes sent: the `standardwebhooks` package's `sign()` reads its payload as
 * UTF-8 text, which is the same for every body Junction sends (JSON, XML,
 * text) but would not be for arbitrary bytes. The package still checks the
 * secret's form (as the inbound scheme does), and the tests verify with it.
 */
import { createHash, createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Secret } from '../core/secret.ts';

/** A secret's form, or undefined when it is usable: `whsec_` followed by base64 (the key's bytes). */
export function checkSigningSecret(value: string): string | undefined {
  try {
    new Webhook(value);
    return undefined;
  } catch {
    return 'a Standard Webhooks secret is whsec_ followed by base64 (the bytes of the key), e.g. whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  }
}

/** The key's bytes: the base64 after the optional `whsec_` prefix. */
export function signingKey(value: string): Buffer {
  return Buffer.from(value.startsWith('whsec_') ? value.slice(6) : value, 'base64');
}

/** What a `webhook-id` may hold as it is: printable ASCII with no space or comma, of a sane length. */
const PLAIN_ID = /^[\x21-\x2b\x2d-\x7e]{1,200}$/;

/**
 * The `webhook-id` of a delivery: the request's idempotency key, which is the
 * same on every attempt and every replay of the message, so a receiver that
 * dedupes on the id accepts the delivery once. A key that cannot travel in a
 * header as it is (spaces, non-ASCII, very long) is hashed into `msg_<base64url>`,
 * still stable.
 */
export function webhookId(idempotencyKey: string): string {
  if (PLAIN_ID.test(idempotencyKey)) return idempotencyKey;
  return `msg_${createHash('sha256').update(idempotencyKey).digest('base64url')}`;
}

/**
 * The `webhook-signature` value: `v1,<base64>` per secret, space-separated.
 * Each secret is revealed per call, so a secret that follows its file is current.
 */
export function signatureHeader(id: string, timestampSec: number, body: Buffer, secrets: readonly Secret[]): string {
  const prefix = Buffer.from(`${id}.${timestampSec}.`, 'utf8');
  return secrets
    .map((s) => `v1,${createHmac('sha256', signingKey(s.reveal())).update(prefix).update(body).digest('base64')}`)
    .join(' ');
}
