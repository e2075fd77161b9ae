/**
 * @module test/config/load
 * Loading a config file: defaults, secrets, freezing, and the error that lists
 * every mistake one per line.
 */
import assert from 'node:assert/strict';
import { dirname, join, relative, resolve } from 'node:path';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfigText } from '../../src/config/load.ts';
import type { ConfigIssue } from '../../src/config/load.ts';
import { formatIssue, formatPath } from '../../src/config/issue.ts';
import { isSecret } from '../../src/core/secret.ts';
import { junctionRejection } from '../helpers/rejection.ts';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/config');
const ADMIN_TOKEN = 'admin-SECRET-7f3a9c';
const env = { JUNCTION_TEST_ADMIN_TOKEN: ADMIN_TOKEN };

describe('loadConfig on a valid file', () => {
  test('returns the absolute file, its directory and the config', async () => {
    const loaded = await loadConfig(join(fixtures, 'valid.yaml'), { env });
    assert.equal(loaded.file, join(fixtures, 'valid.yaml'));
    assert.equal(loaded.baseDir, fixtures);
    assert.equal(loaded.config.store.url, 'sqlite:./data/test.db');
    assert.equal(loaded.config.store.retention.done, 7 * 86_400_000, 'a URL alone gets the default retention');
  });

  test('store takes a postgres:// or postgresql:// URL, alone or with retention', () => {
    for (const store of ['postgres://junction@db:5432/junction?schema=jnc', '{ url: "postgresql://junction@db/junction", retention: { done: 1d } }']) {
      const r = parseConfigText(`store: ${store}\nflows: {}\n`, 'junction.yaml', {});
      assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
      assert.match(r.config.store.url, /^postgres(ql)?:\/\/junction@db/);
    }
    const refused = parseConfigText('store: mysql://junction@db/junction\nflows: {}\n', 'junction.yaml', {});
    assert.ok(!refused.ok);
  });

  test('applies the schema defaults', async () => {
    const { config } = await loadConfig(join(fixtures, 'valid.yaml'), { env });
    assert.equal(config.server.port, 9090);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.worker.concurrency, 32);
    assert.equal(config.log.level, 'info');
    const crm = config.connectors.crm!;
    assert.equal(crm.timeoutMs, 5000);
    assert.deepEqual(crm.retry, { maxAttempts: 8, baseMs: 200, maxMs: 60_000 });
    const flow = config.flows['orders-to-crm']!;
    assert.equal(flow.trigger.type, 'http');
    assert.equal((flow.trigger.options as { method: string }).method, 'POST');
    assert.deepEqual(flow.steps.map((s) => s.type), ['map', 'deliver']);
    assert.deepEqual(flow.steps[1]!.options, { connector: 'crm', request: { method: 'POST', path: '/orders' }, idempotencyKey: '{{ orderId }}' });
  });

  test('$${ stays a literal ${', async () => {
    const { config } = await loadConfig(join(fixtures, 'valid.yaml'), { env });
    assert.equal(config.flows['orders-to-crm']!.description, 'Price ${currency} stays literal.');
  });

  test('secrets become Secret objects that print as [redacted]', async () => {
    const { config } = await loadConfig(join(fixtures, 'valid.yaml'), { env });
    const admin = config.server.adminToken;
    assert.ok(isSecret(admin));
    assert.equal(admin.reveal(), ADMIN_TOKEN);
    const bearer = config.connectors.crm!.auth!.bearer;
    assert.ok(isSecret(bearer));
    assert.equal(bearer.reveal(), 'crm-file-token-4711', 'read from the file, one trailing newline dropped');
    const json = JSON.stringify(config);
    assert.equal(JSON.stringify(admin), '"[redacted]"');
    assert.ok(!json.includes(ADMIN_TOKEN) && !json.includes('crm-file-token-4711'));
    assert.ok(!inspect(config, { depth: null }).includes(ADMIN_TOKEN));
  });

  test('the result is deep-frozen, and secrets still reveal', async () => {
    const loaded = await loadConfig(join(fixtures, 'valid.yaml'), { env });
    const { config } = loaded;
    assert.ok(Object.isFrozen(loaded));
    for (const o of [config, config.server, config.connectors, config.connectors.crm!.retry, config.flows['orders-to-crm']!.steps, config.flows['orders-to-crm']!.steps[0]!.options]) {
      assert.ok(Object.isFrozen(o));
    }
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.flows['orders-to-crm']!.steps as unknown[]).push({});
    }, TypeError);
    assert.ok(Object.isFrozen(config.server.adminToken));
    assert.equal(config.server.adminToken!.reveal(), ADMIN_TOKEN);
  });
});

