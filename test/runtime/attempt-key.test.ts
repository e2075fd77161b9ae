/**
 * Each attempt's history names the Idempotency-Key that attempt actually sent,
 * as the deliver step's template rendered it, and the admin API and
 * `junction dlq show` show it per attempt.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AttemptRecord } from '../../src/core/message.ts';
import { junction } from '../helpers/cli.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

const TOKEN = 'admin-token-for-attempt-keys';

it('records the rendered key "order-<id>" on each attempt of a deliver that dead-letters, shown by the admin API and dlq show', async (t) => {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: sink, request: { path: /orders }, idempotencyKey: "order-{{ id }}" }
`,
    { env: { ADMIN_TOKEN: TOKEN } },
  );
  sink.plan(['503', '400'], { key: 'order-A-1003' });
  const id = (await engine.post('/orders', { id: 'A-1003' })).json.id as string;
  await engine.until(async () => (await engine.store.deadLetters.count()) === 1);
  assert.deepEqual(
    sink.requests.map((r) => r.idempotencyKey),
    ['order-A-1003', 'order-A-1003'],
  );

  const viaApi = await engine.app.inject({ method: 'GET', url: `/admin/dead-letters/${id}`, headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(viaApi.statusCode, 200, viaApi.body);
  const letter = viaApi.json() as { idempotencyKey: string; history: AttemptRecord[] };
  assert.deepEqual(
    letter.history.map((a) => [a.attempt, a.outcome, a.idempotencyKey]),
    [
      [1, 'retry', 'order-A-1003'],
      [2, 'dead', 'order-A-1003'],
    ],
  );
  // The message's own key is its id (no Idempotency-Key came in); what went out is per attempt.
  assert.equal(letter.idempotencyKey, id);

  const shown = await junction(['dlq', 'show', id, '-c', engine.configFile], { ADMIN_TOKEN: TOKEN });
  assert.equal(shown.code, 0, shown.stderr);
  const printed = JSON.parse(shown.stdout) as { messageKey: string; idempotencyKey?: string; history: AttemptRecord[] };
  assert.deepEqual(
    printed.history.map((a) => a.idempotencyKey),
    ['order-A-1003', 'order-A-1003'],
  );
  assert.equal(printed.messageKey, id, 'the message\'s own key is named apart from the keys sent');
  assert.equal('idempotencyKey' in printed, false, 'no top-level idempotencyKey to be mistaken for the key sent');
});

it('records no key on an attempt that sent no request', async (t) => {
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20 }
flows:
  checks:
    trigger: { http: { path: /checks } }
    steps:
      - map: { total: "$number(total)" }
`,
  );
  const id = (await engine.post('/checks', { total: '12' })).json.id as string;
  await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
  const history = (await engine.store.getMessage(id))?.history ?? [];
  assert.equal(history.length, 1);
  assert.equal('idempotencyKey' in history[0]!, false);
});
