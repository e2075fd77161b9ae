/**
 * @module server/plugins/ingress-events
 * The `junction:ingress:response` event of one trigger route: the status of
 * each answer, who was answered (as a metric label) and the code of a refusal
 * the route threw. With nobody listening it costs one check per request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { consumerLabel, type Caller } from '../../auth/inbound/inbound.ts';
import { isJunctionError } from '../../core/errors.ts';
import { listening, publish } from '../../observability/channels.ts';

/** A route's hooks and the admission callback that feed its events. */
export interface IngressEvents {
  /** Pass to `HttpRoute.admit`: remembers who the request came from. */
  named(req: FastifyRequest): (caller: Caller) => void;
  onError(req: FastifyRequest, reply: FastifyReply, error: Error): Promise<void>;
  onResponse(req: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** @param worker the engine's worker id, which names the engine in its events */
export function ingressEvents(flow: string, worker: string): IngressEvents {
  const callers = new WeakMap<FastifyRequest, Caller>();
  const codes = new WeakMap<FastifyRequest, string>();
  return {
    named: (req) => (caller) => {
      if (listening('ingress:response')) callers.set(req, caller);
    },
    async onError(req, _reply, error) {
      if (listening('ingress:response') && isJunctionError(error)) codes.set(req, error.code);
    },
    async onResponse(req, reply) {
      if (!listening('ingress:response')) return;
      const code = codes.get(req);
      publish('ingress:response', { worker, flow, status: reply.statusCode, consumer: consumerLabel(callers.get(req)), ...(code === undefined ? {} : { code }) });
    },
  };
}
