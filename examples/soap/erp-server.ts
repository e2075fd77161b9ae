/**
 * @module examples/soap/erp-server
 * A demo ERP served by the soap package's own server from ./erp.wsdl:
 * CreateOrder and GetStock, over SOAP 1.1, checking a WS-Security
 * UsernameToken (text or digest). It keeps the orders it took, shown at
 * GET /orders.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import soap from 'soap';

export interface DemoErp {
  readonly url: string;
  close(): Promise<void>;
}

const text = (v: unknown): string => (v !== null && typeof v === 'object' ? String((v as Record<string, unknown>).$value ?? '') : String(v ?? ''));

export async function startDemoErp(opts: { port: number; username: string; password: string }): Promise<DemoErp> {
  const orders = new Map<string, { orderId: string; sku: string; quantity: number }>();
  const stock: Record<string, number> = { 'SKU-1': 40, 'SKU-2': 0 };
  const server = createServer((req, res) => {
    // Everything but the SOAP path: the orders taken so far, as JSON.
    if (req.method === 'GET' && req.url === '/orders') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(orders)));
    res.writeHead(404).end();
  });
  const port = {
    CreateOrder(args: { reference: string; sku: string; quantity: number }) {
      if (!(args.sku in stock)) throw { Fault: { faultcode: 'soap:Client', faultstring: `Unknown SKU ${args.sku}`, statusCode: 500 } };
      // The same reference twice is the same order: the ERP is idempotent on it.
      const order = orders.get(args.reference) ?? { orderId: `ERP-${orders.size + 1}`, sku: args.sku, quantity: Number(args.quantity) };
      orders.set(args.reference, order);
      return { orderId: order.orderId, status: 'accepted' };
    },
    GetStock(args: { sku: string }) {
      return { sku: args.sku, available: stock[args.sku] ?? 0 };
    },
  };
  const listener = soap.listen(server, {
    path: '/erp/soap11',
    services: { ErpService: { ErpSoap11: port, ErpSoap12: port } },
    xml: readFileSync(new URL('./erp.wsdl', import.meta.url), 'utf8'),
  });
  listener.authenticate = (security: unknown) => {
    const token = (security as { UsernameToken?: Record<string, unknown> } | undefined)?.UsernameToken;
    if (token === undefined || text(token.Username) !== opts.username) return false;
    const password = token.Password as { $value?: string; attributes?: { Type?: string } };
    if (!String(password?.attributes?.Type ?? '').endsWith('#PasswordDigest')) return text(password) === opts.password;
    const digest = createHash('sha1').update(Buffer.concat([Buffer.from(text(token.Nonce), 'base64'), Buffer.from(text(token.Created)), Buffer.from(opts.password)])).digest('base64');
    return text(password) === digest;
  };
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
