/**
 * The graphql connector type before any message: `junction check` refuses a
 * document with a syntax error (its line and column within the document, at
 * the config line of `query`), a document that does not match the connector's
 * SDL schema (naming the document's line), a schema file that is missing, an
 * ambiguous document, and a paginate style the connector cannot follow. And
 * the classification of answers, table by table.
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { classifyGraphql, explainGraphql } from '../../src/connectors/graphql-errors.ts';
import type { OutboundResponse } from '../../src/core/call.ts';
import { createClassifier } from '../../src/policies/classify.ts';
import { writeTestConfig } from '../helpers/engine.ts';
import { junction } from '../helpers/cli.ts';
import { SHOP_SCHEMA_FILE } from '../fixtures/graphql/shop-server.ts';

function yaml(request: string, opts: { schema?: boolean; paginate?: string; type?: string } = {}): string {
  const connector = opts.type === 'rest'
    ? '  shop: { type: rest, baseUrl: http://127.0.0.1:9 }'
    : `  shop:\n    type: graphql\n    endpoint: http://127.0.0.1:9/graphql${opts.schema === false ? '' : '\n    schema: ./shop.graphql'}`;
  return `connectors:
${connector}
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - call:
          connector: shop
          request:
${request.replace(/^/gm, '            ')}${opts.paginate === undefined ? '' : `\n          paginate: ${opts.paginate}`}
`;
}

/** junction.yaml with `text` and the shop's SDL beside it as shop.graphql; runs `junction check` on it. */
async function check(t: TestContext, text: string, files: Record<string, string> = {}) {
  const { dir, configFile } = writeTestConfig(t, text);
  copyFileSync(SHOP_SCHEMA_FILE, join(dir, 'shop.graphql'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return junction(['check', '-c', configFile]);
}

describe('junction check on a graphql connector', () => {
  it('accepts a document that matches the schema', async (t) => {
    const r = await check(t, yaml('query: "query ($id: ID!) { order(id: $id) { id total } }"\nvariables: { id: id }'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(1 flow, 1 connector\)/);
  });

  it('refuses a syntax error at the line of query, with the line and column within the document', () => {
    const r = parseConfigText(yaml('query: |\n  query {\n    order(id: "A") { id\n  }'), 'junction.yaml');
    assert.equal(r.ok, false);
    const issue = !r.ok ? r.issues.find((i) => i.path.endsWith('request.query')) : undefined;
    assert.ok(issue, JSON.stringify(!r.ok && r.issues));
    assert.equal(issue.line, 13);
    assert.match(issue.message, /GraphQL syntax error at line 4, column 1 of the document: Expected Name, found <EOF>/);
  });

  it('refuses a document that does not match the SDL, naming its line', async (t) => {
    const doc = 'query: |\n  query One($id: ID!) {\n    order(id: $id) {\n      id\n      price\n    }\n  }\nvariables: { id: id }';
    const r = await check(t, yaml(doc));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:\d+:\d+ flows\.orders\.steps\[0\]\.call: .*request\.query does not match the schema \.\/shop\.graphql: line 4, column 5: Cannot query field "price" on type "Order"/);
  });

  it('checks a document read from a .graphql file, syntax and schema', async (t) => {
    const broken = await check(t, yaml('file: ./lookup.graphql'), { 'lookup.graphql': 'query {\n  order(id: "A") {\n    id\n' });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /request\.file \.\/lookup\.graphql: GraphQL syntax error at line 4, column 1 of the document/);
    const wrong = await check(t, yaml('file: ./lookup.graphql'), { 'lookup.graphql': 'query {\n  order(id: 7) {\n    idd\n  }\n}\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /line 3, column 5: Cannot query field "idd" on type "Order"/);
    const missing = await check(t, yaml('file: ./nowhere.graphql'));
    assert.match(missing.stderr, /request\.file: cannot read .*nowhere\.graphql/);
  });

  it('refuses a schema file that is missing or broken, at the line of schema', async (t) => {
    const text = yaml('query: "{ orders { nodes { id } } }"').replace('./shop.graphql', './gone.graphql');
    const r = await check(t, text);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:5:\d+ connectors\.shop\.schema: cannot read the GraphQL schema .*gone\.graphql/);
    const bad = await check(t, text, { 'gone.graphql': 'type Query {\n  a: Int\n' });
    assert.match(bad.stderr, /connectors\.shop\.schema: .*gone\.graphql is not a GraphQL schema at line 3, column 1/);
  });

  it('refuses query and file together, and neither', () => {
    for (const request of ['query: "{ orders { nodes { id } } }"\nfile: ./x.graphql', 'variables: { id: id }']) {
      const r = parseConfigText(yaml(request), 'junction.yaml');
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.issues.map((i) => i.message).join('\n') : '', /exactly one of the two/);
    }
  });

  it('asks for operationName when the document has several operations, and checks the one named', () => {
    const doc = 'query: "query A { orders { nodes { id } } } query B { order(id: 1) { id } }"';
    const none = parseConfigText(yaml(doc), 'junction.yaml');
    assert.match(!none.ok ? none.issues.map((i) => i.message).join('\n') : '', /2 operations \(A, B\); name the one to run with operationName/);
    const wrong = parseConfigText(yaml(`${doc}\noperationName: C`), 'junction.yaml');
    assert.match(!wrong.ok ? wrong.issues.map((i) => i.message).join('\n') : '', /operationName C is not an operation of the document; it has A, B/);
    assert.equal(parseConfigText(yaml(`${doc}\noperationName: B`), 'junction.yaml').ok, true);
  });

  it('refuses paginate.relay on a REST connector, and a REST style on a graphql one', async (t) => {
    const rest = await check(t, yaml('path: /orders', { type: 'rest', paginate: '{ relay: orders }' }));
    assert.equal(rest.code, 1);
    assert.match(rest.stderr, /paginate\.relay follows GraphQL connections, but connector shop is of type rest/);
    const gql = await check(t, yaml('query: "{ orders { nodes { id } } }"', { paginate: '{ link: next }' }));
    assert.equal(gql.code, 1);
    assert.match(gql.stderr, /sends its cursor in the request's variables; use paginate: \{ relay: <connection> \}/);
  });
});

/** An answer as the transport gives it. */
function answer(status: number, body: unknown, headers: Record<string, string> = {}): OutboundResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)), durationMs: 1 };
}

