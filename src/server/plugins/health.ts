/**
 * @module server/plugins/health
 * `/healthz`: the process answers. `/readyz`: the node takes messages (it is
 * not draining), the store answers a ping within a bound (PostgreSQL: `SELECT 1`
 * through the pool, so a database that went away, or a pool with no connection
 * free, says not ready) and workers run. Neither needs a token, so
 * that orchestrators can probe them.
 */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../core/errors.ts';
import type { OutageLog } from '../outage-log.ts';
import type { Store } from '../../store/store.ts';
import { sendProblem, shuttingDown, STORE_RETRY_AFTER_MS } from '../problem.ts';

export interface HealthOptions {
  store: Store;
  /** Where a ping that failed is logged, with its cause. */
  outage: OutageLog;
  workersRunning: () => boolean;
  /** False while draining: a load balancer sends new work elsewhere. */
  accepting: () => boolean;
  drainRetryAfterMs: number;
}

/**
 * A ping that takes longer says not ready: a probe must not hang on a database
 * that does not answer. Orchestrators give a probe a second or a few; a store
 * slower than this is not one to send work to.
 */
const PING_TIMEOUT_MS = 2000;

export function registerHealthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!opts.accepting()) return sendProblem(reply, shuttingDown(opts.drainRetryAfterMs));
    if (!opts.workersRunning()) return sendProblem(reply, errors.UNAVAILABLE.create(['workers are not running']));
    let timer: NodeJS.Timeout | undefined;
    try {
      // The ping goes on if it is late; a pool waiting for a connection to a gone server gives up by itself.
      await Promise.race([
        opts.store.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(errors.STORE_UNAVAILABLE.create([`no answer within ${PING_TIMEOUT_MS}ms`])), PING_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      // Ready again as soon as a ping answers: nothing is remembered between probes.
      // The cause names the database; the probe needs no token, so it goes to the log only.
      opts.outage.refused(e, '/readyz');
      return sendProblem(reply, errors.UNAVAILABLE.create(['the store does not answer (the cause is in the log)'], { retryAfterMs: STORE_RETRY_AFTER_MS }));
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ready' };
  });
}
