/**
 * @module test/config/mistakes
 * Table tests: a YAML snippet in, the `line:col path` and a message fragment of
 * every issue out. Each case lists all the issues it expects, so a case also
 * fails when the loader reports noise beside the real mistake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { stepTypes as stepRegistry } from '../../src/steps/registry.ts';

const stepTypes = stepRegistry.names().join(', ');

/** Joins lines so that a case's line numbers can be read off its source. */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A flow that is valid on its own, for cases about something else. */
const okFlow = ['flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - map: { x: y }'];

interface Case {
  name: string;
  text: string;
  env?: NodeJS.ProcessEnv;
  /** `[line:col path, message fragment]` for every issue, in position order. */
  expect: [string, string][];
}

const cases: Case[] = [
  {
    name: 'unknown top-level key',
    text: yaml('sever: { port: 1 }', ...okFlow),
    expect: [['1:1 sever', 'unknown key "sever" (did you mean "server"?); expected one of $schema, store, server']],
  },
  {
    name: 'unknown key in a connector (a typo)',
    text: yaml('connectors:', '  crm:', '    type: rest', '    baseUrl: http://127.0.0.1:4010', '    retires: { maxAttempts: 3 }', ...okFlow),
    expect: [['5:5 connectors.crm.retires', 'unknown key "retires" (did you mean "retry"?); expected one of type, baseUrl']],
  },
  {
    name: 'unknown key in step options',
    text: yaml('connectors: { crm: { type: rest, baseUrl: "http://127.0.0.1:1" } }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver:', '          connector: crm', '          idempotencyKy: x'),
    expect: [['8:11 flows.a.steps[0].deliver.idempotencyKy', 'unknown key "idempotencyKy" (did you mean "idempotencyKey"?)']],
  },
  {
    name: 'a trigger path with a route parameter or wildcard (found by the config property test: fastify refused it at start-up)',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: "/hooks/:id/*" } }', '    steps:', '      - map: { x: y }'),
    expect: [['3:30 flows.a.trigger.http.path', 'no : or *: a trigger path is literal']],
  },
  {
    name: 'a mistake in a step\'s request, checked against its connector\'s type (rest)',
    text: yaml('connectors: { crm: { type: rest, baseUrl: "http://127.0.0.1:1" } }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver:', '          connector: crm', '          request: { methd: POST, path: "/x/{{ id " }'),
    expect: [
      ['8:22 flows.a.steps[0].deliver.request.methd', 'unknown key "methd" (did you mean "method"?); expected one of method, path, headers, query'],
      ['8:41 flows.a.steps[0].deliver.request.path', '"{{" at character 4 is never closed by "}}"'],
    ],
  },
  {
    name: 'the request\'s keys written on the step (DESIGN\'s shorthand) are checked against the connector\'s type where they are written',
    text: yaml('connectors: { crm: { type: rest, baseUrl: "http://127.0.0.1:1" } }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver:', '          connector: crm', '          method: PUT', '          pth: /x', '      - call: { connector: crm, path: /y, request: { path: /z } }'),
    expect: [
      ['9:11 flows.a.steps[0].deliver.pth', 'unknown key "pth" (did you mean "path"?); a deliver step has connector, request, idempotencyKey, and a rest connector\'s request has method, path, headers, query'],
      ['10:33 flows.a.steps[1].call.path', 'path is written both here and under request; keep one'],
    ],
  },
  {
    name: 'a poll\'s request keys on the trigger itself',
    text: yaml('connectors:', '  crm: { type: rest, baseUrl: "http://127.0.0.1:1" }', 'flows:', '  a:', '    trigger:', '      poll: { connector: crm, every: 1m, method: DELETE, path: /items }', '    steps:', '      - map: { x: y }'),
    expect: [['6:50 flows.a.trigger.poll.method', 'expected one of GET, POST']],
  },
  {
    name: 'wrong type',
    text: yaml('server:', '  port: abc', ...okFlow),
    expect: [['2:9 server.port', 'expected a number, got a string']],
  },
  {
    name: 'number out of range',
    text: yaml('server: { port: 70000 }', ...okFlow),
    expect: [['1:17 server.port', 'must be at most 65535']],
  },
  {
    name: 'value not among the allowed ones',
    text: yaml('log: { level: verbose }', ...okFlow),
    expect: [['1:15 log.level', 'expected one of fatal, error, warn, info, debug, trace, silent']],
  },
  {
    name: 'empty section',
    text: yaml('server:', ...okFlow),
    expect: [['1:1 server', 'expected a mapping (key: value), got an empty value']],
  },
  {
    name: 'missing required key points at the map that lacks it',
    text: yaml('flows:', '  a:', '    steps:', '      - map: { x: y }'),
    expect: [['2:3 flows.a.trigger', 'missing required key "trigger"']],
  },
  {
    name: 'missing flows',
    text: yaml('server: { port: 1 }'),
    expect: [['1:1 flows', 'missing required key "flows"']],
  },
  {
    name: 'connector without a type',
    text: yaml('connectors:', '  crm:', '    baseUrl: http://127.0.0.1:4010', ...okFlow),
    expect: [['2:3 connectors.crm.type', 'missing required key "type"; expected one of rest']],
  },
  {
    name: 'connector of an unknown type',
    text: yaml('connectors:', '  crm: { type: ftp, baseUrl: http://127.0.0.1:4010 }', ...okFlow),
    expect: [['2:16 connectors.crm.type', 'unknown type "ftp"; expected one of rest']],
  },
  {
    name: 'bad URL',
    text: yaml('connectors:', '  crm: { type: rest, baseUrl: "127.0.0.1:4010" }', ...okFlow),
    expect: [['2:31 connectors.crm.baseUrl', 'expected a URL']],
  },
  {
    name: 'invalid connector name',
    text: yaml('connectors:', '  9crm: { type: rest, baseUrl: "http://127.0.0.1:1" }', ...okFlow),
    expect: [['2:3 connectors.9crm', 'invalid name "9crm"']],
  },
  {
    name: 'missing environment variable',
    text: yaml('connectors:', '  crm:', '    type: rest', '    baseUrl: http://127.0.0.1:4010', '    auth: { bearer: "${env:CRM_TOKEN}" }', ...okFlow),
    env: {},
    expect: [['5:21 connectors.crm.auth.bearer', 'environment variable CRM_TOKEN is not set (set it, or use ${file:path} to read the secret from a file)']],
  },
  {
    name: 'missing ${file:} file',
    text: yaml('server:', '  adminToken: ${file:./no-such-token.txt}', ...okFlow),
    expect: [['2:15 server.adminToken', 'cannot read file ./no-such-token.txt (no such file']],
  },
  {
    name: 'unknown ${…} reference',
    text: yaml('server:', '  adminToken: ${ADMIN_TOKEN}', ...okFlow),
    expect: [['2:15 server.adminToken', 'unknown reference "${ADMIN_TOKEN}"; use ${env:NAME} or ${file:path}']],
  },
  {
    name: 'flow that names an unknown connector',
    text: yaml('connectors:', '  crm: { type: rest, baseUrl: "http://127.0.0.1:1" }', '  erp: { type: rest, baseUrl: "http://127.0.0.1:2" }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver: { connector: crmm }'),
    expect: [['8:31 flows.a.steps[0].deliver.connector', 'unknown connector "crmm" (did you mean "crm"?); defined connectors: crm, erp']],
  },
  {
    name: 'poll trigger that names an unknown connector',
    text: yaml('connectors:', '  crm: { type: rest, baseUrl: "http://127.0.0.1:1" }', 'flows:', '  a:', '    trigger: { poll: { connector: crmm, every: 1m } }', '    steps:', '      - map: { x: y }'),
    expect: [['5:35 flows.a.trigger.poll.connector', 'unknown connector "crmm" (did you mean "crm"?)']],
  },
  {
    name: 'poll request with a method the poll does not send',
    text: yaml('connectors:', '  crm: { type: rest, baseUrl: "http://127.0.0.1:1" }', 'flows:', '  a:', '    trigger:', '      poll: { connector: crm, every: 1m, request: { method: DELETE, path: /items } }', '    steps:', '      - map: { x: y }'),
    expect: [['6:61 flows.a.trigger.poll.request.method', 'expected one of GET, POST']],
  },
  {
    name: 'schedule with a bad cron expression',
    text: yaml('flows:', '  a:', '    trigger: { schedule: { cron: "61 * * * *" } }', '    steps:', '      - map: { x: y }'),
    expect: [['3:34 flows.a.trigger.schedule.cron', 'invalid cron expression']],
  },
  {
    name: 'connector named when none is defined',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver:', '          connector: crm'),
    expect: [['6:22 flows.a.steps[0].deliver.connector', 'no connectors are defined']],
  },
  {
    name: 'invalid JSONata expression in map',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - map:', '          orderId: id', '          total: $sum(items.(price * qty)'),
    expect: [['7:18 flows.a.steps[0].map.total', 'invalid JSONata expression: Expected ")" before end of expression']],
  },
  {
    name: 'invalid {{ }} template',
    text: yaml('connectors: { crm: { type: rest, baseUrl: "http://127.0.0.1:1" } }', 'flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - deliver: { connector: crm, idempotencyKey: "{{ $sum( }}" }'),
    expect: [['6:52 flows.a.steps[0].deliver.idempotencyKey', 'invalid {{ }} expression']],
  },
  {
    name: 'unknown step type points at the step key',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - mapp:', '          x: y'),
    expect: [['5:9 flows.a.steps[0].mapp', `unknown step type "mapp"; expected one of ${stepTypes}`]],
  },
  {
    name: 'step with two keys',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - { map: { x: y }, deliver: { connector: c } }'),
    expect: [['5:9 flows.a.steps[0]', `a step has exactly one key, its type (one of ${stepTypes}); found map, deliver`]],
  },
  {
    name: 'flow without steps',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps: []'),
    expect: [['4:5 flows.a.steps', 'a flow needs at least one step']],
  },
  {
    name: 'duplicate trigger path',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /hooks/orders } }', '    steps: [ { map: { x: y } } ]', '  b:', '    trigger:', '      http:', '        path: /hooks/orders', '        method: POST', '    steps: [ { map: { x: y } } ]'),
    expect: [['8:15 flows.b.trigger.http.path', 'POST /hooks/orders is already the trigger of flow "a"']],
  },
  {
    name: 'same path with another method is fine',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /o } }', '    steps: [ { map: { x: y } } ]', '  b:', '    trigger: { http: { path: /o, method: PUT } }', '    steps: [ { map: { x: y } } ]'),
    expect: [],
  },
  {
    name: 'trigger on a path Junction serves itself',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /metrics } }', '    steps: [ { map: { x: y } } ]'),
    expect: [['3:30 flows.a.trigger.http.path', '/metrics is served by Junction itself']],
  },
  {
    name: 'metrics on the main server\'s port',
    text: yaml('server: { port: 9000 }', 'metrics: { port: 9000 }', ...okFlow),
    expect: [['2:18 metrics.port', '9000 is server.port already']],
  },
  {
    name: 'metrics on the default server port',
    text: yaml('metrics: { port: 8080 }', ...okFlow),
    expect: [['1:18 metrics.port', '8080 is server.port already']],
  },
  {
    name: 'metrics host without a port of its own',
    text: yaml('metrics: { host: 0.0.0.0 }', ...okFlow),
    expect: [['1:18 metrics.host', 'host needs port']],
  },
  {
    name: 'YAML syntax error',
    text: yaml('flows:', '  a:', '    trigger: { http: { path: /a }', '    steps: []'),
    expect: [['4:5 flows.a.trigger', 'Flow map in block collection must be sufficiently indented and end with a }']],
  },
  {
    name: 'duplicate YAML key',
    text: yaml('server: { port: 1 }', 'server: { port: 2 }', ...okFlow),
    expect: [['2:1 server', 'Map keys must be unique']],
  },
  {
    name: 'circular alias',
    text: yaml('server: &s', '  x: *s', ...okFlow),
    expect: [['2:3 server.x', 'a config cannot be circular']],
  },
  {
    name: 'empty file',
    text: '',
    expect: [['1:1 ', 'the file is empty']],
  },
  {
    name: 'document is not a mapping',
    text: yaml('- flows'),
    expect: [['1:1 ', 'expected a mapping (key: value), got a list']],
  },
  {
    name: 'several mistakes are all reported in one run',
    text: yaml(
      'sever: {}',
      'connectors:',
      '  crm:',
      '    type: rest',
      '    baseUrl: http://127.0.0.1:4010',
      '    timeoutMS: 100',
      '    auth: { bearer: "${env:MISSING_TOKEN}" }',
      'flows:',
      '  a:',
      '    trigger: { http: { path: /a } }',
      '    steps:',
      '      - map: { total: "$sum(" }',
      '      - deliver: { connector: erp }',
      '  b:',
      '    trigger: { http: { path: /a } }',
      '    steps:',
      '      - deliver: { connector: crm, request: { method: GOT } }',
    ),
    env: {},
    expect: [
      ['1:1 sever', 'unknown key "sever"'],
      ['6:5 connectors.crm.timeoutMS', 'unknown key "timeoutMS" (did you mean "timeoutMs"?)'],
      ['7:21 connectors.crm.auth.bearer', 'environment variable MISSING_TOKEN is not set (set it, or use ${file:path} to read the secret from a file)'],
      ['12:23 flows.a.steps[0].map.total', 'invalid JSONata expression'],
      ['13:31 flows.a.steps[1].deliver.connector', 'unknown connector "erp"; defined connectors: crm'],
      ['15:30 flows.b.trigger.http.path', 'POST /a is already the trigger of flow "a"'],
      ['17:55 flows.b.steps[0].deliver.request.method', 'expected one of POST, PUT, PATCH, DELETE, GET'],
    ],
  },
  {
    name: 'tracing that cannot work: a ratio above 1, an endpoint that is not OTLP/HTTP, an exporter Junction does not have',
    text: yaml('tracing: { exporter: jaeger, sampleRatio: 1.5, endpoint: "grpc://collector:4317" }', ...okFlow),
    expect: [
      ['1:22 tracing.exporter', 'expected one of otlp, none'],
      ['1:43 tracing.sampleRatio', 'must be at most 1'],
      ['1:58 tracing.endpoint', 'expected a URL such as http://127.0.0.1:4010'],
    ],
  },
];