describe('loadConfig on a file with mistakes', () => {
  const file = join(fixtures, 'invalid.yaml');
  const crmToken = 'crm-SECRET-c0ffee-1234';

  test('throws JNC_CONFIG_INVALID with every issue in details and one per line in the message', async () => {
    const err = await junctionRejection(loadConfig(file, { env: { JUNCTION_TEST_CRM_TOKEN: crmToken } }));
    assert.equal(err.code, 'JNC_CONFIG_INVALID');
    const issues = err.details?.issues as ConfigIssue[];
    assert.deepEqual(
      issues.map((i) => `${i.line}:${i.column} ${i.path}`),
      ['2:9 server.port', '9:5 connectors.crm.timeoutMS', '14:31 flows.orders.steps[0].deliver.connector'],
    );
    assert.ok(issues.every((i) => i.file === file));
    const shown = relative(process.cwd(), file);
    const lines = err.message.split('\n');
    assert.equal(lines[0], `Configuration is invalid: 3 mistakes in ${shown}`);
    assert.equal(lines.length, 4);
    assert.equal(lines[1], `${shown}:2:9 server.port: expected a number, got a string`);
    // The list of allowed keys grows with the connector options; its start is enough here.
    assert.ok(lines[2]!.startsWith(`${shown}:9:5 connectors.crm.timeoutMS: unknown key "timeoutMS" (did you mean "timeoutMs"?); expected one of type, baseUrl,`), lines[2]);
    assert.equal(lines[3], `${shown}:14:31 flows.orders.steps[0].deliver.connector: unknown connector "crn" (did you mean "crm"?); defined connectors: crm`);
  });

  test('never shows a resolved secret', async () => {
    const err = await junctionRejection(loadConfig(file, { env: { JUNCTION_TEST_CRM_TOKEN: crmToken } }));
    assert.ok(!err.message.includes(crmToken));
    assert.ok(!JSON.stringify(err.details).includes(crmToken));
    assert.ok(!inspect(err, { depth: null }).includes(crmToken));
  });

  test('scrubs a secret that a message would quote', () => {
    // JSONata names the token it chokes on; here that token came from the environment.
    const text = ['flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - map: { x: "a.b ${env:TOKEN}" }', ''].join('\n');
    const result = parseConfigText(text, 'junction.yaml', { TOKEN: 'tok-SECRET-99' });
    assert.ok(!result.ok);
    assert.equal(result.issues.length, 1);
    assert.match(result.issues[0]!.message, /invalid JSONata expression: .*\[redacted\]/);
    assert.ok(!JSON.stringify(result.issues).includes('tok-SECRET-99'));
  });

  test('a missing file is JNC_CONFIG_UNREADABLE', async () => {
    const err = await junctionRejection(loadConfig(join(fixtures, 'no-such.yaml')));
    assert.equal(err.code, 'JNC_CONFIG_UNREADABLE');
    assert.match(err.message, /no-such\.yaml \(no such file\)/);
  });

  test('a directory is JNC_CONFIG_UNREADABLE', async () => {
    const err = await junctionRejection(loadConfig(fixtures));
    assert.equal(err.code, 'JNC_CONFIG_UNREADABLE');
  });
});

describe('issue formatting', () => {
  test('paths use dots, [index] and quotes only where a key needs them', () => {
    assert.equal(formatPath(['flows', 'orders-to-crm', 'steps', 1, 'map', 'total']), 'flows.orders-to-crm.steps[1].map.total');
    assert.equal(formatPath(['connectors', 'crm', 'headers', 'x.trace id']), 'connectors.crm.headers["x.trace id"]');
    assert.equal(formatPath([]), '');
  });

  test('a file outside the working directory is shown absolute; an empty path is left out', () => {
    const issue = { file: '/elsewhere/junction.yaml', line: 1, column: 1, path: '', message: 'the file is empty' };
    assert.equal(formatIssue(issue, '/work'), '/elsewhere/junction.yaml:1:1: the file is empty');
    assert.equal(formatIssue({ ...issue, path: 'flows' }, '/elsewhere'), 'junction.yaml:1:1 flows: the file is empty');
  });
});
