/**
 * @module server/plugins/health
 * `/healthz`: the process answers. `/readyz`: the node takes messages (it is
 * not draining), the store answers and workers run. Neither needs a token, so
 * that orchestrators can probe them.
 */
import type { FastifyInstance } from 'fastify';
import { coerceError, errors } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { sendProblem, shuttingDown } from '../problem.ts';

export interface HealthOptions {
  store: Store;
  workersRunning: () => boolean;
  /** False while draining: a load balancer sends new work elsewhere. */
  accepting: () => boolean;
  drainRetryAfterMs: number;
}

export function registerHealthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!opts.accepting()) return sendProblem(reply, shuttingDown(opts.drainRetryAfterMs));
    if (!opts.workersRunning()) return sendProblem(reply, errors.UNAVAILABLE.create(['workers are not running']));
    try {
      await opts.store.ping();
    } catch (e) {
      return sendProblem(reply, errors.UNAVAILABLE.create([`store does not answer: ${coerceError(e).message}`]));
    }
    return { status: 'ready' };
  });
}
