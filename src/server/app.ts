/**
 * @module server/app
 * The fastify application: triggers, health, the admin API, and RFC 9457 answers for every
 * refusal (bad JSON, wrong content type, too large, unknown path).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import type { HttpRoute } from '../triggers/http-route.ts';
import type { Ingest } from '../triggers/ingest.ts';
import type { ResponseHub } from '../runtime/responses.ts';
import { registerAdminRoutes, type AdminOptions } from './plugins/admin.ts';
import { registerHealthRoutes } from './plugins/health.ts';
import { registerMetricsRoute, type MetricsExposition } from './plugins/metrics.ts';
import { registerTriggerRoutes } from './plugins/triggers.ts';
import { registerUiRoutes } from './plugins/ui.ts';
import { createOutageLog } from './outage-log.ts';
import { problemFor, sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes as received (absent for streamed uploads). */
    rawBody?: Buffer;
  }
}

export interface AppOptions {
  logger: Logger;
  clock: Clock;
  store: Store;
  triggers: HttpRoute[];
  responses: ResponseHub;
  ingest: Ingest;
  maxBodyBytes: number;
  /** False while draining: triggers and /readyz answer 503. */
  accepting: () => boolean;
  /** The Retry-After of those 503s. */
  drainRetryAfterMs: number;
  workersRunning: () => boolean;
  /** The admin API's view of the engine; the store is the one above. */
  admin: Omit<AdminOptions, 'store' | 'logger'>;
  /** The engine's worker id: names this engine in the events its routes publish. */
  worker: string;
  /** Served at `/metrics` (no token); absent: no such route (disabled, or on a port of its own). */
  metrics?: MetricsExposition | undefined;
}

/** JSON, and the `+json` structured-syntax suffix (RFC 6839) such as application/cloudevents+json. */
const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json(?:\s*;.*)?$/i;
/** Bodies kept as text: XML (with `+xml`), CSV and plain text. Each trigger says which kinds it takes. */
const TEXT_TYPES = /^(?:application\/(?:[\w.+-]+\+)?xml|text\/xml|text\/csv|text\/plain)(?:\s*;.*)?$/i;

export function buildApp(opts: AppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // One log line per request would cost more than the request itself at ingest rates.
    logController: new LogController({ disableRequestLogging: true }),
    // Nor a child logger per request (request ids are off): errors are logged with their request's URL.
    childLoggerFactory: (logger) => logger,
    bodyLimit: opts.maxBodyBytes,
    // Our own ids are in the answers; fastify's request ids are only for its logs.
    requestIdHeader: false,
    // Not fastify's own 503 (plain JSON) once close() has begun: the routes answer a problem with Retry-After themselves.
    return503OnClosing: false,
    // A sender's URL may end in a slash the config does not (or the other way round): one trigger either way.
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Fastify's own JSON parser says only "not valid JSON"; callers deserve the position.
  // Both keep the exact bytes on the request: a webhook signature is over those, not over a re-serialisation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (req, raw, done) => {
    req.rawBody = raw as Buffer;
    try {
      done(null, JSON.parse(req.rawBody.toString('utf8')));
    } catch (e) {
      done(errors.INPUT_MALFORMED.create([(e as Error).message]), undefined);
    }
  });
  app.addContentTypeParser(TEXT_TYPES, { parseAs: 'buffer' }, (req, raw, done) => {
    req.rawBody = raw as Buffer;
    done(null, req.rawBody.toString('utf8'));
  });

  // Once the engine stops accepting, every answer ends its connection. A keep-alive connection that is busy
  // when the server closes is not closed with the idle ones: it would hold close(), and the engine's stop, for
  // the idle timeout after its answer (72 s), past any orchestrator's grace period.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (!opts.accepting()) reply.header('connection', 'close');
    done(null, payload);
  });

  const outage = createOutageLog(opts.logger, opts.clock);
  app.setErrorHandler((err, req, reply) => {
    const problem = problemFor(err, {
      bodyLimit: req.routeOptions.bodyLimit ?? opts.maxBodyBytes,
      contentType: req.headers['content-type'],
      accepts: (req.routeOptions.config as { accepts?: string[] } | undefined)?.accepts ?? ['application/json'],
    });
    if (problem.code === errors.STORE_UNAVAILABLE.code) outage.refused(err, req.routeOptions.url ?? req.url.split('?')[0]!);
    else if (problem.status === undefined || problem.status >= 500) req.log.error({ err }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, errors.NOT_FOUND.create([req.method, req.url.split('?')[0]])));

  registerHealthRoutes(app, { outage, store: opts.store, workersRunning: opts.workersRunning, accepting: opts.accepting, drainRetryAfterMs: opts.drainRetryAfterMs });
  registerAdminRoutes(app, { ...opts.admin, store: opts.store, logger: opts.logger });
  if (opts.metrics) registerMetricsRoute(app, opts.metrics);
  registerUiRoutes(app);
  registerTriggerRoutes(app, {
    triggers: opts.triggers,
    responses: opts.responses,
    ingest: opts.ingest,
    clock: opts.clock,
    defaultBodyLimit: opts.maxBodyBytes,
    accepting: opts.accepting,
    drainRetryAfterMs: opts.drainRetryAfterMs,
    worker: opts.worker,
  });
  return app;
}
