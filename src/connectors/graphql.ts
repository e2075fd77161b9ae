/**
 * @module connectors/graphql
 * A GraphQL system: one endpoint, every operation POSTed to it as
 * `{query, variables, operationName}` over the shared HTTP transport, so the
 * whole policy chain applies unchanged. The answer is read by its `errors` as
 * well as its status (`connectors/graphql-errors`), and its `data` becomes the
 * message body for the next steps.
 *
 * ```yaml
 * shop:
 *   type: graphql
 *   endpoint: http://127.0.0.1:4030/graphql
 *   retryableCodes: [RATE_LIMITED]
 *   partialData: error          # default; accept keeps the data an answer with errors carries
 *   schema: ./shop.graphql      # optional SDL: every step's document is checked against it
 * ```
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { CONTENT_TYPES } from '../core/media.ts';
import type { Json } from '../core/message.ts';
import { defineConnector, type Transport } from './connector.ts';
import { loadSchema } from './graphql-document.ts';
import { classifyGraphql, explainGraphql, graphqlAnswer } from './graphql-errors.ts';
import { graphqlRequest } from './graphql-request.ts';
import { httpConnectorShape } from './options.ts';
import { snapshotResponse } from './response-error.ts';
import { createTransport } from './transport.ts';

export const graphqlConnectorOptions = z
  .strictObject({
    type: z.literal('graphql').describe('Connector type.'),
    endpoint: z.url({ protocol: /^https?$/ }).describe('URL every operation is POSTed to, e.g. http://127.0.0.1:4030/graphql.'),
    retryableCodes: z
      .array(z.string().min(1))
      .default([])
      .describe('extensions.code values of a GraphQL error that make the answer retried (e.g. RATE_LIMITED); any other error is permanent.'),
    partialData: z
      .enum(['accept', 'error'])
      .default('error')
      .describe('An answer with both data and errors: error (default) treats it like the errors, so no half-done operation passes unnoticed; accept continues with the data.'),
    schema: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the server\'s SDL schema, relative to the config file: every step\'s document is checked against it by junction check and at start-up.'),
    ...httpConnectorShape,
  })
  .describe('A GraphQL system: one endpoint; a query or mutation per step; errors in a 200 classified.');

export type GraphqlConnectorOptions = z.output<typeof graphqlConnectorOptions>;

/** GraphQL over HTTP: the newer media type gets a 4xx for a request error, the older one is understood by every server. */
const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

export const graphqlConnector = defineConnector({
  name: 'graphql',
  summary: 'A GraphQL system: a query or mutation per step, JSONata variables, errors in a 200 classified, relay pagination.',
  options: graphqlConnectorOptions,
  request: graphqlRequest,
  async check(options, { baseDir }) {
    if (options.schema === undefined) return [];
    try {
      loadSchema(resolve(baseDir, options.schema));
      return [];
    } catch (e) {
      return [{ path: ['schema'], message: (e as Error).message }];
    }
  },
  create(name, options, deps) {
    if (options.schema !== undefined) {
      try {
        loadSchema(resolve(deps.baseDir ?? process.cwd(), options.schema));
      } catch (e) {
        throw errors.CONFIG_INVALID.create([`connector ${name}: ${(e as Error).message}`], { cause: e });
      }
    }
    const http = createTransport(name, { ...options, baseUrl: options.endpoint });
    const transport: Transport = {
      call: (req, ctx) => http.call({ ...req, headers: { accept: ACCEPT, ...req.headers } }, ctx),
      close: () => http.close(),
    };
    const classifyOptions = { retryableCodes: new Set(options.retryableCodes), partialData: options.partialData };
    return {
      transport,
      classify: (res, byStatus) => classifyGraphql(res, byStatus, classifyOptions),
      explain: explainGraphql,
      read(res) {
        const answer = graphqlAnswer(res);
        if (answer === undefined || answer.data === undefined) {
          throw errors.HTTP_MALFORMED.create([name, res.status, 'not a GraphQL response (it has no data)'], { status: res.status, response: snapshotResponse(res) });
        }
        return { body: answer.data as Json, contentType: CONTENT_TYPES.json };
      },
    };
  },
});
