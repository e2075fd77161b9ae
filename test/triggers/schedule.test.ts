/**
 * The schedule trigger (docs/triggers.md): a cron expression read in its time
 * zone fires at the right instants across both DST changes; a firing is one
 * message with `meta.scheduledAt`, once across a restart; firings missed while
 * down are fired once (`missed: once`) or not at all (`skip`). Time is a
 * ManualClock the test moves.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { compileSchedule, scheduleOptions } from '../../src/triggers/schedule.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Every instant in (fromIso, toIso], as ISO strings. */
function instants(cron: string, timezone: string, fromIso: string, toIso: string): string[] {
  const s = compileSchedule({ cron, timezone, missed: 'once' });
  const out: string[] = [];
  for (let t = s.next(at(fromIso)); t !== undefined && t <= at(toIso); t = s.next(t)) out.push(iso(t));
  return out;
}

interface Row {
  body: string;
  meta: string;
  dedupe_key: string;
}

function stored(dir: string): Row[] {
  const db = new DatabaseSync(join(dir, 'junction.db'), { readOnly: true });
  try {
    return db.prepare("SELECT body, meta, dedupe_key FROM messages WHERE flow = 'report' ORDER BY id").all() as unknown as Row[];
  } finally {
    db.close();
  }
}

const config = (missed = 'once', store = './junction.db') => `
store: sqlite:${store}
worker: { pollMs: 20 }
flows:
  report:
    trigger:
      schedule: { cron: "0 7 * * 1-5", timezone: Europe/Berlin, body: { report: daily }, missed: ${missed} }
    steps:
      - filter: "true"
`;

