/**
 * @module test/helpers/soap
 * The demo ERP of test/fixtures/soap/erp.wsdl served by the soap package's own
 * server (`soap.listen`) on a loopback port, closed when the test ends. It
 * records every envelope as received (headers and raw XML), counts calls per
 * operation, and checks WS-Security UsernameTokens when asked to.
 *
 * ```ts
 * const erp = await startErp(t, { version: '1.2', createOrder: (args, n) => n === 1 ? serverFault('busy') : { orderId: 'E-1', status: 'accepted' } });
 * // point a soap connector at erp.endpoint (the port's path); erp.seen, erp.calls
 * ```
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import soap from 'soap';

export const SOAP_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'soap');

export interface SeenEnvelope {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fault thrown by an operation; the server answers it with `status` (500 unless told). */
export function fault(version: '1.1' | '1.2', code: 'Server' | 'Client', reason: string, status = 500): { Fault: Record<string, unknown> } {
  if (version === '1.1') return { Fault: { faultcode: `soap:${code}`, faultstring: reason, statusCode: status } };
  return { Fault: { Code: { Value: `soap:${code === 'Server' ? 'Receiver' : 'Sender'}` }, Reason: { Text: reason }, statusCode: status } };
}

type Handler = (args: Record<string, unknown>, call: number) => unknown;

export interface ErpOptions {
  version?: '1.1' | '1.2';
  createOrder?: Handler;
  getStock?: Handler;
  /** Required credentials: a UsernameToken with this user and password, as text or digest. */
  credentials?: { username: string; password: string };
}

export interface Erp {
  /** The port's address on this server: http://127.0.0.1:PORT/erp/soap11 (or soap12). */
  readonly endpoint: string;
  readonly seen: SeenEnvelope[];
  readonly calls: Map<string, number>;
  /** What each authentication decided, with the password type sent. */
  readonly auth: { ok: boolean; type: string }[];
}

export async function startErp(t: TestContext, opts: ErpOptions = {}): Promise<Erp> {
  const version = opts.version ?? '1.1';
  const path = version === '1.1' ? '/erp/soap11' : '/erp/soap12';
  const seen: SeenEnvelope[] = [];
  const calls = new Map<string, number>();
  const auth: Erp['auth'] = [];
  /** Counts the call, then answers with the handler's result, or throws the fault it gives. */
  const run = (op: string, handler: Handler) => (args: Record<string, unknown>) => {
    const n = (calls.get(op) ?? 0) + 1;
    calls.set(op, n);
    const result = handler(args, n);
    if (result !== null && typeof result === 'object' && 'Fault' in result) throw result;
    return result;
  };
  const port = {
    CreateOrder: run('CreateOrder', opts.createOrder ?? ((args) => ({ orderId: `ERP-${String(args.reference)}`, status: 'accepted' }))),
    GetStock: run('GetStock', opts.getStock ?? ((args) => ({ sku: args.sku, available: 7 }))),
  };
  const services = { ErpService: { ErpSoap11: port, ErpSoap12: port } };
  const server = createServer();
  const listener = soap.listen(server, {
    path,
    services,
    xml: readFileSync(join(SOAP_FIXTURES, 'erp.wsdl'), 'utf8'),
    forceSoap12Headers: version === '1.2',
  });
  if (opts.credentials) listener.authenticate = (security: unknown) => checkToken(security, opts.credentials!, auth);
  listener.log = (type: string, data: string, req: { headers: IncomingHttpHeaders }) => {
    if (type === 'received') seen.push({ headers: req.headers, body: data });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port: tcp } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${tcp}${path}`, seen, calls, auth };
}

/** The RPC/literal rates service of test/fixtures/soap/rates.wsdl. */
export async function startRates(t: TestContext): Promise<{ endpoint: string; seen: SeenEnvelope[] }> {
  const seen: SeenEnvelope[] = [];
  const server = createServer();
  const listener = soap.listen(server, {
    path: '/rates',
    services: { RatesService: { RatesPort: { GetRate: (args: { from: string; to: string }) => ({ rate: args.from === 'EUR' && args.to === 'USD' ? 1.25 : 1 }) } } },
    xml: readFileSync(join(SOAP_FIXTURES, 'rates.wsdl'), 'utf8'),
  });
  listener.log = (type: string, data: string, req: { headers: IncomingHttpHeaders }) => {
    if (type === 'received') seen.push({ headers: req.headers, body: data });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}/rates`, seen };
}

const text = (v: unknown): string => (v !== null && typeof v === 'object' ? String((v as Record<string, unknown>).$value ?? '') : String(v ?? ''));

/** Checks a UsernameToken the way a WS-Security server does, digest formula included (computed here, not by the soap package). */
function checkToken(security: unknown, want: { username: string; password: string }, log: Erp['auth']): boolean {
  const token = (security as { UsernameToken?: Record<string, unknown> } | undefined)?.UsernameToken;
  if (token === undefined) {
    log.push({ ok: false, type: 'none' });
    return false;
  }
  const password = token.Password as { $value?: string; attributes?: { Type?: string } } | string;
  const type = typeof password === 'object' ? String(password.attributes?.Type ?? '').split('#')[1] ?? '' : 'PasswordText';
  const given = text(password);
  const nonce = text(token.Nonce);
  const created = text(token.Created);
  let ok = text(token.Username) === want.username && nonce !== '' && created !== '';
  if (type === 'PasswordDigest') {
    const digest = createHash('sha1').update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(want.password)])).digest('base64');
    ok &&= given === digest;
  } else {
    ok &&= given === want.password;
  }
  log.push({ ok, type });
  return ok;
}
