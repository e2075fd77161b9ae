/**
 * @module server/plugins/triggers
 * One route per HTTP trigger. The answer is `202 {id}` only after the message is
 * committed; a dedupe key seen before answers with the first message's id.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InboundRequest } from '../../auth/inbound/inbound.ts';
import type { Clock } from '../../core/clock.ts';
import { errors } from '../../core/errors.ts';
import { CONTENT_TYPES, mediaKind } from '../../core/media.ts';
import type { Admission, HttpRoute } from '../../triggers/http-route.ts';
import type { Ingest } from '../../triggers/ingest.ts';
import { sendProblem, shuttingDown, unsupportedType } from '../problem.ts';
import { ingressEvents } from './ingress-events.ts';
import type { ResponseHub, Settled } from '../../runtime/responses.ts';

export interface TriggerRoutesOptions {
  triggers: HttpRoute[];
  /** Answers of flows with a respond step. */
  responses: ResponseHub;
  ingest: Ingest;
  clock: Clock;
  defaultBodyLimit: number;
  /** False while shutting down: new messages are refused with 503. */
  accepting: () => boolean;
  /** The Retry-After of that 503: how long the drain may last. */
  drainRetryAfterMs: number;
  /** The engine's worker id: names this engine in its routes' ingress events (several may share a process). */
  worker: string;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function registerTriggerRoutes(app: FastifyInstance, opts: TriggerRoutesOptions): void {
  for (const trigger of opts.triggers) {
    const { path, method, accept } = trigger.config;
    if (trigger.config.records) {
      registerRecordsRoute(app, trigger, opts);
      registerOtherMethods(app, path, method);
      continue;
    }
    const accepts = accept.map((kind) => CONTENT_TYPES[kind].split(';')[0]!);
    // Credentials that are headers only are checked before the body is read: a caller
    // who is not admitted makes the server buffer and parse nothing, and learns nothing
    // (not even which types are taken). A signature is over the body, so it waits for it.
    const admitsBeforeBody = trigger.config.auth?.signature === undefined;
    const admissions = new WeakMap<FastifyRequest, Admission>();
    const events = ingressEvents(opts.worker, trigger.flow, method, path);
    const admit = async (req: FastifyRequest): Promise<void> => {
      if (opts.accepting()) admissions.set(req, await trigger.admit(inbound(req), events.named(req)));
    };
    app.route({
      method,
      url: path,
      bodyLimit: trigger.config.maxBodyBytes ?? opts.defaultBodyLimit,
      config: { accepts },
      onRequest: [events.onRequest, ...(admitsBeforeBody ? [admit] : [])],
      onError: events.onError,
      onResponse: events.onResponse,
      async handler(req, reply) {
        if (!opts.accepting()) return sendProblem(reply, shuttingDown(opts.drainRetryAfterMs));
        const { caller, headers: admitted } = admissions.get(req) ?? (await trigger.admit(inbound(req), events.named(req)));
        reply.headers(admitted);
        const kind = mediaKind(req.headers['content-type']);
        if (kind === undefined || !accept.includes(kind)) return sendProblem(reply, unsupportedType(req.headers['content-type'], accepts));
        const msg = await trigger.toMessage(req, caller, opts.clock.now(), events.traceparent(req));
        const [result] = await opts.ingest([msg]);
        if (!result) throw errors.INTERNAL.create(['the store returned no result']);
        events.stored(req, result.id);
        if (result.duplicate) reply.header('idempotent-replayed', 'true');
        // A duplicate's answer was given to its first sender; this one learns the id.
        if (trigger.respondTimeoutMs === undefined || result.duplicate) {
          return reply.code(202).send({ id: result.id, duplicate: result.duplicate });
        }
        return answerFromFlow(reply, result.id, await opts.responses.wait(result.id, trigger.respondTimeoutMs), trigger.respondTimeoutMs);
      },
    });
    registerOtherMethods(app, path, method);
  }
}

/** The synchronous answer of a flow with a respond step: its response, why it failed, or that it is late. */
function answerFromFlow(reply: FastifyReply, id: string, settled: Settled | undefined, timeoutMs: number): FastifyReply {
  if (!settled) return sendProblem(reply, errors.RESPOND_TIMEOUT.create([timeoutMs], { details: { id } }));
  if (settled.kind === 'failed') {
    const e = settled.error;
    // A 4xx is the caller's only when its own input was at fault (validation); a downstream refusal is a 502.
    const status = e.family === 'input' && e.status !== undefined && e.status < 500 ? e.status : 502;
    return sendProblem(reply, errors.FLOW_FAILED.create([e.message], { status, cause: e, details: { id, cause: e.code } }));
  }
  const { status, headers, body } = settled.response;
  reply.code(status).headers(headers).header('junction-message-id', id);
  if (typeof body === 'string' && headers['content-type']) return reply.send(body);
  if (!headers['content-type']) reply.type('application/json');
  return reply.send(JSON.stringify(body ?? null));
}

function inbound(req: FastifyRequest): InboundRequest {
  return { method: req.method, url: req.url, headers: req.headers, rawBody: req.rawBody, ip: req.ip };
}

function registerOtherMethods(app: FastifyInstance, path: string, method: string): void {
  app.route({
    method: ALL_METHODS.filter((m) => m !== method),
    url: path,
    handler: (req, reply) => {
      reply.header('allow', method);
      return sendProblem(reply, errors.METHOD_NOT_ALLOWED.create([req.method, path, method]));
    },
  });
}

/**
 * An upload split into records: the body is handed over as a stream (in a scope
 * of its own, so no other route's CSV body is streamed) and never buffered whole.
 */
function registerRecordsRoute(app: FastifyInstance, trigger: HttpRoute, opts: TriggerRoutesOptions): void {
  const { path, method } = trigger.config;
  const events = ingressEvents(opts.worker, trigger.flow, method, path);
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(/^text\/csv(?:\s*;.*)?$/i, (_req, payload, done) => done(null, payload));
    scope.route({
      method,
      url: path,
      config: { accepts: ['text/csv'] },
      onRequest: events.onRequest,
      onError: events.onError,
      onResponse: events.onResponse,
      async handler(req, reply) {
        if (!opts.accepting()) return sendProblem(reply, shuttingDown(opts.drainRetryAfterMs));
        const { caller, headers: admitted } = await trigger.admit(inbound(req), events.named(req));
        reply.headers(admitted);
        // No body and no content type: fastify runs no parser, so there is no stream to read.
        if (!(req.body instanceof Readable)) return sendProblem(reply, unsupportedType(req.headers['content-type'], ['text/csv']));
        const result = await trigger.ingestRecords({ headers: req.headers, url: req.url, body: req.body }, caller, opts.clock.now(), opts.ingest, events.traceparent(req));
        return reply.code(202).send({ count: result.count, created: result.created, duplicates: result.count - result.created });
      },
    });
  });
}
