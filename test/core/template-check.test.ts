/**
 * `junction check` parses every template in the config: an unclosed `{{`, a
 * stray `}}`, an empty `{{ }}` or a constant idempotency key is reported with
 * line:col and key path, like every other mistake, instead of going out
 * literally as a key or failing at run time as a network error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A flow whose one step is `step` (a flow-style mapping on line 6), with a connector crm. */
const flowWith = (step: string): string =>
  yaml('connectors: { crm: { type: rest, baseUrl: "http://127.0.0.1:1" } }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', `      - ${step}`);

const cases: { name: string; text: string; expect: [string, string][] }[] = [
  {
    name: 'an unclosed {{ in an idempotency key',
    text: flowWith('deliver: { connector: crm, idempotencyKey: "order-{{ orderId " }'),
    expect: [['6:52 flows.a.steps[0].deliver.idempotencyKey', '"{{" at character 7 is never closed by "}}"']],
  },
  {
    name: 'a stray }} in a path',
    text: flowWith('deliver: { connector: crm, request: { path: "/orders/ id }}" } }'),
    expect: [['6:53 flows.a.steps[0].deliver.request.path', '"}}" at character 13 closes no "{{"']],
  },
  {
    name: 'an empty {{ }} in a header',
    text: flowWith('call: { connector: crm, request: { headers: { x-order: "n-{{ }}" } } }'),
    expect: [['6:64 flows.a.steps[0].call.request.headers.x-order', '"{{ }}" at character 3 holds no expression']],
  },
  {
    name: 'an unclosed {{ in a query value of enrich',
    text: flowWith('enrich: { connector: crm, into: acct, request: { query: { id: "{{ id" } } }'),
    expect: [['6:71 flows.a.steps[0].enrich.request.query.id', 'is never closed']],
  },
  {
    name: 'a split key with a syntax error',
    text: flowWith('split: { expr: items, key: "line-{{ $sum( }}" }'),
    expect: [['6:36 flows.a.steps[0].split.key', 'invalid {{ }} expression at character 6: Expected ")" before end of expression']],
  },
  {
    name: 'a respond header with a stray }}',
    text: flowWith('respond: { headers: { location: "/orders/}}" } }'),
    expect: [['6:41 flows.a.steps[0].respond.headers.location', 'closes no "{{"']],
  },
  {
    name: 'a constant idempotency key: every message would be the same one',
    text: flowWith('deliver: { connector: crm, idempotencyKey: "order" }'),
    expect: [['6:52 flows.a.steps[0].deliver.idempotencyKey', 'a key needs a {{ expr }} part']],
  },
  {
    name: 'a constant split key',
    text: flowWith('split: { expr: items, key: line }'),
    expect: [['6:36 flows.a.steps[0].split.key', 'a key needs a {{ expr }} part']],
  },
];

describe('junction check refuses broken templates with line, column and key path', () => {
  for (const c of cases) {
    test(c.name, () => {
      const result = parseConfigText(c.text, 'junction.yaml', {});
      const got = result.ok ? [] : result.issues.map((i) => ({ where: `${i.line}:${i.column} ${i.path}`, message: i.message }));
      assert.deepEqual(got.map((g) => g.where), c.expect.map(([where]) => where), `issues: ${JSON.stringify(got, null, 2)}`);
      for (const [i, [, fragment]] of c.expect.entries()) {
        assert.ok(got[i]!.message.includes(fragment), `"${got[i]!.message}" should include "${fragment}"`);
      }
    });
  }

  test('accepts templates that parse, object constructors and defaults included', () => {
    const result = parseConfigText(
      flowWith(`deliver: { connector: crm, idempotencyKey: "order-{{ id }}", request: { path: "/a/{{ {'x': {'y': 1}}.x.y }}", headers: { x-note: "{{ $exists(note) ? note : 'none' }}" } } }`),
      'junction.yaml',
      {},
    );
    assert.ok(result.ok, JSON.stringify(result));
  });
});
