/**
 * The alerts example: orders reach the demo CRM; once the CRM is down, the
 * connector's circuit opens and the `crm-open` rule notifies the demo
 * operations endpoint with a signed notice, which it verifies with the
 * standardwebhooks package. `junction check` accepts the config.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Notice } from '../../examples/alerts/systems.ts';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/alerts/junction.yaml', import.meta.url));

it('notifies the operations endpoint with a verified notice when the CRM goes down and its circuit opens', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', CRM_PORT: '0', OPS_PORT: '0', ALERTS_EVERY: '200ms', ALERTS_DB: join(tempDir(t), 'junction.db') };
  const checked = await junction(['check', '-c', CONFIG], env);
  assert.equal(checked.code, 0, checked.stderr);

  const example = await startExample(t, 'examples/alerts/start.ts', env, ['Junction', 'Demo CRM', 'Demo ops']);
  const [junctionUrl, crmUrl, opsUrl] = example.urls;
  const order = async (id: string) => {
    const res = await fetch(`${junctionUrl}/hooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    assert.equal(res.status, 202);
  };
  const notices = async () => (await (await fetch(`${opsUrl}/received`)).json()) as Notice[];

  await order('A-1');
  assert.deepEqual(await notices(), [], 'nothing to say while the CRM takes orders');

  await fetch(`${crmUrl}/outage`, { method: 'POST', body: '{"down":true}' });
  // The circuit opens once 20 calls in its 10 s window failed half the time or more.
  for (let i = 1; i <= 25; i++) await order(`B-${i}`);
  const open = await until(async () => (await notices()).find((n) => (n.body as { rule?: string }).rule === 'crm-open'), 'the crm-open notice', 30_000);
  assert.equal(open.verified, true, 'signed with the connector\'s secret and verified by the receiver');
  const body = open.body as { status: string; condition: string; connector: string; summary: string };
  assert.equal(body.status, 'firing');
  assert.equal(body.condition, 'circuitOpen');
  assert.equal(body.connector, 'crm');
  assert.match(body.summary, /^FIRING crm-open/);
  await until(async () => (/ops: FIRING crm-open/.test(example.output()) ? true : undefined), 'the ops endpoint to print the notice');
  assert.ok((await notices()).every((n) => n.verified), 'every notice is verified');
});
