/**
 * @module examples/alerts/systems
 * The two demo systems of the alerts example:
 * - a CRM that takes orders (201) until it is told it is down (`POST /outage`
 *   with `{"down": true}`), and then answers every order 503, as a CRM in an
 *   outage would;
 * - an operations endpoint that receives Junction's alert notices as a real one
 *   would: it verifies each with the `standardwebhooks` package (401 when the
 *   signature is wrong), prints its summary, and lists them at `GET /received`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface DemoServer {
  readonly url: string;
  close(): Promise<void>;
}

/** One notice as the operations endpoint saw it. */
export interface Notice {
  webhookId: string;
  verified: boolean;
  /** The notice (rule, status, condition, value, summary…) when verified. */
  body: unknown;
}

export async function startCrm(opts: { port?: number; log?: (line: string) => void } = {}): Promise<DemoServer> {
  const log = opts.log ?? ((line: string) => console.log(line));
  let down = false;
  return listen(opts.port, async (req, res) => {
    const raw = await text(req);
    if (req.method === 'POST' && req.url === '/outage') {
      down = (JSON.parse(raw || '{}') as { down?: unknown }).down === true;
      log(`  crm: ${down ? 'down (every order gets 503)' : 'back up'}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ down }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/orders') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(down ? 503 : 201, { 'content-type': 'application/json' }).end(JSON.stringify(down ? { error: 'maintenance' } : { stored: true }));
  });
}

/** @param secret the signing secret (whsec_…) the ops-hook connector signs with */
export async function startOps(opts: { secret: string; port?: number; log?: (line: string) => void }): Promise<DemoServer & { received: Notice[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const wh = new Webhook(opts.secret);
  const received: Notice[] = [];
  const server = await listen(opts.port, async (req, res) => {
    if (req.method === 'GET' && req.url === '/received') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/alerts') {
      res.writeHead(404).end();
      return;
    }
    const raw = await text(req);
    const webhookId = String(req.headers['webhook-id'] ?? '');
    try {
      const body = wh.verify(raw, req.headers as Record<string, string>) as { summary?: string };
      received.push({ webhookId, verified: true, body });
      log(`  ops: ${body.summary ?? raw}`);
      res.writeHead(204).end();
    } catch (e) {
      received.push({ webhookId, verified: false, body: raw });
      log(`  ops: refused ${webhookId}: ${(e as Error).message}`);
      res.writeHead(401).end();
    }
  });
  return { ...server, received };
}

async function listen(port: number | undefined, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<DemoServer> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => server.listen(port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
