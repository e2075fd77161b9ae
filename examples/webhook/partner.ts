/**
 * @module examples/webhook/partner
 * A demo partner that receives Junction's webhooks as a real one would: it
 * verifies each delivery with the `standardwebhooks` package (refusing a bad
 * signature with 401), dedupes on `webhook-id`, prints what it got, and lists
 * it at `GET /received`. An order with `"flaky": true` is answered 503 on its
 * first attempt, to show a retry keeping its webhook-id.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One delivery as the partner saw it. */
export interface Received {
  webhookId: string;
  timestamp: number;
  verified: boolean;
  status: number;
  /** Set when the webhook-id was seen (and accepted) before. */
  duplicate: boolean;
  body: unknown;
}

export interface Partner {
  /** Where Junction delivers, e.g. http://127.0.0.1:4040/hooks/junction. */
  readonly endpoint: string;
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** @param secret the partner's signing secret (whsec_…): one of the secrets the connector signs with */
export async function startPartner(opts: { secret: string; port?: number; log?: (line: string) => void }): Promise<Partner> {
  const wh = new Webhook(opts.secret);
  const received: Received[] = [];
  const accepted = new Set<string>();
  const failedOnce = new Set<string>();
  const log = opts.log ?? ((line: string) => console.log(line));

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/received') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      return;
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/hooks/junction') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = header(req.headers, 'webhook-id');
      let body: unknown;
      let verified = true;
      try {
        // Verifies the signature over the exact bytes and refuses a timestamp more than 5 minutes off.
        body = wh.verify(raw, req.headers as Record<string, string>);
      } catch (e) {
        verified = false;
        log(`  partner: refused ${id}: ${(e as Error).message}`);
      }
      const flaky = verified && isFlaky(body) && !failedOnce.has(id);
      if (flaky) failedOnce.add(id);
      const status = !verified ? 401 : flaky ? 503 : 200;
      const duplicate = status === 200 && accepted.has(id);
      if (status === 200) accepted.add(id);
      received.push({ webhookId: id, timestamp: Number(header(req.headers, 'webhook-timestamp')), verified, status, duplicate, body: body ?? raw });
      if (verified) log(`  partner: ${status} ${id} at ${header(req.headers, 'webhook-timestamp')}${duplicate ? ' (duplicate, ignored)' : ''}: ${raw}`);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ received: status === 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint: `${url}/hooks/junction`,
    url,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** True for an envelope whose data, or a body, says `"flaky": true`. */
function isFlaky(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { data?: { flaky?: unknown }; flaky?: unknown };
  return b.flaky === true || b.data?.flaky === true;
}
