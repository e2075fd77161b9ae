/**
 * @module connectors/graphql-request
 * The `request` of a step that calls a GraphQL connector:
 *
 * ```yaml
 * request:
 *   query: "mutation Create($input: OrderInput!) { createOrder(input: $input) { id } }"   # or file: ./create-order.graphql
 *   variables: { input: "{ 'id': id, 'total': total }" }                                 # JSONata each
 *   operationName: Create
 * ```
 *
 * The document's syntax is checked with the config (an inline `query`) or at
 * start-up (a `file`); when the connector names a `schema`, the document is
 * checked against it at start-up too, which `junction check` runs. Every
 * message is sent as one POST of `{query, variables, operationName}` in JSON.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, compileTemplate, expression, template, type Expression } from '../core/expression.ts';
import { fsReason } from '../core/fs-reason.ts';
import { CONTENT_TYPES } from '../core/media.ts';
import type { Message } from '../core/message.ts';
import { loadSchema, parseDocument, schemaProblems } from './graphql-document.ts';
import { renderTemplate } from './rest-request.ts';
import type { CompiledRequest, RequestContext, RequestKind } from './request-kind.ts';

const variableValue = z
  .union([expression, z.number(), z.boolean(), z.null()])
  .describe('JSONata expression on the message body giving the variable\'s value (text is an expression: write "\'SKU-1\'" for a string); a number, true, false or null is sent as it is.');

export const graphqlRequestOptions = z
  .strictObject({
    query: z.string().min(1).optional().describe('The GraphQL document (a query or a mutation), inline; its syntax is checked with the config. Give this or file.'),
    file: z.string().min(1).optional().describe('Path of a .graphql file holding the document, relative to the config file. Give this or query.'),
    variables: z.record(z.string(), variableValue).optional().describe('The operation\'s variables: each value a JSONata expression on the message. With paginate.relay, `after` is set for every page after the first.'),
    operationName: z.string().min(1).optional().describe('The operation to run; required when the document holds several.'),
    headers: z
      .record(z.string(), template.describe('Header value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Extra headers; values may hold {{ expr }} parts.'),
  })
  .superRefine((o, ctx) => {
    if ((o.query === undefined) === (o.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give the GraphQL document as query (inline) or as file (a .graphql file): exactly one of the two' });
      return;
    }
    if (o.query === undefined) return;
    const parsed = parseDocument(o.query, o.operationName);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', path: ['query'], message: parsed.problem });
  })
  .describe('A GraphQL operation: the document (query or file), its variables (JSONata each) and operationName.');

export type GraphqlRequestOptions = z.output<typeof graphqlRequestOptions>;

/** @param where names the step in errors, e.g. `orders[2].deliver`. */
export function compileGraphqlRequest(options: GraphqlRequestOptions, where: string, ctx: RequestContext): CompiledRequest {
  const { source, option } = documentSource(options, ctx.baseDir);
  const parsed = parseDocument(source, options.operationName);
  if ('problem' in parsed) throw errors.CONFIG_INVALID.create([`${option}: ${parsed.problem}`]);
  const schemaFile = typeof ctx.connector.schema === 'string' ? resolve(ctx.baseDir, ctx.connector.schema) : undefined;
  if (schemaFile !== undefined) {
    let problems: string[];
    try {
      problems = schemaProblems(loadSchema(schemaFile), parsed.document);
    } catch (e) {
      throw errors.CONFIG_INVALID.create([(e as Error).message], { cause: e });
    }
    if (problems.length > 0) throw errors.CONFIG_INVALID.create([`${option} does not match the schema ${ctx.connector.schema as string}: ${problems.join('; ')}`]);
  }
  const variables = Object.entries(options.variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? compileExpression(v) : v] as const);
  const headers = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
  return {
    async render(msg, page) {
      const values: Record<string, unknown> = {};
      for (const [k, v] of variables) values[k] = isExpression(v) ? await evaluate(v, msg, where, k) : v;
      // Relay pagination: every page after the first goes on from the last one's endCursor.
      if (page?.after !== undefined) values.after = page.after;
      const out: Record<string, string> = {};
      for (const [k, t] of headers) out[k] = await renderTemplate(t, msg, where, `request.headers.${k}`);
      const body = { query: source, variables: values, ...(options.operationName === undefined ? {} : { operationName: options.operationName }) };
      return { method: 'POST', path: '', headers: out, body: { payload: JSON.stringify(body), contentType: CONTENT_TYPES.json } };
    },
  };
}

/** The document's text, and the option that holds it (for errors). */
function documentSource(options: GraphqlRequestOptions, baseDir: string): { source: string; option: string } {
  if (options.query !== undefined) return { source: options.query, option: 'request.query' };
  const file = resolve(baseDir, options.file!);
  try {
    return { source: readFileSync(file, 'utf8'), option: `request.file ${options.file!}` };
  } catch (e) {
    throw errors.CONFIG_INVALID.create([`request.file: cannot read ${file} (${fsReason(e)})`], { cause: e });
  }
}

function isExpression(v: unknown): v is Expression {
  return typeof v === 'object' && v !== null && 'evaluate' in v;
}

/** A variable's value for a message; an expression that fails fails the same way on every retry: JNC_STEP_INVALID. */
async function evaluate(e: Expression, msg: Message, where: string, name: string): Promise<unknown> {
  try {
    return await e.evaluate(msg.body, msg);
  } catch (err) {
    throw errors.STEP_INVALID.create([where, `request.variables.${name}: ${(err as Error).message}`], { cause: err });
  }
}

/** The GraphQL connector's request: one operation, POSTed as JSON; relay pagination moves its `after` variable. */
export const graphqlRequest: RequestKind = {
  options: () => graphqlRequestOptions,
  compile: (options, where, ctx) => compileGraphqlRequest(options as GraphqlRequestOptions, where, ctx),
  relay: true,
};
