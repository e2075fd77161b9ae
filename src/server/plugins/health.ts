/**
 * @module server/plugins/health
 * `/healthz`: the process answers. `/readyz`: the store answers and workers run.
 * Neither needs a token, so that orchestrators can probe them.
 */
import type { FastifyInstance } from 'fastify';
import { coerceError, errors } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { sendProblem } from '../problem.ts';

export function registerHealthRoutes(app: FastifyInstance, opts: { store: Store; workersRunning: () => boolean }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!opts.workersRunning()) return sendProblem(reply, errors.UNAVAILABLE.create(['workers are not running']));
    try {
      await opts.store.ping();
    } catch (e) {
      return sendProblem(reply, errors.UNAVAILABLE.create([`store does not answer: ${coerceError(e).message}`]));
    }
    return { status: 'ready' };
  });
}
