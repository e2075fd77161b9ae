/**
 * @module test/config/deprecations
 * A deprecated key still loads, and is reported as a warning at its line:
 * `junction check` prints it and passes; giving the key and its replacement
 * together is a mistake. `clockSkewSec` is the first: durations are in
 * milliseconds everywhere else.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
const jwtFlow = (skew: string): string =>
  yaml(
    'flows:',
    '  a:',
    '    trigger:',
    '      http:',
    '        path: /a',
    '        auth:',
    '          jwt:',
    '            jwksUrl: https://id.example.com/jwks',
    '            issuer: https://id.example.com/',
    '            audience: orders',
    `            ${skew}`,
    '    steps:',
    '      - map: { x: y }',
  );

type JwtOptions = { clockSkewMs: number };
const jwtOf = (r: ReturnType<typeof parseConfigText>): JwtOptions => {
  assert.ok(r.ok, JSON.stringify(r));
  return (r.config.flows.a?.trigger.options as { auth: { jwt: JwtOptions } }).auth.jwt;
};

describe('deprecated config keys', () => {
  it('clockSkewMs is the skew in milliseconds, 30000 by default', () => {
    assert.equal(jwtOf(parseConfigText(jwtFlow('clockSkewMs: 5000'), 'junction.yaml', {})).clockSkewMs, 5000);
    assert.equal(jwtOf(parseConfigText(jwtFlow(''), 'junction.yaml', {})).clockSkewMs, 30_000);
  });

  it('clockSkewSec still works, read as milliseconds, with a warning at its key', () => {
    const r = parseConfigText(jwtFlow('clockSkewSec: 45'), 'junction.yaml', {});
    assert.equal(jwtOf(r).clockSkewMs, 45_000);
    assert.ok(r.ok);
    assert.deepEqual(
      r.warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${w.message}`),
      ['11:13 flows.a.trigger.http.auth.jwt.clockSkewSec: deprecated: use clockSkewMs'],
    );
  });

  it('a config without deprecated keys has no warnings', () => {
    const r = parseConfigText(jwtFlow('clockSkewMs: 1000'), 'junction.yaml', {});
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, []);
  });

  it('both keys at once is a mistake', () => {
    const r = parseConfigText(jwtFlow('clockSkewMs: 1000\n            clockSkewSec: 1'), 'junction.yaml', {});
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.issues.some((i) => i.path.endsWith('clockSkewSec') && /give clockSkewMs only/.test(i.message)), JSON.stringify(r));
  });

  it('junction check prints the warning with file:line and still passes', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, jwtFlow('clockSkewSec: 45'));
    const res = await junction(['check', '-c', file]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /junction\.yaml:11:13 flows\.a\.trigger\.http\.auth\.jwt\.clockSkewSec: deprecated: use clockSkewMs \(warning\)/);
    assert.match(res.stdout, /OK \(1 flow, 0 connectors\)/);
  });

  it('the published JSON Schema marks the key deprecated, with standard keywords only', async () => {
    const { configJsonSchema } = await import('../../src/config/json-schema.ts');
    const text = JSON.stringify(configJsonSchema());
    assert.match(text, /"clockSkewSec":\{[^}]*"deprecated":true/);
    assert.doesNotMatch(text, /replacedBy/);
  });
});

describe('signature toleranceSec', () => {
  const flow = (tolerance: string): string =>
    yaml('flows:', '  a:', '    trigger:', '      http:', '        path: /a', '        auth:', `          signature: { scheme: github, secret: s3cret-s3cret, ${tolerance} }`, '    steps:', '      - map: { x: y }');
  const toleranceOf = (r: ReturnType<typeof parseConfigText>): number => {
    assert.ok(r.ok, JSON.stringify(r));
    return (r.config.flows.a?.trigger.options as { auth: { signature: { toleranceMs: number } } }).auth.signature.toleranceMs;
  };

  it('is read as toleranceMs, with a warning; toleranceMs is the key to write', () => {
    const old = parseConfigText(flow('toleranceSec: 60'), 'junction.yaml', {});
    assert.equal(toleranceOf(old), 60_000);
    assert.ok(old.ok && old.warnings.length === 1 && /toleranceSec: deprecated: use toleranceMs/.test(`${old.warnings[0]?.path}: ${old.warnings[0]?.message}`));
    const now = parseConfigText(flow('toleranceMs: 60000'), 'junction.yaml', {});
    assert.equal(toleranceOf(now), 60_000);
    assert.ok(now.ok && now.warnings.length === 0);
    assert.equal(toleranceOf(parseConfigText(flow('consumer: gh'), 'junction.yaml', {})), 300_000);
  });
});
