/**
 * @module steps/call
 * Like deliver (same request options, same idempotency key, the body sent under
 * its content type), but the answer becomes the body for the next steps: JSON
 * parsed when the answer is JSON, else text, and the message's `content-type`
 * header changes with it so later steps know the kind.
 */
import { z } from 'zod';
import { compileDelivery, idempotencyKeyOption, readAnswer, requestOption, SEND_USE } from './request.ts';
import { defineStep } from './step.ts';

export const callOptions = z
  .strictObject({
    connector: z.string().min(1).describe('Name of a connector under `connectors`.'),
    request: requestOption(SEND_USE, 'The request sent to the connector; its keys are the connector type\'s (rest: method, path, headers, query); a GET sends no body.'),
    idempotencyKey: idempotencyKeyOption,
  })
  .describe('Send the body to a connector and continue with its answer as the body (JSON parsed, else text under its content type).');

export const callStep = defineStep({
  name: 'call',
  summary: 'Send the message to a connector; its answer becomes the body.',
  options: callOptions,
  create(options, deps) {
    const delivery = compileDelivery('call', options, deps);

    return async function call(msg, ctx) {
      const res = await delivery.send(msg, ctx);
      const answer = readAnswer(delivery.connector.name, res);
      return { ...msg, body: answer.body, headers: { ...msg.headers, 'content-type': answer.contentType } };
    };
  },
});
