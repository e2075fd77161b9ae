/**
 * @module auth/inbound/signature-github
 * GitHub's scheme: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the
 * body keyed with the webhook's secret as text. The message id is
 * `X-GitHub-Delivery`, which GitHub keeps when it redelivers, so a
 * redelivery is accepted once. That header is not signed and GitHub sends no
 * timestamp: the signature shows who wrote the body, not that the request is
 * fresh, and a captured request sent again under a new delivery id is
 * accepted again.
 */
import { createHmac } from 'node:crypto';
import { anyMatch, optionalHeader, refuse, requireHeader, type SignatureScheme } from './signature-scheme.ts';

const FORMAT = /^sha256=([0-9a-f]{64})$/i;

export const github: SignatureScheme = {
  checkSecret: () => undefined,

  verify(req, secrets) {
    const header = requireHeader(req.headers, 'x-hub-signature-256', 'X-Hub-Signature-256');
    const hex = FORMAT.exec(header)?.[1];
    if (hex === undefined) throw refuse('the X-Hub-Signature-256 header is not sha256=<64 hex digits>');
    const expected = secrets.map((s) => createHmac('sha256', s.reveal()).update(req.body).digest());
    if (!anyMatch([Buffer.from(hex, 'hex')], expected)) throw refuse('the X-Hub-Signature-256 does not match the body (wrong secret, or the body was changed)');
    return optionalHeader(req.headers, 'x-github-delivery');
  },
};
