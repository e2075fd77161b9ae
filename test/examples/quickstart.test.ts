/**
 * The README's tour, run against `npm start`'s own script: post an order, see it
 * arrive at the demo CRM, make the CRM fail, inspect and replay the dead letter.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/quickstart/junction.yaml', import.meta.url));

it('runs the README tour: deliver, fail, dead letter, replay', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', CRM_PORT: '0', QUICKSTART_DB: join(tempDir(t), 'junction.db') };
  const example = await startExample(t, 'examples/quickstart/start.ts', env, ['Junction', 'Demo CRM']);
  const [junctionUrl, crmUrl] = example.urls;

  const post = (order: unknown) =>
    fetch(`${junctionUrl}/hooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
  const crmOrders = async () => (await (await fetch(`${crmUrl}/orders`)).json()) as Record<string, unknown>;

  // 1. Post an order; it arrives mapped, under the key the flow derives from it.
  const accepted = await post({ id: 'A-1001', customer: { email: 'Ada@Example.com' }, items: [{ price: 12.5, qty: 2 }] });
  assert.equal(accepted.status, 202);
  const arrived = await until(async () => (await crmOrders())['order-A-1001'], 'the order at the CRM');
  assert.deepEqual(arrived, { orderId: 'A-1001', email: 'ada@example.com', total: 25 });

  // 2. Make the CRM reject orders: the next one becomes a dead letter at once.
  await fetch(`${crmUrl}/_fail?status=400`, { method: 'POST' });
  const { id } = (await (await post({ id: 'A-1002', customer: { email: 'bob@example.com' }, items: [] })).json()) as { id: string };
  const listed = await until(async () => {
    const r = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
    return r.stdout.includes(id) ? r.stdout : undefined;
  }, 'the dead letter');
  const row = JSON.parse(listed.trim().split('\n')[0]!) as { id: string; errorCode: string };
  assert.equal(row.id, id);
  assert.equal(row.errorCode, 'JNC_HTTP_REJECTED');

  const shown = await junction(['dlq', 'show', id, '-c', CONFIG], env);
  assert.equal(shown.code, 0);
  const dl = JSON.parse(shown.stdout) as { body: { id: string }; lastResponse: { status: number } };
  assert.equal(dl.body.id, 'A-1002');
  assert.equal(dl.lastResponse.status, 400);

  // 3. Recover the CRM and replay: the order is delivered, with the same key.
  await fetch(`${crmUrl}/_fail?status=off`, { method: 'POST' });
  const replay = await junction(['dlq', 'replay', id, '-c', CONFIG], env);
  assert.equal(replay.code, 0);
  assert.match(replay.stdout, /replayed 1 dead letter/);
  await until(async () => (await crmOrders())['order-A-1002'], 'the replayed order at the CRM');
  assert.match((await junction(['dlq', 'list', '-c', CONFIG], env)).stdout, /no dead letters/);

  example.child.kill('SIGINT');
  assert.equal(await example.exited, 0, example.output());
});
