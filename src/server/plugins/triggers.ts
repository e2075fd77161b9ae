/**
 * @module server/plugins/triggers
 * One route per HTTP trigger. The answer is `202 {id}` only after the message is
 * committed; a dedupe key seen before answers with the first message's id.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import { errors } from '../../core/errors.ts';
import { CONTENT_TYPES, mediaKind } from '../../core/media.ts';
import type { HttpTrigger } from '../../triggers/http.ts';
import type { Ingest } from '../../triggers/trigger.ts';
import { sendProblem, unsupportedType } from '../problem.ts';

export interface TriggerRoutesOptions {
  triggers: HttpTrigger[];
  ingest: Ingest;
  clock: Clock;
  defaultBodyLimit: number;
  /** False while shutting down: new messages are refused with 503. */
  accepting: () => boolean;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function registerTriggerRoutes(app: FastifyInstance, opts: TriggerRoutesOptions): void {
  for (const trigger of opts.triggers) {
    const { path, method, accept } = trigger.config;
    const accepts = accept.map((kind) => CONTENT_TYPES[kind].split(';')[0]!);
    app.route({
      method,
      url: path,
      bodyLimit: trigger.config.maxBodyBytes ?? opts.defaultBodyLimit,
      config: { accepts },
      async handler(req, reply) {
        if (!opts.accepting()) return sendProblem(reply, errors.UNAVAILABLE.create(['shutting down']));
        const kind = mediaKind(req.headers['content-type']);
        if (kind === undefined || !accept.includes(kind)) return sendProblem(reply, unsupportedType(req.headers['content-type'], accepts));
        const msg = await trigger.toMessage(req, opts.clock.now());
        const [result] = await opts.ingest([msg]);
        if (!result) throw errors.INTERNAL.create(['the store returned no result']);
        if (result.duplicate) reply.header('idempotent-replayed', 'true');
        return reply.code(202).send({ id: result.id, duplicate: result.duplicate });
      },
    });
    const others = ALL_METHODS.filter((m) => m !== method);
    app.route({
      method: [...others],
      url: path,
      handler: (req, reply) => {
        reply.header('allow', method);
        return sendProblem(reply, errors.METHOD_NOT_ALLOWED.create([req.method, path, method]));
      },
    });
  }
}
