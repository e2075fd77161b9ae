/**
 * LiveStats: per-flow and per-connector figures over a window, from the runtime's events.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { publish } from '../../src/observability/channels.ts';
import { BUCKET_MS, LiveStats, p95 } from '../../src/observability/live-stats.ts';
import { ManualClock } from '../helpers/clock.ts';

function settled(flow: string, outcome: 'ack' | 'retry' | 'dead', durationMs: number, extra: { paused?: boolean; worker?: string } = {}): void {
  publish('message:settled', { worker: extra.worker ?? 'w1', flow, id: 'x', attempt: 1, outcome, durationMs, ...(extra.paused ? { paused: true } : {}) });
}

it('counts a flow\'s outcomes over the window: rate, error ratio (paused attempts are not errors) and p95', (t) => {
  const clock = new ManualClock();
  const stats = new LiveStats({ clock, worker: 'w1' });
  t.after(() => stats.close());
  for (let i = 0; i < 90; i++) settled('orders', 'ack', 20);
  for (let i = 0; i < 8; i++) settled('orders', 'retry', 400);
  for (let i = 0; i < 2; i++) settled('orders', 'dead', 3000);
  for (let i = 0; i < 5; i++) settled('orders', 'retry', 1, { paused: true });
  settled('orders', 'ack', 1, { worker: 'another-engine' });

  const f = stats.flow('orders', 60_000);
  assert.equal(f.ok, 90);
  assert.equal(f.retry, 8);
  assert.equal(f.failed, 2);
  assert.equal(f.paused, 5);
  assert.equal(f.total, 105);
  assert.equal(f.rate, 1.5);
  assert.equal(f.errorRatio, 0.1);
  // 105 samples: the 95th percentile (rank 99.75) falls among the 400 ms ones, in (250, 500].
  assert.ok(f.p95Ms !== undefined && f.p95Ms > 250 && f.p95Ms <= 500, String(f.p95Ms));

  clock.advance(61_000 + BUCKET_MS);
  const later = stats.flow('orders', 60_000);
  assert.equal(later.total, 0, 'a minute later, the last minute is empty');
  assert.equal(later.p95Ms, undefined);
  assert.equal(stats.flow('orders', 3_600_000).ok, 90, 'the hour still holds them');
});

it('counts a connector\'s calls by classification', (t) => {
  const clock = new ManualClock();
  const stats = new LiveStats({ clock });
  t.after(() => stats.close());
  publish('call:end', { connector: 'crm', method: 'POST', path: '/x', status: 200, classification: 'ok', durationMs: 3 });
  publish('call:end', { connector: 'crm', method: 'POST', path: '/x', status: 503, classification: 'retry', durationMs: 3 });
  publish('call:end', { connector: 'crm', method: 'POST', path: '/x', code: 'JNC_TIMEOUT', durationMs: 3 });
  const c = stats.connector('crm');
  assert.deepEqual([c.ok, c.retry, c.failed, c.errorRatio], [1, 1, 1, 2 / 3]);
});

it('gives a chart of the last hour, one point per step, oldest first', (t) => {
  const clock = new ManualClock();
  const stats = new LiveStats({ clock, worker: 'w1' });
  t.after(() => stats.close());
  settled('orders', 'ack', 5);
  clock.advance(5 * 60_000);
  settled('orders', 'ack', 5);
  settled('orders', 'dead', 5);
  const points = stats.series('flow', 'orders', 3_600_000, 60_000);
  assert.equal(points.length, 60);
  assert.deepEqual(points.slice(-1).map((p) => [p.ok, p.errors]), [[1, 1]]);
  assert.equal(points.reduce((a, p) => a + p.ok, 0), 2);
  assert.ok(points.every((p, i) => i === 0 || p.at - points[i - 1]!.at === 60_000));
});

it('p95 interpolates inside the bucket that holds the 95th percentile', () => {
  assert.equal(p95([0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0]), 50 + 50 * 0.95);
  assert.equal(p95([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10]), 10_000);
  assert.equal(p95(new Array(12).fill(0)), undefined);
});
