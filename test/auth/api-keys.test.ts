/**
 * @module test/auth/api-keys
 * `http.auth.apiKeys`: only a caller with one of the trigger's keys gets in,
 * under its consumer's name; a refusal says what was wrong and never the key;
 * a key read from a file is rotated by rewriting the file.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { postJson, startIngressEngine, storedCount } from '../helpers/ingress.ts';

const KEY_A = 'ka_7Hq2VxLp9RtY4mWz';
const KEY_B = 'kb_Z3nC8dFs1GjK6uPe';
const KEY_NEW = 'kn_Q5wE2rT8yU1iO4pA';
const env = { KEY_A, KEY_B, KEY_NEW };

const FLOWS = `
  orders:
    trigger:
      http:
        path: /hooks/orders
        auth:
          apiKeys:
            - "\${env:KEY_A}"
            - { key: "\${env:KEY_B}", consumer: acme }
    steps:
      - deliver: { connector: sink }
  rotating:
    trigger:
      http:
        path: /hooks/rotating
        auth:
          apiKeys:
            - { key: "\${env:KEY_A}", consumer: partner }
            - { key: "\${env:KEY_NEW}", consumer: partner }
    steps:
      - deliver: { connector: sink }
`;

// Workers off: these tests are about who gets in, not delivery.
const start = (t: TestContext, flows = FLOWS) => startIngressEngine(t, flows, { env });

/** The whole answer, status line aside: no secret may appear anywhere in it. */
function answerText(res: { payload: string; headers: Record<string, unknown> }): string {
  return JSON.stringify(res.headers) + res.payload;
}

