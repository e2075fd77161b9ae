/**
 * @module steps/deliver
 * Sends the message to a connector. The `Idempotency-Key` header is the rendered
 * `idempotencyKey` template, or the message's own key, so it is the same on every
 * attempt and every replay. A response that is not a success becomes the error
 * that decides the outcome (retry or dead letter).
 */
import { z } from 'zod';
import { compileDelivery, connectorStepOptions, idempotencyKeyOption, requestOption, SEND_USE } from './request.ts';
import { defineStep } from './step.ts';

export const deliverOptions = connectorStepOptions({
  connector: z.string().min(1).describe('Name of a connector under `connectors`.'),
  request: requestOption(SEND_USE, 'The request sent to the connector; its keys are the connector type\'s (rest: method, path, headers, query).'),
  idempotencyKey: idempotencyKeyOption,
})
  .describe('Send the body to a connector: JSON as application/json, XML/CSV/text under the message\'s content type.');

export const deliverStep = defineStep({
  name: 'deliver',
  summary: 'Send the message to a connector, with its idempotency key.',
  options: deliverOptions,
  create(options, deps) {
    const delivery = compileDelivery('deliver', options, Object.keys(deliverOptions.shape), deps);

    return async function deliver(msg, ctx) {
      await delivery.send(msg, ctx);
      return msg;
    };
  },
});
