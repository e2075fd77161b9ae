/**
 * @module auth/inbound/signature-stripe
 * Stripe's scheme: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`,
 * an HMAC-SHA256 of `t.body` keyed with the endpoint's secret (`whsec_…`, used
 * whole, as text). Several v1 entries arrive while Stripe rolls a secret; any
 * one matching admits the request; v0 (test-mode legacy) entries are ignored.
 *
 * The message id is the event's `id` (`evt_…`), read from the body once the
 * signature has shown the body to be Stripe's, so it is signed too; Stripe
 * keeps it across its retries, and a replay is accepted once. A body that is
 * not a JSON object with a string `id` gets no id (no dedupe from the signature).
 */
import { createHmac } from 'node:crypto';
import { isRecord } from '../../core/record.ts';
import { anyMatch, checkTimestamp, refuse, requireHeader, type SignatureScheme } from './signature-scheme.ts';

export const stripe: SignatureScheme = {
  checkSecret: () => undefined,

  verify(req, secrets) {
    const header = requireHeader(req.headers, 'stripe-signature', 'Stripe-Signature');
    let t: string | undefined;
    const presented: Buffer[] = [];
    for (const part of header.split(',')) {
      const eq = part.indexOf('=');
      const [key, value] = eq < 0 ? [part.trim(), ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      if (key === 't') t ??= value;
      // A v1 that is not 64 hex digits can match nothing; skipping it keeps the others usable.
      else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) presented.push(Buffer.from(value, 'hex'));
    }
    if (t === undefined) throw refuse('the Stripe-Signature header has no t=<timestamp>; expected t=<unix seconds>,v1=<hex>');
    if (presented.length === 0) throw refuse('the Stripe-Signature header holds no v1=<64 hex digits> signature');
    checkTimestamp(t, 'the Stripe-Signature timestamp', req);
    const signed = Buffer.concat([Buffer.from(`${t}.`, 'utf8'), req.body]);
    const expected = secrets.map((s) => createHmac('sha256', s.reveal()).update(signed).digest());
    if (!anyMatch(presented, expected)) throw refuse('no v1 signature in Stripe-Signature matches the body and timestamp (wrong secret, or the body was changed)');
    return eventId(req.body);
  },
};

function eventId(body: Buffer): string | undefined {
  try {
    const event: unknown = JSON.parse(body.toString('utf8'));
    const id = isRecord(event) ? event.id : undefined;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
