/**
 * The graphql example: an order posted to Junction reaches the demo shop as a
 * GraphQL mutation, its variables built by JSONata; one the shop cannot coerce
 * is a dead letter naming the shop's error. `junction check` accepts the config
 * (its document matches the shop's SDL).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/graphql/junction.yaml', import.meta.url));

it('delivers an order to the shop as a mutation, and dead-letters one the shop refuses', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', SHOP_PORT: '0', GRAPHQL_DB: join(tempDir(t), 'junction.db') };
  const checked = await junction(['check', '-c', CONFIG], env);
  assert.equal(checked.code, 0, checked.stderr);

  const example = await startExample(t, 'examples/graphql/start.ts', env, ['Junction', 'Demo shop']);
  const [junctionUrl, shopEndpoint] = example.urls;
  const post = async (order: unknown) => {
    const res = await fetch(`${junctionUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    assert.equal(res.status, 202);
    return ((await res.json()) as { id: string }).id;
  };
  const lookup = async (id: string) => {
    const res = await fetch(shopEndpoint!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query ($id: ID!) { order(id: $id) { id email total } }', variables: { id } }) });
    return ((await res.json()) as { data: { order: unknown } }).data.order ?? undefined;
  };

  await post({ id: 'A-1', customer: { email: 'Ada@Example.com' }, items: [{ price: 12.5, qty: 2 }] });
  assert.deepEqual(await until(() => lookup('A-1'), 'the order in the shop'), { id: 'A-1', email: 'ada@example.com', total: 25 });

  // No customer email: the input the variables build has no email, which the shop's schema requires.
  const refused = await post({ id: 'A-2', items: [{ price: 4, qty: 1 }] });
  const listed = await until(async () => {
    const r = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
    return r.stdout.includes(refused) ? r.stdout : undefined;
  }, 'the dead letter');
  const row = JSON.parse(listed.trim().split('\n')[0]!) as { errorCode: string; error: string };
  assert.equal(row.errorCode, 'JNC_REMOTE_REJECTED');
  assert.match(row.error, /answered 400 .*GraphQL error: .*to include required field .*email/);
  assert.equal(await lookup('A-2'), undefined);
});
