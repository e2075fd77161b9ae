/**
 * A store that is down turns every request that needs it into a 503. The log
 * says so once per interval with a count, as a warning naming the database;
 * the answers, and /readyz (which needs no token), never name it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { errors } from '../../src/core/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createOutageLog, OUTAGE_LOG_INTERVAL_MS } from '../../src/server/outage-log.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';

const HOST = 'db.internal.example:5432';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ destination, format: 'json' }), lines };
}

const down = () => errors.STORE_UNAVAILABLE.create(['enqueue failed'], { cause: new Error(`connect ECONNREFUSED ${HOST}`) });

describe('outage log', () => {
  it('logs the first refusal at once, then one line per interval with how many were refused since', () => {
    const { logger, lines } = capturingLogger();
    const clock = new ManualClock();
    const log = createOutageLog(logger, clock);
    for (let i = 0; i < 500; i++) log.refused(down(), '/hooks/orders');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40, 'a warning: the senders retry, nothing is lost');
    assert.equal(lines[0]!.refused, 1);
    assert.equal(lines[0]!.stack, undefined);
    assert.match(JSON.stringify(lines[0]!.causes), new RegExp(HOST.replace('.', '\\.')), 'the log names the database');

    clock.advance(OUTAGE_LOG_INTERVAL_MS - 1);
    log.refused(down(), '/hooks/orders');
    assert.equal(lines.length, 1, 'not before the interval is over');
    clock.advance(1);
    log.refused(down(), '/hooks/orders');
    assert.equal(lines.length, 2);
    assert.equal(lines[1]!.refused, 501, 'every refusal since the last line is counted');
  });

  it('an engine whose store is down answers 503 at ingest and /readyz without naming it, and logs one warning', async (t) => {
    const { logger, lines } = capturingLogger();
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
connectors:
  sink: { type: rest, baseUrl: "http://127.0.0.1:9" }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - deliver: { connector: sink }
`,
      { workers: false, logger },
    );
    engine.store.enqueue = () => Promise.reject(down());
    engine.store.ping = () => Promise.reject(new Error(`connect ECONNREFUSED ${HOST}`));

    for (let i = 0; i < 20; i++) {
      const res = await engine.post('/hooks/orders', { n: i });
      assert.equal(res.status, 503);
      assert.equal(res.json.code, 'JNC_STORE_UNAVAILABLE');
      assert.ok(res.headers.get('retry-after'));
      assert.doesNotMatch(JSON.stringify(res.json), /db\.internal/);
    }
    const ready = await fetch(`${engine.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.doesNotMatch(await ready.text(), /db\.internal/);

    const warnings = lines.filter((l) => l.msg === 'store unavailable: requests refused with 503 and Retry-After');
    assert.equal(warnings.length, 1, 'one line for the whole burst');
    assert.equal(lines.filter((l) => (l.level as number) >= 50).length, 0, 'no error lines with stacks');
  });
});