describe('schedule trigger', () => {
  it('07:00 Berlin on weekdays is 06:00Z in winter and 05:00Z in summer, across the spring change', () => {
    // The clocks went forward on Sunday 2025-03-30.
    assert.deepEqual(instants('0 7 * * 1-5', 'Europe/Berlin', '2025-03-26T12:00:00Z', '2025-04-01T12:00:00Z'), [
      '2025-03-27T06:00:00.000Z',
      '2025-03-28T06:00:00.000Z',
      '2025-03-31T05:00:00.000Z',
      '2025-04-01T05:00:00.000Z',
    ]);
  });

  it('and back to 06:00Z across the autumn change', () => {
    // The clocks went back on Sunday 2025-10-26.
    assert.deepEqual(instants('0 7 * * 1-5', 'Europe/Berlin', '2025-10-23T12:00:00Z', '2025-10-28T12:00:00Z'), [
      '2025-10-24T05:00:00.000Z',
      '2025-10-27T06:00:00.000Z',
      '2025-10-28T06:00:00.000Z',
    ]);
  });

  it('an hourly schedule fires once in the hour that repeats and skips none in the hour that is lost', () => {
    const spring = instants('30 * * * *', 'Europe/Berlin', '2025-03-30T00:00:00Z', '2025-03-30T02:00:00Z');
    assert.deepEqual(spring, ['2025-03-30T00:30:00.000Z', '2025-03-30T01:30:00.000Z']);
    const autumn = instants('30 * * * *', 'Europe/Berlin', '2025-10-26T00:00:00Z', '2025-10-26T02:00:00Z');
    // Each UTC hour has its own 02:30 or 03:30 local: two firings for two real hours.
    assert.equal(autumn.length, 2);
    assert.equal(new Set(autumn).size, 2);
  });

  it('missed: once collapses missed firings into the latest; skip fires only one on time', () => {
    const once = compileSchedule({ cron: '0 7 * * *', timezone: 'UTC', missed: 'once' });
    const skip = compileSchedule({ cron: '0 7 * * *', timezone: 'UTC', missed: 'skip' });
    const last = at('2025-01-01T07:00:00Z');
    const now = at('2025-01-05T09:00:00Z');
    assert.deepEqual(once.due(last, now), { fire: at('2025-01-05T07:00:00Z'), through: at('2025-01-05T07:00:00Z') });
    assert.deepEqual(skip.due(last, now), { fire: undefined, through: at('2025-01-05T07:00:00Z') });
    assert.deepEqual(skip.due(last, at('2025-01-05T07:00:10Z'))?.fire, at('2025-01-05T07:00:00Z'));
    assert.equal(once.due(at('2025-01-05T07:00:00Z'), at('2025-01-05T08:00:00Z')), undefined);
  });

  it('refuses a bad cron expression or time zone when the config is checked', () => {
    assert.equal(scheduleOptions.safeParse({ cron: '61 * * * *' }).success, false);
    assert.equal(scheduleOptions.safeParse({ cron: '0 7 * * *', timezone: 'Mars/Olympus' }).success, false);
  });

  it('fires each instant once with its body and meta.scheduledAt, across the spring DST change, on the injected clock', { timeout: 30_000 }, async (t) => {
    const clock = new ManualClock(at('2025-03-28T05:59:00Z'));
    const engine = await startTestEngine(t, config(), { clock });
    // The first start saves its baseline; nothing before it fires.
    await engine.until(async () => (await engine.store.checkpoints.get('schedule:report')) !== undefined);
    const expected = ['2025-03-28T06:00:00.000Z', '2025-03-31T05:00:00.000Z', '2025-04-01T05:00:00.000Z'];
    for (const [i, instant] of expected.entries()) {
      clock.set(at(instant) - 1000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stored(engine.dir).length, i, `nothing fires before ${instant}`);
      clock.set(at(instant) + 500);
      await engine.until(() => stored(engine.dir).length === i + 1);
    }
    const rows = stored(engine.dir);
    assert.deepEqual(rows.map((r) => (JSON.parse(r.meta) as { scheduledAt: string }).scheduledAt), expected);
    assert.deepEqual(rows.map((r) => JSON.parse(r.body) as unknown), expected.map(() => ({ report: 'daily' })));
    assert.deepEqual(rows.map((r) => r.dedupe_key), expected.map((e) => `report@${e}`));
  });

  it('a restart fires a firing missed while down once (missed: once), and never one already fired', { timeout: 30_000 }, async (t) => {
    const clock = new ManualClock(at('2025-03-28T05:59:00Z'));
    // One store file for both runs.
    const dir = tempDir(t);
    const first = await startTestEngine(t, config('once', join(dir, 'junction.db')), { clock });
    await first.until(async () => (await first.store.checkpoints.get('schedule:report')) !== undefined);
    clock.set(at('2025-03-28T06:00:01Z'));
    await first.until(() => stored(dir).length === 1);
    await first.stop();

    // Down over the weekend and Monday's firing; up on Monday at noon.
    clock.set(at('2025-03-31T10:00:00Z'));
    const second = await startTestEngine(t, config('once', join(dir, 'junction.db')), { clock });
    await second.until(() => stored(dir).length === 2);
    await new Promise((r) => setTimeout(r, 200));
    const rows = stored(dir);
    assert.deepEqual(rows.map((r) => (JSON.parse(r.meta) as { scheduledAt: string }).scheduledAt), ['2025-03-28T06:00:00.000Z', '2025-03-31T05:00:00.000Z']);
    await second.stop();
  });

  it('two nodes on one store make one message of each firing', { timeout: 30_000 }, async (t) => {
    const clock = new ManualClock(at('2025-03-28T05:59:00Z'));
    const dir = tempDir(t);
    const a = await startTestEngine(t, config('once', join(dir, 'junction.db')), { clock });
    const b = await startTestEngine(t, config('once', join(dir, 'junction.db')), { clock });
    await a.until(async () => (await a.store.checkpoints.get('schedule:report')) !== undefined);
    for (const instant of ['2025-03-28T06:00:00Z', '2025-03-31T05:00:00Z']) {
      clock.set(at(instant) + 100);
      await a.until(async () => ((await b.store.checkpoints.get('schedule:report')) as { firedAt: number }).firedAt === at(instant));
    }
    // Both nodes' loops have looked at the clock since (at least once a second).
    await new Promise((r) => setTimeout(r, 1200));
    assert.deepEqual(stored(dir).map((r) => r.dedupe_key), ['report@2025-03-28T06:00:00.000Z', 'report@2025-03-31T05:00:00.000Z']);
  });

  it('missed: skip fires nothing for the firings missed while down, then the next on time', { timeout: 30_000 }, async (t) => {
    const clock = new ManualClock(at('2025-03-28T05:59:00Z'));
    const dir = tempDir(t);
    const first = await startTestEngine(t, config('skip', join(dir, 'junction.db')), { clock });
    await first.until(async () => (await first.store.checkpoints.get('schedule:report')) !== undefined);
    await first.stop();
    clock.set(at('2025-03-31T10:00:00Z'));
    const second = await startTestEngine(t, config('skip', join(dir, 'junction.db')), { clock });
    await second.until(async () => ((await second.store.checkpoints.get('schedule:report')) as { firedAt: number }).firedAt === at('2025-03-31T05:00:00Z'));
    assert.equal(stored(dir).length, 0, 'Friday and Monday were missed and are skipped');
    clock.set(at('2025-04-01T05:00:00Z'));
    await second.until(() => stored(dir).length === 1);
    assert.equal((JSON.parse(stored(dir)[0]!.meta) as { scheduledAt: string }).scheduledAt, '2025-04-01T05:00:00.000Z');
  });
});