describe('config mistakes are reported with line, column and key path', () => {
  for (const c of cases) {
    test(c.name, () => {
      const result = parseConfigText(c.text, 'junction.yaml', c.env ?? {});
      const got = result.ok ? [] : result.issues.map((i) => ({ where: `${i.line}:${i.column} ${i.path}`, message: i.message }));
      assert.deepEqual(
        got.map((g) => g.where),
        c.expect.map(([where]) => where),
        `issues: ${JSON.stringify(got, null, 2)}`,
      );
      for (const [i, [, fragment]] of c.expect.entries()) {
        assert.ok(got[i]!.message.includes(fragment), `"${got[i]!.message}" should include "${fragment}"`);
      }
    });
  }

  test('YAML anchors and merge keys are expanded before the check', () => {
    const text = yaml(
      'connectors:',
      '  a: &rest { type: rest, baseUrl: "http://127.0.0.1:1", timeoutMs: 100 }',
      '  b: { <<: *rest, baseUrl: "http://127.0.0.1:2" }',
      ...okFlow,
    );
    const result = parseConfigText(text, 'junction.yaml', {});
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.config.connectors.b?.timeoutMs, 100);
    assert.equal(result.config.connectors.b?.baseUrl, 'http://127.0.0.1:2');
  });

  test('${file:} is read relative to the config file', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), 'abc-token\n');
    const result = parseConfigText(yaml('server: { adminToken: "${file:token}" }', ...okFlow), join(dir, 'junction.yaml'), {});
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.config.server.adminToken?.reveal(), 'abc-token');
  });
});
