/**
 * @module server/plugins/ingress-events
 * The events of a trigger route (`junction:ingress:start` and `:end`), for
 * tracing: one pair per request, from the moment it arrives (before auth) to
 * the moment its answer is sent, whatever the answer. A subscriber to the start
 * may put its own trace context (the ingress span's) on the event; the route
 * stores that one with the message. Nobody listening: one check per request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { validTraceparent } from '../../core/trace-context.ts';
import { listening, publish, type JunctionEvents } from '../../observability/channels.ts';

export interface IngressEvents {
  /** Route hooks: add them first, so that the span covers auth and rate limiting too. */
  onRequest(req: FastifyRequest): void;
  onResponse(req: FastifyRequest, reply: FastifyReply): void;
  /** The trace context to store with this request's messages: the subscriber's, else undefined (the route reads the header itself). */
  traceparent(req: FastifyRequest): string | undefined;
  /** Names the message the request was stored as, for the end event. */
  stored(req: FastifyRequest, messageId: string): void;
}

/** @param worker the engine's worker id: subscribers tell engines that share a process apart by it */
export function ingressEvents(worker: string, flow: string, method: string, route: string): IngressEvents {
  const started = new WeakMap<FastifyRequest, { start: JunctionEvents['ingress:start']; messageId?: string }>();
  return {
    onRequest(req) {
      if (!listening('ingress:start')) return;
      const start: JunctionEvents['ingress:start'] = { worker, flow, method, route, traceparent: validTraceparent(req.headers.traceparent) };
      started.set(req, { start });
      publish('ingress:start', start);
    },
    onResponse(req, reply) {
      const state = started.get(req);
      if (state === undefined) return;
      started.delete(req);
      publish('ingress:end', { start: state.start, status: reply.statusCode, ...(state.messageId === undefined ? {} : { messageId: state.messageId }) });
    },
    traceparent: (req) => started.get(req)?.start.traceparent,
    stored(req, messageId) {
      const state = started.get(req);
      if (state !== undefined) state.messageId = messageId;
    },
  };
}
