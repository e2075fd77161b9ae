/**
 * The custom-step example's tour, run against its own start script: a lead is
 * scored by steps/score.ts on the way to the demo sales tool, and a lead without
 * an email is marked permanent by that code, so it is a dead letter at once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/custom-step/junction.yaml', import.meta.url));

it('scores a lead on the way, and dead-letters one the code marks permanent', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', SALES_PORT: '0', CUSTOM_STEP_DB: join(tempDir(t), 'junction.db') };
  const example = await startExample(t, 'examples/custom-step/start.ts', env, ['Junction', 'Sales']);
  const [junctionUrl, salesUrl] = example.urls;

  const post = async (lead: unknown) => {
    const res = await fetch(`${junctionUrl}/hooks/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lead) });
    assert.equal(res.status, 202);
    return ((await res.json()) as { id: string }).id;
  };
  const leads = async () => (await (await fetch(`${salesUrl}/leads`)).json()) as Record<string, unknown>;

  // 1. A good lead arrives scored, under its message id as the Idempotency-Key.
  const good = await post({ email: 'Ada@Analytical.Engines', company: 'Analytical Engines', employees: 250, source: 'referral' });
  const arrived = await until(async () => (await leads())[good], 'the scored lead at the sales tool');
  assert.deepEqual(arrived, { email: 'ada@analytical.engines', company: 'Analytical Engines', score: 75, tier: 'hot' });

  // 2. A lead without an email: score.ts throws permanent(), so it is a dead letter after one attempt.
  const bad = await post({ company: 'Nobody Ltd', employees: 3 });
  const listed = await until(async () => {
    const r = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
    return r.stdout.includes(bad) ? r.stdout : undefined;
  }, 'the dead letter');
  const row = JSON.parse(listed.trim().split('\n')[0]!) as { id: string; errorCode: string; error: string; attempts: number };
  assert.equal(row.id, bad);
  assert.equal(row.errorCode, 'JNC_STEP_REJECTED');
  assert.equal(row.error, 'Rejected: lead has no valid email (got null)');
  assert.equal(row.attempts, 1);
  assert.equal((await leads())[bad], undefined);

  example.child.kill('SIGINT');
  assert.equal(await example.exited, 0, example.output());
});
