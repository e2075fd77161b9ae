/**
 * The README's tour, every step, run against the quickstart's own start script
 * (`npm start`): post an order and see it arrive; send one request twice with
 * the same Idempotency-Key; make the CRM answer 503 and see the order delivered
 * by a retry once it recovers; make it answer 400, then inspect and replay the
 * dead letter with `junction dlq`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.ts';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/quickstart/junction.yaml', import.meta.url));

it('runs the README tour: deliver, duplicate key, 503 then retry, 400 then dead letter and replay', { timeout: 90_000 }, async (t) => {
  const db = join(tempDir(t), 'junction.db');
  const env = { PORT: '0', CRM_PORT: '0', QUICKSTART_DB: db };
  const example = await startExample(t, 'examples/quickstart/start.ts', env, ['Junction', 'Demo CRM']);
  const [junctionUrl, crmUrl] = example.urls;
  // The same file the example writes, read beside it as `junction dlq` does.
  const store = openStore(`sqlite:${db}`, { baseDir: '.' });
  await store.migrate();
  t.after(() => store.close());

  const post = async (order: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${junctionUrl}/hooks/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(order),
    });
    return { status: res.status, json: (await res.json()) as { id: string; duplicate: boolean } };
  };
  const crmOrders = async () => (await (await fetch(`${crmUrl}/orders`)).json()) as Record<string, unknown>;
  const crmFail = (status: string) => fetch(`${crmUrl}/_fail?status=${status}`, { method: 'POST' });
  /** How many times the CRM's log says `line`. */
  const crmSaid = (line: string) => example.output().split('\n').filter((l) => l.includes(line)).length;
  const settled = (id: string) => until(async () => {
    const m = await store.getMessage(id);
    return m?.state === 'done' || m?.state === 'dead' ? m : undefined;
  }, `message ${id} to settle`);

  // 1. Post an order: 202 with the message id.
  const ada = { id: 'A-1001', customer: { email: 'Ada@Example.com' }, items: [{ price: 12.5, qty: 2 }] };
  const accepted = await post(ada);
  assert.equal(accepted.status, 202);
  assert.equal(accepted.json.duplicate, false);
  assert.match(accepted.json.id, /^[0-9a-f-]{36}$/);

  // 2. It arrives mapped, under the key the flow derives from it.
  const arrived = await until(async () => (await crmOrders())['order-A-1001'], 'the order at the CRM');
  assert.deepEqual(arrived, { orderId: 'A-1001', email: 'ada@example.com', total: 25 });

  // The same request twice with `Idempotency-Key: abc`: the second answer carries the first id.
  const once = await post(ada, { 'idempotency-key': 'abc' });
  const twice = await post(ada, { 'idempotency-key': 'abc' });
  assert.equal(once.status, 202);
  assert.equal(once.json.duplicate, false);
  assert.equal(twice.status, 202);
  assert.deepEqual(twice.json, { id: once.json.id, duplicate: true });
  // Nothing new is created: one message for the key, and the CRM holds the one order it had.
  assert.equal((await settled(once.json.id)).state, 'done');
  assert.deepEqual(Object.keys(await crmOrders()), ['order-A-1001']);
  assert.equal(crmSaid('[crm] received order order-A-1001'), 1);
  assert.equal(crmSaid('[crm] order order-A-1001 seen before'), 1, 'the message for abc was delivered once; its duplicate was not');
  assert.equal((await store.stats()).done, 2);

  // 3. The CRM answers 503: the order is not delivered, and is retried until the CRM recovers.
  await crmFail('503');
  const bob = await post({ id: 'A-1002', customer: { email: 'bob@example.com' }, items: [] });
  assert.equal(bob.status, 202);
  await until(async () => (crmSaid('[crm] answering 503') > 0 ? true : undefined), 'the CRM to answer 503');
  assert.equal((await crmOrders())['order-A-1002'], undefined, 'not delivered while the CRM answers 503');
  await crmFail('off');
  const delivered = await until(async () => (await crmOrders())['order-A-1002'], 'order A-1002 delivered by a retry');
  assert.deepEqual(delivered, { orderId: 'A-1002', email: 'bob@example.com' });
  const retried = await settled(bob.json.id);
  const outcomes = retried.history.map((h) => `${h.outcome}${h.errorCode ? ` ${h.errorCode}` : ''}`);
  assert.ok(outcomes.length >= 2, `delivered on a retry: ${outcomes.join(', ')}`);
  assert.equal(outcomes[0], 'retry JNC_HTTP_RETRYABLE');
  assert.equal(outcomes.at(-1), 'ack');
  assert.equal(crmSaid('[crm] received order order-A-1002'), 1, 'stored once, under the key every attempt sent');

  // Then 400: a permanent refusal, so the next order goes straight to the dead letters.
  await crmFail('400');
  const { json: cy } = await post({ id: 'A-1003', customer: { email: 'cy@example.com' }, items: [] });
  const dead = await settled(cy.id);
  assert.equal(dead.state, 'dead');
  assert.equal(dead.history.length, 1, 'not retried');

  // 4. Inspect the dead letter: list (table and JSON), then show.
  const table = await junction(['dlq', 'list', '-c', CONFIG], env);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`${cy.id}\\s+orders-to-crm\\s+1\\s+JNC_HTTP_REJECTED`));
  const listed = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
  const rows = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; errorCode: string });
  assert.deepEqual(rows.map((r) => [r.id, r.errorCode]), [[cy.id, 'JNC_HTTP_REJECTED']]);

  const shown = await junction(['dlq', 'show', cy.id, '-c', CONFIG], env);
  assert.equal(shown.code, 0, shown.stderr);
  const dl = JSON.parse(shown.stdout) as { body: { id: string }; lastResponse: { status: number }; history: unknown[] };
  assert.equal(dl.body.id, 'A-1003');
  assert.equal(dl.lastResponse.status, 400);
  assert.equal(dl.history.length, 1);

  // Recover the CRM and replay: the order is delivered, and the dead letters are empty.
  await crmFail('off');
  const replay = await junction(['dlq', 'replay', cy.id, '-c', CONFIG], env);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, /replayed 1 dead letter/);
  const replayed = await until(async () => (await crmOrders())['order-A-1003'], 'the replayed order at the CRM');
  assert.deepEqual(replayed, { orderId: 'A-1003', email: 'cy@example.com' });
  assert.match((await junction(['dlq', 'list', '-c', CONFIG], env)).stdout, /no dead letters/);
  assert.deepEqual(Object.keys(await crmOrders()).sort(), ['order-A-1001', 'order-A-1002', 'order-A-1003']);

  // Ctrl-C stops Junction gracefully.
  example.child.kill('SIGINT');
  assert.equal(await example.exited, 0, example.output());
});
