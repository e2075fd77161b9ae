/**
 * @module bench/lib/baselines/relay
 * The relay baseline: a bare `node:http` server that receives an order, maps it
 * (the quickstart's map: orderId, email, total) and forwards it with an undici
 * Pool to the sink, with `Idempotency-Key: order-<orderId>`. No store, no
 * retries: a forward that fails answers 502 and the message is gone.
 *
 * - `--map jsonata`: the three fields are JSONata expressions compiled once, as
 *   Junction's map step does; `--map js`: the same mapping written in plain JS.
 * - `--ack after`: 202 once the sink answered 2xx (a synchronous relay);
 *   `--ack before`: 202 at once and the forward runs in the background
 *   (fire-and-forget, the fastest bare relay).
 * - `--connections N`: sockets to the sink (Junction's connector default is 16).
 *
 * Run as a child: `node bench/lib/baselines/relay.ts --sink URL [--map jsonata|js] [--ack after|before]`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import jsonata from 'jsonata';
import { Pool } from 'undici';
import { announce, exitWithParent } from '../child.ts';

const { values } = parseArgs({
  options: {
    sink: { type: 'string' },
    map: { type: 'string', default: 'jsonata' },
    ack: { type: 'string', default: 'after' },
    connections: { type: 'string', default: '16' },
  },
});
if (!values.sink) throw new Error('--sink URL is required');
if (values.map !== 'jsonata' && values.map !== 'js') throw new Error('--map is jsonata or js');
if (values.ack !== 'after' && values.ack !== 'before') throw new Error('--ack is after or before');
const ackBefore = values.ack === 'before';

interface Order {
  id: string;
  customer: { email: string };
  items: { price: number; qty: number }[];
}
interface Mapped {
  orderId: unknown;
  email: unknown;
  total: unknown;
}

/** The quickstart's map (examples/quickstart/junction.yaml), field by field. */
const FIELDS = { orderId: 'id', email: '$lowercase(customer.email)', total: '$sum(items.(price * qty))' } as const;
const compiled = Object.entries(FIELDS).map(([name, source]) => [name, jsonata(source)] as const);

async function mapJsonata(input: unknown): Promise<Mapped> {
  const out: Record<string, unknown> = {};
  for (const [name, expr] of compiled) out[name] = await expr.evaluate(input);
  return out as unknown as Mapped;
}

function mapJs(input: unknown): Mapped {
  const o = input as Order;
  let total = 0;
  for (const item of o.items) total += item.price * item.qty;
  return { orderId: o.id, email: o.customer.email.toLowerCase(), total };
}

const pool = new Pool(values.sink, { connections: Number(values.connections), pipelining: 1 });

async function forward(mapped: Mapped): Promise<void> {
  const res = await pool.request({
    path: '/orders',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `order-${String(mapped.orderId)}` },
    body: JSON.stringify(mapped),
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`sink answered ${res.statusCode}`);
}

function answer(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

let lost = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/in') {
    req.resume();
    return answer(res, 404, { error: 'not found' });
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      let mapped: Mapped;
      try {
        const input: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        mapped = values.map === 'js' ? mapJs(input) : await mapJsonata(input);
      } catch (e) {
        return answer(res, 400, { error: (e as Error).message });
      }
      if (ackBefore) {
        answer(res, 202, { orderId: mapped.orderId });
        forward(mapped).catch(() => lost++);
        return;
      }
      try {
        await forward(mapped);
        answer(res, 202, { orderId: mapped.orderId });
      } catch (e) {
        answer(res, 502, { error: (e as Error).message });
      }
    })();
  });
}

const server = createServer({ keepAliveTimeout: 30_000 }, handle);
server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
exitWithParent(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.close();
  if (lost > 0) console.error(`relay baseline: ${lost} forwards failed`);
});
