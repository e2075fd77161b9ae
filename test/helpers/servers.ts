/**
 * @module test/helpers/servers
 * Tiny HTTP servers on loopback, port 0, closed when the test ends: for a test
 * whose other side answers in a way of its own (the flaky sink is test/helpers/sink).
 *
 * ```ts
 * const api = await serve(t, (req, res) => res.writeHead(204).end());
 * const quotes = await startRecorder(t, (req, res) => res.end(JSON.stringify({ got: req.body })));
 * // … point a connector at api.url or quotes.url; quotes.seen holds every request …
 * ```
 */
import { createServer, type IncomingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Served {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening; also called when the test ends. */
  close(): Promise<void>;
}

/** Listens with `handler` on a free loopback port until the test ends. */
export async function serve(t: TestContext, handler: RequestListener): Promise<Served> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Its keep-alive connections too: a client still running (an engine that polls this server) would otherwise
  // keep one busy at every close, and the close, the test's hooks and the test file would wait for good.
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  t.after(close);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close };
}

/** A request as a recorder received it, its body whole. */
export interface Seen {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback server that records every request once its body is in, then lets `answer` reply to it. */
export async function startRecorder(t: TestContext, answer: (req: Seen, res: ServerResponse) => void): Promise<Served & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const served = await serve(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      answer(s, res);
    });
  });
  return { ...served, seen };
}
