/**
 * `junction init [dir]`: a starter project that `check` passes, with the
 * editor's schema line, and that is never written over without `--force`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../schema/junction.schema.json', import.meta.url));

describe('junction init', () => {
  it('writes junction.yaml, .env.example and README.md that junction check passes', async (t) => {
    const dir = join(tempDir(t), 'project');
    const init = await junction(['init', dir]);
    assert.equal(init.code, 0, init.stderr);
    for (const name of ['junction.yaml', '.env.example', 'README.md']) assert.match(init.stdout, new RegExp(`wrote .*${name.replace('.', '\\.')}`));

    const check = await junction(['check', '-c', join(dir, 'junction.yaml')]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /OK \(1 flow, 1 connector\)/);
  });

  it("points the YAML language server at the package's JSON Schema, relative to the project", async (t) => {
    const dir = tempDir(t);
    assert.equal((await junction(['init', dir])).code, 0);
    const first = readFileSync(join(dir, 'junction.yaml'), 'utf8').split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\.{1,2}\/\S+)$/.exec(first);
    assert.ok(m, first);
    assert.equal(resolve(dir, m[1]!), SCHEMA_FILE);
  });

  it('lists every variable junction.yaml reads in .env.example', async (t) => {
    const dir = tempDir(t);
    assert.equal((await junction(['init', dir])).code, 0);
    const yaml = readFileSync(join(dir, 'junction.yaml'), 'utf8').replace(/^\s*#.*$/gm, '');
    const used = [...yaml.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    const listed = [...readFileSync(join(dir, '.env.example'), 'utf8').matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]);
    assert.ok(used.length > 0);
    assert.deepEqual([...new Set(used)].sort(), listed.sort());
  });

  it('refuses to overwrite an existing file, names it and writes nothing, unless --force', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'README.md'), 'mine\n');
    const refused = await junction(['init', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /JNC_INIT_EXISTS: Not overwriting README\.md in .*--force/);
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), 'mine\n');
    assert.throws(() => readFileSync(join(dir, 'junction.yaml')), { code: 'ENOENT' });

    const forced = await junction(['init', dir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(join(dir, 'README.md'), 'utf8'), 'mine\n');
  });
});
