/**
 * A connector's cache as the admin API shows it (live counts under
 * `state.policies.cache`) and purges it (`DELETE /admin/connectors/:name/cache`),
 * in a whole engine whose flow GETs through a cached connector.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder } from '../helpers/servers.ts';

const TOKEN = 'adm-cache-4e1f';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin API: connector cache', () => {
  it('shows the cache state, purges it, and answers 404 JNC_CACHE_UNKNOWN for a connector without one', async (t) => {
    const api = await startRecorder(t, (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end('{"tier":"gold"}'));
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 20 }
connectors:
  accounts:
    type: rest
    baseUrl: "${api.url}"
    cache: { ttlMs: 60000, etag: true }
  plain:
    type: rest
    baseUrl: "${api.url}"
flows:
  lookup:
    trigger: { http: { path: /hooks/lookup } }
    steps:
      - call: { connector: accounts, request: { method: GET, path: /accounts/1 } }
`,
      { env: { ADMIN_TOKEN: TOKEN } },
    );
    // One after the other: two at once could both miss (the cache does not merge concurrent misses).
    for (const [i, key] of ['a', 'b'].entries()) {
      assert.equal((await engine.post('/hooks/lookup', { id: key }, { 'idempotency-key': key })).status, 202);
      await engine.until(() => engine.settled.length === i + 1);
    }
    assert.equal(api.seen.length, 1, 'the second message was answered from the cache');

    const stateOf = async () => {
      const res = await engine.app.inject({ url: '/admin/connectors', headers: auth });
      const list = (res.json() as { connectors: { name: string; state?: { policies: Record<string, unknown> } }[] }).connectors;
      return list.find((c) => c.name === 'accounts')?.state?.policies.cache as { entries: number; bytes: number; hits: number; misses: number };
    };
    const before = await stateOf();
    assert.equal(before.entries, 1);
    assert.equal(before.hits, 1);
    assert.equal(before.misses, 1);
    assert.ok(before.bytes > 0);

    const purged = await engine.app.inject({ method: 'DELETE', url: '/admin/connectors/accounts/cache', headers: auth });
    assert.equal(purged.statusCode, 200);
    assert.deepEqual(purged.json(), { connector: 'accounts', purged: 1 });
    assert.equal((await stateOf()).entries, 0);
    assert.equal((await stateOf()).bytes, 0);

    for (const name of ['plain', 'nope']) {
      const res = await engine.app.inject({ method: 'DELETE', url: `/admin/connectors/${name}/cache`, headers: auth });
      assert.equal(res.statusCode, 404);
      const body = res.json() as { code: string; detail: string };
      assert.equal(body.code, 'JNC_CACHE_UNKNOWN');
      assert.match(body.detail, /with a cache: accounts/);
    }
    assert.equal((await engine.app.inject({ method: 'DELETE', url: '/admin/connectors/accounts/cache' })).statusCode, 401);
  });
});
