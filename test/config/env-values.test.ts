/**
 * @module test/config/env-values
 * A value that is one whole `${env:…}` or `${file:…}` reference fills a
 * number or boolean field (`port: ${env:PORT}`); text that is not one is
 * reported at its line as coming from its variable or file, never by its
 * content. A missing variable in a secret field gets no literal fallback hint.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
const okFlow = ['flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - map: { x: y }'];

function issuesOf(text: string, env: NodeJS.ProcessEnv, file = 'junction.yaml'): string[] {
  const r = parseConfigText(text, file, env);
  assert.equal(r.ok, false, 'expected mistakes');
  return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

describe('whole ${env:} and ${file:} references in number and boolean fields', () => {
  it('fill a number field: port: ${env:PORT}', () => {
    const r = parseConfigText(yaml('server: { port: "${env:PORT}" }', 'worker: { concurrency: "${env:WORKERS}" }', ...okFlow), 'junction.yaml', { PORT: ' 9090 ', WORKERS: '4' });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.config.server.port, 9090);
    assert.equal(r.config.worker.concurrency, 4);
  });

  it('fill a boolean field, true or false in any case', () => {
    const text = yaml('flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - convert: { to: json, from: xml, xml: { unwrapRoot: "${env:UNWRAP}" } }');
    const on = parseConfigText(text, 'junction.yaml', { UNWRAP: 'TRUE' });
    assert.ok(on.ok, JSON.stringify(on));
    const options = on.config.flows.a?.steps[0]?.options as { xml: { unwrapRoot: boolean } };
    assert.equal(options.xml.unwrapRoot, true);
  });

  it('fill a number from a file, as a mounted config volume would', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-env-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'port'), '8181\n');
    const r = parseConfigText(yaml('server: { port: "${file:port}" }', ...okFlow), join(dir, 'junction.yaml'), {});
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.config.server.port, 8181);
  });

  it('report text that is not a number at its line, naming the variable and not its value', () => {
    const issues = issuesOf(yaml('server:', '  port: ${env:PORT}', ...okFlow), { PORT: 'eighty-eighty' });
    assert.deepEqual(issues, ['2:9 server.port: expected a number, but environment variable PORT does not hold one']);
    assert.ok(!issues.join('').includes('eighty'));
  });

  it('still check the converted value against the field (range)', () => {
    assert.deepEqual(issuesOf(yaml('server:', '  port: ${env:PORT}', ...okFlow), { PORT: '70000' }), ['2:9 server.port: must be at most 65535']);
  });

  it('leave a reference inside a longer string alone: "80${env:X}" is text, and refused as text', () => {
    const issues = issuesOf(yaml('server:', '  port: "80${env:X}"', ...okFlow), { X: '80' });
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^2:9 server\.port: expected a number, got a string/);
  });

  it('leave a string field a string: a number-looking secret stays text', () => {
    const r = parseConfigText(yaml('server: { adminToken: "${env:TOKEN}" }', ...okFlow), 'junction.yaml', { TOKEN: '12345678' });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.config.server.adminToken?.reveal(), '12345678');
  });
});

describe('a missing environment variable', () => {
  it('in a plain field suggests a fallback', () => {
    assert.deepEqual(issuesOf(yaml('server: { host: "${env:HOST}" }', ...okFlow), {}), [
      '1:17 server.host: environment variable HOST is not set (give a fallback with ${env:HOST:-value})',
    ]);
  });

  it('in a secret field suggests no literal fallback, which would put the secret in the file', () => {
    const issues = issuesOf(
      yaml('server: { adminToken: "${env:ADMIN}" }', 'connectors:', '  crm:', '    type: rest', '    baseUrl: http://127.0.0.1:1', '    auth: { bearer: "${env:CRM_TOKEN}" }', ...okFlow),
      {},
    );
    assert.equal(issues.length, 2);
    for (const issue of issues) {
      assert.doesNotMatch(issue, /:-value/);
      assert.match(issue, /is not set \(set it, or use \$\{file:path\} to read the secret from a file\)/);
    }
  });
});
