/**
 * @module connectors/rest
 * A REST (HTTP/JSON) system: the shared HTTP transport on an undici pool, and an
 * answer classified by its status alone.
 */
import { z } from 'zod';
import { defineConnector } from './connector.ts';
import { httpConnectorShape } from './options.ts';
import { restRequest } from './rest-request.ts';
import { createTransport } from './transport.ts';

export const restConnectorOptions = z
  .strictObject({
    type: z.literal('rest').describe('Connector type.'),
    baseUrl: z.url({ protocol: /^https?$/ }).describe('Origin and optional path prefix, e.g. http://127.0.0.1:4010/api.'),
    ...httpConnectorShape,
  })
  .describe('A REST (HTTP/JSON) system.');

export type RestConnectorOptions = z.output<typeof restConnectorOptions>;

export const restConnector = defineConnector({
  name: 'rest',
  summary: 'A REST (HTTP/JSON) system: method, path, query and headers per request; the status decides the outcome.',
  options: restConnectorOptions,
  request: restRequest,
  create: (name, options) => ({ transport: createTransport(name, options) }),
});
