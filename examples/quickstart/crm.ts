/**
 * @module examples/quickstart/crm
 * A small demo "CRM" on loopback for the quickstart. It stores the orders it
 * receives, honours Idempotency-Key (a repeated key is answered but not stored
 * twice), checks the API key, and can be told to fail:
 *
 *   curl -X POST 'http://127.0.0.1:4010/_fail?status=503'   # every order fails with 503
 *   curl -X POST 'http://127.0.0.1:4010/_fail?status=400'   # every order is rejected
 *   curl -X POST 'http://127.0.0.1:4010/_fail?status=off'   # back to normal
 *   curl http://127.0.0.1:4010/orders                        # what arrived
 */
import { createServer, type Server } from 'node:http';

export interface DemoCrm {
  readonly url: string;
  readonly orders: Map<string, unknown>;
  close(): Promise<void>;
}

export async function startDemoCrm(opts: { port: number; host?: string; apiKey: string; log?: (line: string) => void }): Promise<DemoCrm> {
  const orders = new Map<string, unknown>();
  let failWith: number | undefined;
  const log = opts.log ?? ((line: string) => console.log(line));

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://crm');
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method === 'POST' && url.pathname === '/_fail') {
        const s = url.searchParams.get('status');
        failWith = s === null || s === 'off' ? undefined : Number(s);
        log(`[crm] failure mode: ${failWith ?? 'off'}`);
        return reply(200, { failWith: failWith ?? null });
      }
      if (req.method === 'GET' && url.pathname === '/orders') return reply(200, Object.fromEntries(orders));
      if (req.method !== 'POST' || url.pathname !== '/orders') return reply(404, { error: 'not found' });
      if (req.headers['x-api-key'] !== opts.apiKey) return reply(401, { error: 'bad api key' });
      if (failWith !== undefined) {
        log(`[crm] answering ${failWith} (failure mode)`);
        return reply(failWith, { error: `demo failure ${failWith}` });
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      if (orders.has(key)) {
        log(`[crm] order ${key} seen before; not stored twice`);
        return reply(200, { duplicate: true });
      }
      orders.set(key, JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      log(`[crm] received order ${key}: ${Buffer.concat(chunks).toString('utf8')}`);
      return reply(201, { stored: key });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    orders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
