/**
 * @module server/plugins/metrics
 * `GET /metrics`: Prometheus's text exposition of the engine's metrics. It
 * needs no token, as `/healthz` does not: scrapers are configured with a URL,
 * and what it shows are counts by flow and connector names, never a payload
 * or a secret.
 */
import type { FastifyInstance } from 'fastify';

/** What `/metrics` serves: observability/metrics's `Metrics` (the server does not need more of it). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsExposition): void {
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
