/**
 * @module auth/inbound/signature
 * `http.auth.signature`: the sender signs each webhook with a shared secret,
 * and a request is admitted only when its signature matches the exact bytes
 * of its body. Three schemes: Standard Webhooks, GitHub and Stripe (one module
 * each beside this one). Several secrets may be listed at once, any one
 * verifying, so that a secret is rotated with no downtime.
 *
 * Where the scheme gives the message an id the sender keeps across its retries
 * (webhook-id, X-GitHub-Delivery, Stripe's event id), the caller carries it as
 * `messageId`, and the trigger dedupes on it: a replayed webhook is accepted
 * once (202, `duplicate: true`) and nothing new is stored.
 */
import { z } from 'zod';
import { secret } from '../../core/secret-field.ts';
import { consumerName, defineAuthenticator } from './inbound.ts';
import { github } from './signature-github.ts';
import { refuse, type SignatureScheme } from './signature-scheme.ts';
import { standardWebhooks } from './signature-standard.ts';
import { stripe } from './signature-stripe.ts';

export const SIGNATURE_SCHEMES = {
  'standard-webhooks': standardWebhooks,
  github,
  stripe,
} as const satisfies Record<string, SignatureScheme>;

export type SignatureSchemeName = keyof typeof SIGNATURE_SCHEMES;

export const signatureOptions = z
  .strictObject({
    scheme: z
      .enum(Object.keys(SIGNATURE_SCHEMES) as [SignatureSchemeName, ...SignatureSchemeName[]])
      .describe(
        'How the sender signs: standard-webhooks (webhook-id, webhook-timestamp, webhook-signature), github (X-Hub-Signature-256; message id X-GitHub-Delivery) or stripe (Stripe-Signature; message id the event id).',
      ),
    secret: secret.optional().describe('The signing secret; use ${env:NAME} or ${file:path}. standard-webhooks: whsec_ followed by base64. Give this or secrets.'),
    secrets: z
      .array(secret.describe('A signing secret; use ${env:NAME} or ${file:path}.'))
      .min(1, 'list at least one secret')
      .optional()
      .describe('Several signing secrets, any one of which verifies: list the old and the new secret together to rotate one without downtime. Give this or secret.'),
    toleranceMs: z
      .int()
      .min(1000)
      .optional()
      .describe('How far a signed timestamp may be from now (either way), in milliseconds (default 300000), before the request is refused as stale. GitHub sends no timestamp, so it does not apply there.'),
    toleranceSec: z
      .int()
      .min(1)
      .optional()
      .meta({ deprecated: true, replacedBy: 'toleranceMs' })
      .describe('Deprecated: use toleranceMs (the same tolerance in seconds; `junction check` warns).'),
    consumer: consumerName
      .optional()
      .describe('Names the sender in logs, rate limits and meta.consumer; defaults to the scheme.'),
  })
  .superRefine((o, ctx) => {
    if ((o.secret === undefined) === (o.secrets === undefined)) {
      ctx.addIssue({ code: 'custom', path: o.secret === undefined ? [] : ['secrets'], message: 'give either secret or secrets (a list, for rotation), not both' });
      return;
    }
    const scheme = SIGNATURE_SCHEMES[o.scheme];
    const listed = o.secrets ?? [o.secret!];
    for (const [i, s] of listed.entries()) {
      const wrong = scheme.checkSecret(s.reveal());
      if (wrong !== undefined) ctx.addIssue({ code: 'custom', path: o.secrets ? ['secrets', i] : ['secret'], message: wrong });
    }
    if (o.toleranceMs !== undefined && o.toleranceSec !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['toleranceSec'], message: 'give toleranceMs only: toleranceSec is its deprecated form' });
    }
  })
  // Every other duration is in milliseconds; the deprecated seconds are read into them once, here.
  .transform(({ toleranceSec, toleranceMs, ...rest }) => ({ ...rest, toleranceMs: toleranceMs ?? (toleranceSec === undefined ? 300_000 : toleranceSec * 1000) }))
  .describe('Signed webhooks: the request is admitted when its signature matches the body, by any one of the secrets; a replayed message id is accepted once.');

export const signature = defineAuthenticator({
  name: 'signature',
  summary: 'Signed webhooks (Standard Webhooks, GitHub, Stripe): an HMAC of the exact body bytes, timestamps within a tolerance, a replayed id accepted once.',
  options: signatureOptions,
  create(options, { clock }) {
    const scheme = SIGNATURE_SCHEMES[options.scheme];
    const secrets = options.secrets ?? [options.secret!];
    const consumer = options.consumer ?? options.scheme;
    return async (req) => {
      // A records upload is streamed, never held whole; config/check refuses that pairing, this fails closed all the same.
      if (req.rawBody === undefined) throw refuse('the body was not kept, so its signature cannot be checked');
      const nowSec = Math.floor(clock.now() / 1000);
      const messageId = scheme.verify({ headers: req.headers, body: req.rawBody, nowSec, toleranceSec: options.toleranceMs / 1000 }, secrets);
      return messageId === undefined ? { consumer, via: 'signature' } : { consumer, via: 'signature', messageId };
    };
  },
});
