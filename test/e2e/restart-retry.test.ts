/**
 * A retry survives a restart (README): the time of the next attempt is in the
 * store, not in a timer of the process that scheduled it. A target answers 503
 * with Retry-After, `junction run` is killed with SIGKILL once that outcome is
 * committed, and the restarted process sends attempt 2 no earlier than the
 * stored `run_at`, once, with the same Idempotency-Key.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { runJunction } from '../helpers/child.ts';
import { until, writeTestConfig } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

/** Long enough for a restart under load to come before it, so that an early attempt would show. */
const RETRY_AFTER_S = 4;

function config(sink: Sink): string {
  return `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink:
    type: rest
    baseUrl: ${sink.url}
    retry: { maxAttempts: 5, baseMs: 20, maxMs: 60000 }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - deliver: { connector: sink, request: { path: /orders } }
`;
}

interface Row {
  state: string;
  attempts: number;
  run_at: number;
  error_code: string | null;
}

/** The message as committed in the file, read through a connection of the test's own. */
function committed(file: string, id: string): Row | undefined {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare('SELECT state, attempts, run_at, error_code FROM messages WHERE id = ?').get(id) as Row | undefined;
  } finally {
    db.close();
  }
}

describe('a retry survives a restart', () => {
  it('after a SIGKILL, attempt 2 goes out no earlier than the stored run_at, once, with the same Idempotency-Key', { timeout: 60_000 }, async (t) => {
    const sink = await startTestSink(t);
    sink.plan([`503:${RETRY_AFTER_S}`]);
    const { dir, configFile } = writeTestConfig(t, config(sink));
    const file = join(dir, 'junction.db');

    const first = await runJunction(configFile);
    t.after(() => first.child.kill('SIGKILL'));
    const res = await fetch(`${first.url}/hooks/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'order-77' },
      body: JSON.stringify({ id: 77 }),
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };

    // Attempt 1 is answered 503; wait until its retry is committed, then kill.
    await sink.waitFor((s) => s.requests.length === 1, 15_000);
    await until(() => committed(file, id)?.state === 'queued', 15_000, 20);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');

    const stored = committed(file, id);
    assert.ok(stored, 'the message is in the file');
    assert.equal(stored.attempts, 1);
    assert.equal(stored.error_code, 'JNC_HTTP_RETRYABLE');
    const attempt1 = sink.requests[0]!;
    assert.ok(
      stored.run_at >= attempt1.at + (RETRY_AFTER_S - 1) * 1000,
      `run_at is ${stored.run_at - attempt1.at} ms after attempt 1, not the ${RETRY_AFTER_S} s the target asked for`,
    );

    const second = await runJunction(configFile);
    t.after(() => second.child.kill('SIGKILL'));
    const upAt = Date.now();
    // Otherwise the test could not tell a retry on time from one that ignores run_at.
    assert.ok(upAt < stored.run_at, `the restart took until ${upAt - stored.run_at} ms after run_at; nothing was shown`);

    await sink.waitFor((s) => s.received().get('order-77') === 1, 20_000);
    await until(() => committed(file, id)?.state === 'done', 10_000, 20);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());

    assert.equal(sink.requests.length, 2, 'two attempts in all');
    const attempt2 = sink.requests[1]!;
    assert.ok(attempt2.at >= stored.run_at, `attempt 2 came ${stored.run_at - attempt2.at} ms before the stored run_at`);
    assert.equal(attempt2.status, 200);
    assert.deepEqual(
      sink.requests.map((r) => r.idempotencyKey),
      ['order-77', 'order-77'],
      'both attempts carry the same Idempotency-Key',
    );
    assert.equal(attempt2.body, attempt1.body);

    const store = openStore('sqlite:./junction.db', { baseDir: dir });
    await store.migrate();
    t.after(() => store.close());
    const record = await store.getMessage(id);
    assert.deepEqual(
      record?.history.map((h) => [h.attempt, h.outcome, h.errorCode]),
      [
        [1, 'retry', 'JNC_HTTP_RETRYABLE'],
        [2, 'ack', undefined],
      ],
    );
  });
});
