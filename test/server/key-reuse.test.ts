/**
 * An idempotency key reused for another body is refused with 422 and a problem of
 * its own, never answered `duplicate` with the new body dropped: for the
 * Idempotency-Key header, a signed webhook id (after its signature is checked), and
 * the records of a CSV upload. The same body again is still a duplicate.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Clock } from '../../src/core/clock.ts';
import { startIngressEngine, storedCount } from '../helpers/ingress.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW_MS = 1_780_000_000_000;
const clock: Clock = { now: () => NOW_MS };

const FLOWS = `
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: sink } } ]
  signed:
    trigger: { http: { path: /hooks/signed, auth: { signature: { scheme: standard-webhooks, secret: "\${env:SECRET}" } } } }
    steps: [ { deliver: { connector: sink } } ]
  imports:
    trigger: { http: { path: /imports, records: { format: csv, chunkRecords: 2 } } }
    steps: [ { deliver: { connector: sink } } ]
`;

const start = (t: TestContext) => startIngressEngine(t, FLOWS, { clock, env: { SECRET } });
type Engine = Awaited<ReturnType<typeof start>>;

function post(engine: Engine, url: string, headers: Record<string, string>, payload: string) {
  return engine.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
}

function signed(id: string, payload: string, secret = SECRET): Record<string, string> {
  const at = new Date(NOW_MS);
  return { 'webhook-id': id, 'webhook-timestamp': String(NOW_MS / 1000), 'webhook-signature': new Webhook(secret).sign(id, at, payload) };
}

function assertReused(res: { statusCode: number; headers: Record<string, unknown>; body: string }, key: string, bodies: string[]): void {
  assert.equal(res.statusCode, 422, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const problem = JSON.parse(res.body) as Record<string, unknown>;
  assert.equal(problem.code, 'JNC_IDEMPOTENCY_KEY_REUSED');
  assert.equal(problem.type, 'urn:junction:error:JNC_IDEMPOTENCY_KEY_REUSED');
  assert.equal(problem.title, 'Unprocessable Content');
  assert.equal(problem.idempotencyKey, key);
  assert.match(String(problem.detail), new RegExp(`"${key}".*different body`));
  for (const body of bodies) assert.ok(!res.body.includes(body), 'the problem never shows a body');
}

describe('idempotency key reused for another body', () => {
  it('refuses a second POST with the same Idempotency-Key and another body: 422, and the first message is kept', async (t) => {
    const engine = await start(t);
    const first = await post(engine, '/hooks/orders', { 'idempotency-key': 'k-77' }, '{"order":"A-1","total":10}');
    assert.equal(first.statusCode, 202);
    const id = (first.json() as { id: string }).id;

    const other = await post(engine, '/hooks/orders', { 'idempotency-key': 'k-77' }, '{"order":"B-2","total":99}');
    assertReused(other, 'k-77', ['B-2', 'A-1']);
    assert.equal(other.headers['idempotent-replayed'], undefined);
    assert.equal(await storedCount(engine), 1);
    assert.deepEqual((await engine.store.getMessage(id))?.body, { order: 'A-1', total: 10 });
  });

  it('still answers an identical resend, spacing and key order aside, with 202 duplicate and the first id', async (t) => {
    const engine = await start(t);
    const first = await post(engine, '/hooks/orders', { 'idempotency-key': 'k-78' }, '{"order":"A-1","total":10}');
    const again = await post(engine, '/hooks/orders', { 'idempotency-key': 'k-78' }, '{ "total": 10, "order": "A-1" }');
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { id: (first.json() as { id: string }).id, duplicate: true });
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(await storedCount(engine), 1);
  });

  it('refuses a webhook-id replayed with another, validly signed, body: 422', async (t) => {
    const engine = await start(t);
    const a = '{"type":"order.created","data":{"id":"A-1"}}';
    const b = '{"type":"order.created","data":{"id":"B-2"}}';
    assert.equal((await post(engine, '/hooks/signed', signed('msg_1', a), a)).statusCode, 202);
    assertReused(await post(engine, '/hooks/signed', signed('msg_1', b), b), 'msg_1', ['B-2', 'A-1']);
    assert.equal((await post(engine, '/hooks/signed', signed('msg_1', a), a)).statusCode, 202, 'the same body again is a duplicate');
    assert.equal(await storedCount(engine), 1);
  });

  it('checks the signature first: another body under a known webhook-id with a bad signature is a 401, not a 422', async (t) => {
    const engine = await start(t);
    const a = '{"id":"A-1"}';
    assert.equal((await post(engine, '/hooks/signed', signed('msg_2', a), a)).statusCode, 202);
    const forged = await post(engine, '/hooks/signed', signed('msg_2', a), '{"id":"B-2"}');
    assert.equal(forged.statusCode, 401);
    assert.equal((forged.json() as { code: string }).code, 'JNC_AUTH_DENIED');
  });

  it('refuses a CSV upload resent under its key with a record changed, keeping what was stored; the same upload again is all duplicates', async (t) => {
    const engine = await start(t);
    const upload = (csv: string) => engine.app.inject({ method: 'POST', url: '/imports', headers: { 'content-type': 'text/csv', 'idempotency-key': 'up-1' }, payload: csv });
    const csv = 'sku,qty\nA-1,5\nB-2,7\nC-3,0\n';
    assert.deepEqual((await upload(csv)).json(), { count: 3, created: 3, duplicates: 0 });
    assert.deepEqual((await upload(csv)).json(), { count: 3, created: 0, duplicates: 3 });

    const changed = await upload('sku,qty\nA-1,5\nB-2,7\nC-3,1\n');
    assertReused(changed, 'up-1:2', ['C-3']);
    assert.match(String((changed.json() as { detail: string }).detail), /0 records were stored before it; a changed upload needs a new Idempotency-Key$/);
    assert.equal(await storedCount(engine), 3);
  });
});
