/**
 * @module test/helpers/webhook-receiver
 * A partner's webhook endpoint on loopback: it verifies every delivery with
 * the `standardwebhooks` package, as a real receiver would, records what it
 * got, and answers from a plan (a status per delivery, then 200), closed when
 * the test ends.
 *
 * ```ts
 * const partner = await startWebhookReceiver(t, SECRET);
 * partner.plan([503, 503]);          // two failures, then 200
 * // … deliver to partner.url; partner.got[i].verified says whether it verified …
 * ```
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { serve, type Served } from './servers.ts';

/** A delivery as the receiver got it. */
export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** True when the signature verified with the receiver's secret. */
  verified: boolean;
  /** Why it did not verify. */
  error?: string;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver extends Served {
  readonly got: Delivery[];
  /**
   * The statuses of the next deliveries, in order; after them every delivery is answered 200.
   * @param opts.retryAfterSec sent as `Retry-After` with each planned failure, so the sender's next attempt
   *   comes at least that much later (and carries a later `webhook-timestamp`)
   */
  plan(statuses: number[], opts?: { retryAfterSec?: number }): void;
  /** Answers every delivery with `status` from now on (until the next plan or `always(200)`). */
  always(status: number): void;
}

/** Two test secrets (whsec_ + base64 of 24 bytes) and a third that neither side should accept. */
export const SECRETS = {
  a: `whsec_${Buffer.from('junction-test-secret-aaa').toString('base64')}`,
  b: `whsec_${Buffer.from('junction-test-secret-bbb').toString('base64')}`,
  c: `whsec_${Buffer.from('junction-test-secret-ccc').toString('base64')}`,
} as const;

export async function startWebhookReceiver(t: TestContext, secret: string): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  const got: Delivery[] = [];
  let planned: number[] = [];
  let fallback = 200;
  let retryAfterSec: number | undefined;
  const served = await serve(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let verified = true;
      let error: string | undefined;
      try {
        // jsonParse false: an XML or text delivery is signed the same way and is not JSON.
        wh.verify(raw, req.headers as Record<string, string>, { jsonParse: false });
      } catch (e) {
        verified = false;
        error = (e as Error).message;
      }
      const next = verified ? planned.shift() : undefined;
      const status = !verified ? 401 : (next ?? fallback);
      got.push({ headers: req.headers, body: raw.toString('utf8'), verified, status, ...(error === undefined ? {} : { error }) });
      const wait = next !== undefined && status >= 400 && retryAfterSec !== undefined ? { 'retry-after': String(retryAfterSec) } : {};
      res.writeHead(status, { 'content-type': 'application/json', ...wait }).end(JSON.stringify({ received: verified }));
    });
  });
  return {
    ...served,
    got,
    plan(statuses, opts = {}) {
      planned = [...statuses];
      retryAfterSec = opts.retryAfterSec;
    },
    always(status) {
      planned = [];
      fallback = status;
    },
  };
}
