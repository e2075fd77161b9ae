/**
 * @module test/config/interpolate
 * `${env:}`, `${file:}` and `$${` in every string of the parsed value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { interpolate } from '../../src/config/interpolate.ts';

const env = { USER_NAME: 'ada', TOKEN: 'tok-123' };

describe('interpolate', () => {
  test('resolves env references anywhere in nested strings and leaves other values alone', () => {
    const out = interpolate({ a: ['x ${env:USER_NAME} y', 3, true, null], b: { c: '${env:TOKEN}${env:USER_NAME}' } }, { env, baseDir: '/' });
    assert.deepEqual(out.value, { a: ['x ada y', 3, true, null], b: { c: 'tok-123ada' } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(out.resolved, [
      { path: ['a', 0], value: 'ada' },
      { path: ['b', 'c'], value: 'tok-123' },
      { path: ['b', 'c'], value: 'ada' },
    ]);
  });

  test('reads ${file:} relative to baseDir and drops one trailing newline', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-interp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.txt'), 'line one\nline two\n\n');
    const out = interpolate({ s: '${file:a.txt}' }, { env, baseDir: dir });
    assert.deepEqual(out.value, { s: 'line one\nline two\n' });
  });

  test('$${ writes a literal ${ and is never resolved', () => {
    const out = interpolate({ s: 'cost: $${env:TOKEN} and ${env:USER_NAME}' }, { env, baseDir: '/' });
    assert.deepEqual(out.value, { s: 'cost: ${env:TOKEN} and ada' });
    assert.deepEqual(out.resolved, [{ path: ['s'], value: 'ada' }]);
  });

  test('an unresolvable reference is an issue at its path, and the string is kept as written', () => {
    const out = interpolate({ auth: { bearer: 'Bearer ${env:NOPE} ${env:TOKEN}' } }, { env, baseDir: '/' });
    assert.deepEqual(out.value, { auth: { bearer: 'Bearer ${env:NOPE} ${env:TOKEN}' } });
    assert.deepEqual(out.issues, [{ path: ['auth', 'bearer'], message: 'environment variable NOPE is not set (give a fallback with ${env:NOPE:-value})' }]);
  });

  test('${env:NAME:-fallback} takes the fallback only when NAME is unset', () => {
    const out = interpolate({ a: '${env:NOPE:-4010}', b: '${env:USER_NAME:-bob}', c: '${env:NOPE:-}' }, { env, baseDir: '/' });
    assert.deepEqual(out.value, { a: '4010', b: 'ada', c: '' });
    assert.deepEqual(out.issues, []);
  });

  test('names each kind of bad reference', () => {
    const messages = (s: string): string[] => interpolate([s], { env, baseDir: '/nonexistent' }).issues.map((i) => i.message);
    assert.match(messages('${NAME}')[0]!, /unknown reference "\$\{NAME\}"; use \$\{env:NAME\} or \$\{file:path\}/);
    assert.match(messages('${env:BAD-NAME}')[0]!, /does not name an environment variable/);
    assert.match(messages('${file:}')[0]!, /needs a path/);
    assert.match(messages('${file:x.txt}')[0]!, /cannot read file x\.txt \(no such file/);
    assert.match(messages('abc ${env:TOKEN')[0]!, /unclosed "\$\{"/);
  });

  test('an issue never holds a resolved value', () => {
    const out = interpolate({ a: '${env:TOKEN} ${env:MISSING}' }, { env, baseDir: '/' });
    assert.ok(!JSON.stringify(out.issues).includes('tok-123'));
  });
});
