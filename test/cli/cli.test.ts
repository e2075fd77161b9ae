/**
 * The CLI as a user runs it: exit codes, what goes to stdout and stderr.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';

const VALID = `
store: sqlite:./j.db
connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010", auth: { bearer: "\${env:CLI_TEST_TOKEN}" } }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: crm } } ]
`;

describe('junction check', () => {
  it('exits 0 and says OK for a valid file', async (t) => {
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(file, VALID);
    const r = await junction(['check', '-c', file], { CLI_TEST_TOKEN: 'tok-123456' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(1 flow, 1 connector\)/);
  });

  it('exits 1 and lists every mistake with file, line, column and path, never the secret', async (t) => {
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(file, VALID.replace('baseUrl', 'baseURL').replace('connector: crm', 'connector: erp'));
    const r = await junction(['check', '-c', file], { CLI_TEST_TOKEN: 'tok-123456' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^JNC_CONFIG_INVALID/);
    assert.match(r.stderr, /junction\.yaml:4:\d+ connectors\.crm\.baseURL: unknown key "baseURL" \(did you mean "baseUrl"\?\)/);
    assert.match(r.stderr, /junction\.yaml:8:\d+ flows\.orders\.steps\[0\]\.deliver\.connector: unknown connector "erp"/);
    assert.doesNotMatch(r.stderr, /tok-123456/);
  });

  it('reports every step that cannot start, each at its line, with its code', async (t) => {
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(
      file,
      `connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010" }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - validate: { schema: ./schemas/missing.json }
      - code: ./steps/missing.ts
      - deliver: { connector: crm }
`,
    );
    const r = await junction(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /2 mistakes/);
    assert.match(r.stderr, /junction\.yaml:7:\d+ flows\.orders\.steps\[0\]\.validate: .*missing\.json/);
    assert.match(r.stderr, /junction\.yaml:8:\d+ flows\.orders\.steps\[1\]\.code: JNC_CODE_NOT_FOUND: /);
  });

  it('exits 1 naming the file when it does not exist', async () => {
    const r = await junction(['check', '-c', '/nonexistent/junction.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /JNC_CONFIG_UNREADABLE.*\/nonexistent\/junction\.yaml/);
  });
});

describe('junction run', () => {
  it('exits 1 with JNC_LISTEN_FAILED, not a stack trace, when its port is taken', async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as AddressInfo;
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(file, VALID.replace('store: sqlite:./j.db', `store: sqlite:./j.db\nserver: { port: ${port} }`));
    const r = await junction(['run', '-c', file], { CLI_TEST_TOKEN: 'x' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^JNC_LISTEN_FAILED: Cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('junction schema', () => {
  it('prints a JSON Schema that names every step type', async () => {
    const r = await junction(['schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, unknown> };
    assert.match(schema.$schema, /json-schema\.org/);
    assert.ok(schema.properties.flows && schema.properties.connectors);
    assert.match(r.stdout, /"deliver"/);
    assert.match(r.stdout, /"map"/);
  });
});

describe('junction dlq', () => {
  it('says there are no dead letters on a fresh store', async (t) => {
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(file, VALID);
    const r = await junction(['dlq', 'list', '-c', file], { CLI_TEST_TOKEN: 'x' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no dead letters/);
  });

  it('exits 1 for an unknown id and for a replay of ids that are no dead letters, 2 for a replay that names nothing', async (t) => {
    const file = join(tempDir(t), 'junction.yaml');
    writeFileSync(file, VALID);
    const env = { CLI_TEST_TOKEN: 'x' };
    const show = await junction(['dlq', 'show', 'nope', '-c', file], env);
    assert.equal(show.code, 1);
    assert.match(show.stderr, /JNC_DEAD_LETTER_UNKNOWN: No dead letter with id nope/);
    const none = await junction(['dlq', 'replay', '-c', file], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /exactly one of them/);
    const unknown = await junction(['dlq', 'replay', 'nope', '-c', file], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not dead letters: nope/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await junction(['dlq', 'frobnicate']);
    assert.equal(r.code, 2);
  });
});
