/**
 * @module examples/order-pipeline/systems
 * Demo systems on loopback for the order pipeline: a CRM's accounts (for
 * enrichment), inventory reservations (honouring Idempotency-Key) and pricing.
 */
import { createServer, type Server } from 'node:http';

export interface DemoSystems {
  readonly url: string;
  readonly reservations: Map<string, unknown>;
  /** How many account lookups arrived (the enrich cache keeps this low). */
  readonly accountLookups: () => number;
  close(): Promise<void>;
}

const ACCOUNTS: Record<string, { tier: string }> = { 'ada@example.com': { tier: 'gold' } };
const UNIT_PRICES: Record<string, number> = { 'SKU-1': 12.5, 'SKU-2': 4 };

export async function startDemoSystems(opts: { port: number; log?: (line: string) => void }): Promise<DemoSystems> {
  const reservations = new Map<string, unknown>();
  let lookups = 0;
  const log = opts.log ?? ((line: string) => console.log(line));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://systems');
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const account = /^\/accounts\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && account) {
        lookups++;
        const found = ACCOUNTS[decodeURIComponent(account[1]!)];
        return found ? reply(200, found) : reply(404, { error: 'no such account' });
      }
      if (url.pathname === '/inventory/reservations') {
        if (req.method === 'GET') return reply(200, Object.fromEntries(reservations));
        const key = String(req.headers['idempotency-key'] ?? '');
        if (!reservations.has(key)) {
          reservations.set(key, JSON.parse(Buffer.concat(chunks).toString('utf8')));
          log(`[inventory] reserved ${key}`);
        }
        return reply(201, { reserved: key });
      }
      if (req.method === 'POST' && url.pathname === '/pricing/quotes') {
        const { sku, qty } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sku: string; qty: number };
        const unit = UNIT_PRICES[sku];
        return unit === undefined ? reply(422, { error: `unknown sku ${sku}` }) : reply(200, { sku, qty, unitPrice: unit, price: unit * qty });
      }
      return reply(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}`,
    reservations,
    accountLookups: () => lookups,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