describe('API keys', () => {
  it('refuses a request with no key: 401 that says where to send one, nothing stored', async (t) => {
    const engine = await start(t);
    const res = await postJson(engine, '/hooks/orders');
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.code, 'JNC_AUTH_DENIED');
    assert.match(String(body.detail), /send an API key in X-Api-Key or Authorization: Bearer/);
    assert.equal(await storedCount(engine), 0);
  });

  it('refuses a caller without a key before reading the body: 401, not 400, 413 or 415', async (t) => {
    const engine = await start(t);
    const tries = [
      { headers: { 'content-type': 'application/json' }, payload: '{"id": 1,' },
      { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }) },
      { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    ];
    for (const { headers, payload } of tries) {
      const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers, payload });
      assert.equal(res.statusCode, 401, `${headers['content-type']}: ${res.payload}`);
      assert.equal((res.json() as { code: string }).code, 'JNC_AUTH_DENIED');
    }
    // With the key, the same bodies get what they deserve.
    const bad = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { ...tries[0]!.headers, 'x-api-key': KEY_A }, payload: tries[0]!.payload });
    assert.equal(bad.statusCode, 400);
    assert.equal(await storedCount(engine), 0);
  });

  it('refuses a wrong key without echoing it, nor any right one', async (t) => {
    const engine = await start(t);
    // A near miss: a right key with one character changed, so that a partial echo would show.
    const wrong = KEY_A.slice(0, -1) + 'X';
    const tries: Record<string, string>[] = [{ 'x-api-key': wrong }, { authorization: `Bearer ${wrong}` }];
    for (const headers of tries) {
      const res = await postJson(engine, '/hooks/orders', headers);
      assert.equal(res.statusCode, 401);
      const body = res.json() as Record<string, unknown>;
      assert.equal(body.code, 'JNC_AUTH_DENIED');
      assert.match(String(body.detail), /the API key is not valid/);
      const text = answerText(res);
      for (const secret of [wrong, KEY_A, KEY_B, KEY_A.slice(0, 8)]) assert.ok(!text.includes(secret), `the answer holds ${secret}`);
    }
    assert.equal(await storedCount(engine), 0);
  });

  it('admits a key sent in X-Api-Key, names its consumer in meta, and keeps the key out of the message', async (t) => {
    const engine = await start(t);
    const res = await postJson(engine, '/hooks/orders', { 'x-api-key': KEY_A });
    assert.equal(res.statusCode, 202);
    assert.ok(!answerText(res).includes(KEY_A));
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, 'key-1');
    assert.equal(rec?.meta.auth, 'apiKeys');
    assert.equal(rec?.headers['x-api-key'], undefined);
    assert.ok(!JSON.stringify(rec).includes(KEY_A));
  });

  it('admits a key sent as Authorization: Bearer, under the consumer named in the config', async (t) => {
    const engine = await start(t);
    const res = await postJson(engine, '/hooks/orders', { authorization: `Bearer ${KEY_B}` });
    assert.equal(res.statusCode, 202);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, 'acme');
    assert.equal(rec?.headers.authorization, undefined);
  });

  it('takes another scheme in Authorization as no key at all', async (t) => {
    const engine = await start(t);
    const res = await postJson(engine, '/hooks/orders', { authorization: `Basic ${Buffer.from(`u:${KEY_A}`).toString('base64')}` });
    assert.equal(res.statusCode, 401);
    assert.match(String((res.json() as { detail: string }).detail), /send an API key/);
  });

  it('admits the old and the new key together while a consumer moves over (rotation)', async (t) => {
    const engine = await start(t);
    const old = await postJson(engine, '/hooks/rotating', { 'x-api-key': KEY_A });
    const fresh = await postJson(engine, '/hooks/rotating', { authorization: `Bearer ${KEY_NEW}` });
    assert.equal(old.statusCode, 202);
    assert.equal(fresh.statusCode, 202);
    for (const res of [old, fresh]) {
      const rec = await engine.store.getMessage((res.json() as { id: string }).id);
      assert.equal(rec?.meta.consumer, 'partner');
    }
    // Keys are per trigger: KEY_B belongs to another one.
    assert.equal((await postJson(engine, '/hooks/rotating', { 'x-api-key': KEY_B })).statusCode, 401);
  });

  it('takes a key from ${file:}, and a rewritten file swaps it in without a restart', async (t) => {
    const keys = tempDir(t, 'junction-keys-');
    const file = join(keys, 'partner.key');
    writeFileSync(file, `${KEY_A}\n`);
    const engine = await start(
      t,
      `
  filed:
    trigger:
      http:
        path: /hooks/filed
        auth: { apiKeys: [ { key: "\${file:${file}}", consumer: partner } ] }
    steps:
      - deliver: { connector: sink }
`,
    );
    assert.equal((await postJson(engine, '/hooks/filed', { 'x-api-key': KEY_A })).statusCode, 202);
    writeFileSync(file, `${KEY_NEW}\n`);
    await engine.until(async () => (await postJson(engine, '/hooks/filed', { 'x-api-key': KEY_NEW })).statusCode === 202, 5000);
    const old = await postJson(engine, '/hooks/filed', { 'x-api-key': KEY_A });
    assert.equal(old.statusCode, 401);
    assert.ok(!answerText(old).includes(KEY_A) && !answerText(old).includes(KEY_NEW));
  });

  it('refuses to start when two consumers share one key', async (t) => {
    await assert.rejects(
      startTestEngine(
        t,
        `
flows:
  a:
    trigger:
      http: { path: /a, auth: { apiKeys: [ { key: "\${env:KEY_A}", consumer: one }, { key: "\${env:KEY_A}", consumer: two } ] } }
    steps: [ { filter: "true" } ]
`,
        { workers: false, env },
      ),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'JNC_CONFIG_INVALID');
        assert.match(e.message, /one and two have the same key/);
        assert.ok(!e.message.includes(KEY_A));
        return true;
      },
    );
  });

  it('reports an empty list, an empty key and a bad consumer name at their lines', () => {
    const parsed = parseConfigText(
      `flows:
  a:
    trigger: { http: { path: /a, auth: { apiKeys: [] } } }
    steps: [ { filter: "true" } ]
  b:
    trigger:
      http:
        path: /b
        auth:
          apiKeys:
            - { key: "", consumer: "has space" }
            - 42
    steps: [ { filter: "true" } ]
`,
      '/nonexistent/junction.yaml',
    );
    assert.ok(!parsed.ok);
    const found = parsed.issues.map((i) => `${i.line} ${i.path}: ${i.message}`).join('\n');
    assert.match(found, /^3 flows\.a\.trigger\.http\.auth\.apiKeys: list at least one key/m);
    assert.match(found, /^11 flows\.b\.trigger\.http\.auth\.apiKeys\[0\]\.key: must not be empty/m);
    assert.match(found, /^11 flows\.b\.trigger\.http\.auth\.apiKeys\[0\]\.consumer: letters, digits/m);
    assert.match(found, /^12 flows\.b\.trigger\.http\.auth\.apiKeys\[1\]: expected a key \(a string/m);
  });
});
