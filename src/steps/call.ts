/**
 * @module steps/call
 * Like deliver (same request options, same idempotency key, the body sent under
 * its content type), but the answer becomes the body for the next steps: JSON
 * parsed when the answer is JSON, else text, and the message's `content-type`
 * header changes with it so later steps know the kind.
 */
import { z } from 'zod';
import { CONTENT_TYPES } from '../core/media.ts';
import { checkPaginateFits, compilePaginate, gatherPages, paginateOptions } from './paginate.ts';
import { compileDelivery, connectorStepOptions, idempotencyKeyOption, requestOption, SEND_USE } from './request.ts';
import { defineStep } from './step.ts';

export const callOptions = connectorStepOptions({
  connector: z.string().min(1).describe('Name of a connector under `connectors`.'),
  request: requestOption(SEND_USE, 'The request sent to the connector; its keys are the connector type\'s (rest: method, path, headers, query); a GET sends no body.'),
  idempotencyKey: idempotencyKeyOption,
  paginate: paginateOptions.optional().describe('Read every page of the answer (see docs/triggers.md); the body becomes one array of all their records.'),
})
  .describe('Send the body to a connector and continue with its answer as the body (JSON parsed, else text under its content type).');

export const callStep = defineStep({
  name: 'call',
  summary: 'Send the message to a connector; its answer becomes the body.',
  options: callOptions,
  create(options, deps) {
    const delivery = compileDelivery('call', options, Object.keys(callOptions.shape), deps);
    if (options.paginate !== undefined) checkPaginateFits(options.paginate, delivery.connector);
    const paginate = options.paginate === undefined ? undefined : compilePaginate(options.paginate);

    return async function call(msg, ctx) {
      if (paginate !== undefined) {
        // Each page is the same request with the page's path (or, for relay, its cursor); the answers are read as JSON records.
        const pages = paginate.pages(await delivery.path(msg), (page) => delivery.send(msg, ctx, page), delivery.connector);
        return { ...msg, body: await gatherPages(pages), headers: { ...msg.headers, 'content-type': CONTENT_TYPES.json } };
      }
      const res = await delivery.send(msg, ctx);
      const answer = delivery.connector.read(res);
      return { ...msg, body: answer.body, headers: { ...msg.headers, 'content-type': answer.contentType } };
    };
  },
});
