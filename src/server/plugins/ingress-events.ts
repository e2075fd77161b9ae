/**
 * @module server/plugins/ingress-events
 * The events of one trigger route:
 * - `junction:ingress:start` and `:end` (tracing): one pair per request, from
 *   the moment it arrives (before auth) to the moment its answer is sent. A
 *   subscriber to the start may put its own trace context (the ingress span's)
 *   on the event; the route stores that one with the message.
 * - `junction:ingress:response` (metrics): the status of each answer, who was
 *   answered (as a metric label) and the code of a refusal the route threw.
 *
 * Nobody listening: one check per hook per request. The hooks are fastify's
 * synchronous form, so that a request nobody observes pays no promise for them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { consumerLabel, type Caller } from '../../auth/inbound/inbound.ts';
import { isJunctionError } from '../../core/errors.ts';
import { validTraceparent } from '../../core/trace-context.ts';
import { listening, publish, type JunctionEvents } from '../../observability/channels.ts';

type Hook = (req: FastifyRequest, reply: FastifyReply, done: () => void) => void;
type ErrorHook = (req: FastifyRequest, reply: FastifyReply, error: Error, done: () => void) => void;

/** A route's hooks, and what its handler tells them. */
export interface IngressEvents {
  /** Add it first, so that the ingress span covers auth and rate limiting too. */
  onRequest: Hook;
  onError: ErrorHook;
  onResponse: Hook;
  /** Pass to `HttpRoute.admit`: remembers who the request came from. */
  named(req: FastifyRequest): (caller: Caller) => void;
  /** The trace context to store with this request's messages: the subscriber's, else undefined (the route reads the header itself). */
  traceparent(req: FastifyRequest): string | undefined;
  /** Names the message the request was stored as, for the end event. */
  stored(req: FastifyRequest, messageId: string): void;
}

/** @param worker the engine's worker id: subscribers tell engines that share a process apart by it */
export function ingressEvents(worker: string, flow: string, method: string, route: string): IngressEvents {
  const started = new WeakMap<FastifyRequest, { start: JunctionEvents['ingress:start']; messageId?: string }>();
  const callers = new WeakMap<FastifyRequest, Caller>();
  const codes = new WeakMap<FastifyRequest, string>();
  return {
    onRequest(req, _reply, done) {
      if (listening('ingress:start')) {
        const start: JunctionEvents['ingress:start'] = { worker, flow, method, route, traceparent: validTraceparent(req.headers.traceparent) };
        started.set(req, { start });
        publish('ingress:start', start);
      }
      done();
    },
    onError(req, _reply, error, done) {
      if (listening('ingress:response') && isJunctionError(error)) codes.set(req, error.code);
      done();
    },
    onResponse(req, reply, done) {
      const state = started.get(req);
      if (state !== undefined) {
        started.delete(req);
        publish('ingress:end', { start: state.start, status: reply.statusCode, ...(state.messageId === undefined ? {} : { messageId: state.messageId }) });
      }
      if (listening('ingress:response')) {
        const code = codes.get(req);
        publish('ingress:response', { worker, flow, status: reply.statusCode, consumer: consumerLabel(callers.get(req)), ...(code === undefined ? {} : { code }) });
      }
      done();
    },
    named: (req) => (caller) => {
      if (listening('ingress:response')) callers.set(req, caller);
    },
    traceparent: (req) => started.get(req)?.start.traceparent,
    stored(req, messageId) {
      const state = started.get(req);
      if (state !== undefined) state.messageId = messageId;
    },
  };
}
