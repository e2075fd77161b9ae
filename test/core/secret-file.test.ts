/**
 * @module test/core/secret-file
 * A secret read from `${file:…}` follows its file: rotated on disk, it is in
 * effect at the next check, with no restart; a file caught mid-rotation keeps
 * the last value.
 */
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { parseConfigText } from '../../src/config/load.ts';
import { SecretFile } from '../../src/core/secret-file.ts';
import { closeConnectors, createConnectors } from '../../src/connectors/registry.ts';
import { tempDir, until } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

describe('SecretFile', () => {
  it('returns the new value once the file is rewritten, and bumps its revision', (t) => {
    const file = join(tempDir(t), 'key');
    writeFileSync(file, 'old-key\n');
    const s = new SecretFile(file, 'old-key', { checkEveryMs: 0 });
    assert.equal(s.read(), 'old-key');
    const r0 = s.revision();
    writeFileSync(file, 'new-key-longer\n');
    assert.equal(s.read(), 'new-key-longer');
    assert.equal(s.revision(), r0 + 1);
    // Read again with no change: same value, same revision.
    assert.equal(s.read(), 'new-key-longer');
    assert.equal(s.revision(), r0 + 1);
  });

  it('follows a file replaced by rename, as secret volumes rotate', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'key');
    writeFileSync(file, 'one');
    const s = new SecretFile(file, 'one', { checkEveryMs: 0 });
    writeFileSync(join(dir, 'key.tmp'), 'two');
    renameSync(join(dir, 'key.tmp'), file);
    assert.equal(s.read(), 'two');
  });

  it('keeps the last value while the file is missing or empty (caught mid-rotation)', (t) => {
    const file = join(tempDir(t), 'key');
    writeFileSync(file, 'kept');
    const s = new SecretFile(file, 'kept', { checkEveryMs: 0 });
    rmSync(file);
    assert.equal(s.read(), 'kept');
    writeFileSync(file, '');
    assert.equal(s.read(), 'kept');
    writeFileSync(file, 'back');
    assert.equal(s.read(), 'back');
  });

  it('looks at the file at most once per checkEveryMs', (t) => {
    const file = join(tempDir(t), 'key');
    writeFileSync(file, 'first');
    const s = new SecretFile(file, 'first', { checkEveryMs: 60_000 });
    writeFileSync(file, 'second');
    assert.equal(s.read(), 'first');
  });
});

describe('a ${file:} secret in the config', () => {
  const config = (token: string) => `
server: { adminToken: "${token}" }
flows:
  a:
    trigger: { http: { path: /a } }
    steps: [ { filter: "true" } ]
`;

  it('follows its file: a rewritten token is revealed within a bounded wait, no reload', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'token-before\n');
    const parsed = parseConfigText(config('${file:token}'), join(dir, 'junction.yaml'));
    assert.ok(parsed.ok);
    const token = parsed.config.server.adminToken!;
    assert.equal(token.reveal(), 'token-before');
    assert.equal(inspect(token), '[redacted]');
    writeFileSync(join(dir, 'token'), 'token-after\n');
    await until(() => token.reveal() === 'token-after', 5000, 25);
  });

  it('sends the rotated bearer token on the next outbound call, with no restart', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'crm.token'), 'tok-before\n');
    const sink = await startTestSink(t);
    const parsed = parseConfigText(
      `
connectors:
  crm: { type: rest, baseUrl: "${sink.url}", auth: { bearer: "\${file:crm.token}" } }
flows:
  a:
    trigger: { http: { path: /a } }
    steps: [ { deliver: { connector: crm } } ]
`,
      join(dir, 'junction.yaml'),
    );
    assert.ok(parsed.ok);
    const connectors = createConnectors(parsed.config.connectors);
    t.after(() => closeConnectors(connectors));
    const crm = connectors.get('crm')!;
    const sent = async (): Promise<unknown> => {
      await crm.call({ method: 'POST', path: '/x', body: '{}' }, { signal: AbortSignal.timeout(3000) });
      return sink.requests.at(-1)?.headers.authorization;
    };
    assert.equal(await sent(), 'Bearer tok-before');
    writeFileSync(join(dir, 'crm.token'), 'tok-after\n');
    const deadline = Date.now() + 5000;
    while ((await sent()) !== 'Bearer tok-after') {
      assert.ok(Date.now() < deadline, 'the new token was not sent within 5s');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('is read once when the reference is only part of the string', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'abc');
    const parsed = parseConfigText(config('x-${file:token}'), join(dir, 'junction.yaml'));
    assert.ok(parsed.ok);
    const token = parsed.config.server.adminToken!;
    assert.equal(token.reveal(), 'x-abc');
    assert.equal(token.revision(), 0);
  });

  it('from ${env:} stays fixed', () => {
    const parsed = parseConfigText(config('${env:TOKEN}'), '/nonexistent/junction.yaml', { TOKEN: 'env-token' });
    assert.ok(parsed.ok);
    assert.equal(parsed.config.server.adminToken!.reveal(), 'env-token');
    assert.equal(parsed.config.server.adminToken!.revision(), 0);
  });
});