describe('classification of a GraphQL answer', () => {
  const byStatus = createClassifier({});
  const opts = { retryableCodes: new Set(['RATE_LIMITED']), partialData: 'error' as const };
  const err = (code: string | undefined, message = 'boom') => ({ message, path: ['createOrder'], ...(code === undefined ? {} : { extensions: { code } }) });

  it('follows the table', () => {
    const cases: [OutboundResponse, string, string][] = [
      [answer(200, { data: { a: 1 } }), 'ok', 'data, no errors'],
      [answer(200, { data: null, errors: [err('RATE_LIMITED')] }), 'retry', 'a retryable code'],
      [answer(200, { errors: [err('OUT_OF_STOCK')] }), 'permanent', 'another code'],
      [answer(200, { errors: [err(undefined)] }), 'permanent', 'no code'],
      [answer(200, { data: null, errors: [err('OUT_OF_STOCK'), err('RATE_LIMITED')] }), 'retry', 'one retryable code among others'],
      [answer(200, { errors: [err('BAD_USER_INPUT'), err('RATE_LIMITED')] }), 'permanent', 'a coercion error is never retried'],
      [answer(200, { data: { a: 1, b: null }, errors: [err('OUT_OF_STOCK')] }), 'permanent', 'partial data, partialData: error'],
      [answer(400, { errors: [err('GRAPHQL_VALIDATION_FAILED')] }), 'permanent', 'a 400'],
      [answer(503, { errors: [err('OUT_OF_STOCK')] }), 'retry', 'a 503 by its status'],
    ];
    for (const [res, expected, why] of cases) assert.equal(classifyGraphql(res, byStatus, opts), expected, why);
    const partial = answer(200, { data: { a: 1, b: null }, errors: [err('OUT_OF_STOCK')] });
    assert.equal(classifyGraphql(partial, byStatus, { ...opts, partialData: 'accept' }), 'ok');
  });

  it('explains with messages, codes and paths, bounded, and the longest extensions.retryAfter', () => {
    const errors = Array.from({ length: 8 }, (_, i) => ({ message: `failure ${i} ${'x'.repeat(200)}`, path: ['orders', i], extensions: { code: 'RATE_LIMITED', retryAfter: i } }));
    const detail = explainGraphql(answer(200, { data: null, errors }));
    assert.ok(detail);
    assert.match(detail.reason, /^GraphQL errors: "failure 0 x+" \(RATE_LIMITED, at orders\.0\); "failure 1/);
    assert.ok(detail.reason.length <= 600, `${detail.reason.length} chars`);
    assert.equal(detail.retryAfterMs, 7000);
    assert.equal(explainGraphql(answer(502, 'Bad gateway')), undefined);
  });
});
