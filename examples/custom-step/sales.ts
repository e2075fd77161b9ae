/**
 * @module examples/custom-step/sales
 * A tiny demo "sales tool" on loopback that receives scored leads. It keeps what
 * it receives under the Idempotency-Key (a repeated key is answered, not stored
 * twice) and lists it:
 *
 *   curl http://127.0.0.1:4020/leads
 */
import { createServer, type Server } from 'node:http';

export interface DemoSales {
  readonly url: string;
  readonly leads: Map<string, unknown>;
  close(): Promise<void>;
}

export async function startDemoSales(opts: { port: number; host?: string; log?: (line: string) => void }): Promise<DemoSales> {
  const leads = new Map<string, unknown>();
  const log = opts.log ?? ((line: string) => console.log(line));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/leads') return reply(200, Object.fromEntries(leads));
      if (req.method !== 'POST' || req.url !== '/leads') return reply(404, { error: 'not found' });
      const key = String(req.headers['idempotency-key'] ?? '');
      if (leads.has(key)) return reply(200, { duplicate: true });
      const text = Buffer.concat(chunks).toString('utf8');
      leads.set(key, JSON.parse(text || 'null'));
      log(`[sales] received lead ${key}: ${text}`);
      return reply(201, { stored: key });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    leads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
