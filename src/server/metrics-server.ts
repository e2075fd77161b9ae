/**
 * @module server/metrics-server
 * `/metrics` on a port of its own (`metrics.port`), so that scrapers reach it
 * on an interface or port that the triggers are not exposed on, or the other
 * way round. A plain node:http server: it has one route and no body to parse.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { coerceError, errors, type JunctionError } from '../core/errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetricsExposition } from './plugins/metrics.ts';
import { toProblem } from './problem.ts';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 (its /metrics is the exposition). */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `host:port`; rejects with JNC_LISTEN_FAILED when it cannot. */
export async function startMetricsServer(metrics: MetricsExposition, opts: { port: number; host: string; logger: Logger }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    void answer(metrics, req, res, opts.logger);
  });
  // Nothing here is worth holding a socket open for: an idle scraper reconnects.
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw errors.LISTEN_FAILED.create([`${opts.host}:${opts.port}`, (e as Error).message], { cause: e });
  }
  const { address, port, family } = server.address() as AddressInfo;
  const url = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(metrics: MetricsExposition, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') return problem(res, errors.NOT_FOUND.create([req.method ?? 'GET', path]));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return problem(res, errors.METHOD_NOT_ALLOWED.create([req.method, path, 'GET']));
  }
  try {
    const text = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch (e) {
    logger.error({ err: coerceError(e) }, 'metrics: rendering failed');
    problem(res, errors.INTERNAL.create(['see the server log']));
  }
}

function problem(res: ServerResponse, err: JunctionError): void {
  const body = JSON.stringify(toProblem(err));
  res.writeHead(err.status ?? 500, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
