/**
 * @module auth/inbound/signature-standard
 * The Standard Webhooks scheme (standardwebhooks.com): `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` (one or more space-separated
 * `v1,<base64>`), an HMAC-SHA256 of `id.timestamp.body` keyed with the
 * base64 secret after `whsec_`. The id is signed, so it is the message's
 * dedupe key: a replay, however fresh its timestamp, is accepted once.
 *
 * The `standardwebhooks` package decodes the secret and computes the
 * signature. Its `verify()` is not used: it fixes the tolerance at 300 s
 * against `Date.now()` (the configured `toleranceMs` and the engine's clock
 * must win), and it parses the body as JSON, which an XML or text trigger's
 * body is not. The package's `sign()` reads a body as UTF-8 text; so does the
 * trigger, so what is verified is what is stored.
 */
import { Webhook } from 'standardwebhooks';
import type { Secret } from '../../core/secret.ts';
import { errors } from '../../core/errors.ts';
import { anyMatch, checkTimestamp, refuse, requireHeader, type SignatureScheme } from './signature-scheme.ts';

export const standardWebhooks: SignatureScheme = {
  checkSecret(value) {
    try {
      new Webhook(value);
      return undefined;
    } catch {
      return 'a Standard Webhooks secret is whsec_ followed by base64 (the bytes of the key)';
    }
  },

  verify(req, secrets) {
    const id = requireHeader(req.headers, 'webhook-id', 'webhook-id');
    const timestamp = requireHeader(req.headers, 'webhook-timestamp', 'webhook-timestamp');
    const signatures = requireHeader(req.headers, 'webhook-signature', 'webhook-signature');
    const ts = checkTimestamp(timestamp, 'the webhook-timestamp', req);
    // Other versions (v1a: asymmetric keys) may sit beside v1; they are skipped, as the spec says.
    const presented = signatures
      .split(' ')
      .filter((s) => s.startsWith('v1,'))
      .map((s) => Buffer.from(s.slice(3), 'utf8'));
    if (presented.length === 0) throw refuse('the webhook-signature holds no v1 signature; expected space-separated v1,<base64>');
    const payload = req.body.toString('utf8');
    const expected = secrets.map((s) => Buffer.from(webhookFor(s).sign(id, new Date(ts * 1000), payload).slice(3), 'utf8'));
    if (!anyMatch(presented, expected)) throw refuse('no signature in webhook-signature matches the body, id and timestamp (wrong secret, or the body was changed)');
    return id;
  },
};

// Decoding the key costs more than the HMAC, so it is done once per secret, and again when a secret that follows its file changes.
const webhooks = new WeakMap<Secret, { value: string; webhook: Webhook }>();

function webhookFor(secret: Secret): Webhook {
  const value = secret.reveal();
  const held = webhooks.get(secret);
  if (held?.value === value) return held.webhook;
  let webhook: Webhook;
  try {
    webhook = new Webhook(value);
  } catch {
    // Checked at load; only a secret file rewritten since can get here, and that is not the caller's fault.
    throw errors.INTERNAL.create(['the Standard Webhooks signing secret is no longer whsec_ followed by base64']);
  }
  webhooks.set(secret, { value, webhook });
  return webhook;
}
