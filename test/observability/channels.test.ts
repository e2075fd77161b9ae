/**
 * @module test/observability/channels
 * Events on node:diagnostics_channel: a subscriber sees each connector call
 * start and end, with its status, classification and timing; a channel with no
 * subscriber publishes nothing.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { createConnector } from '../../src/index.ts';
import { listening, publish, subscribe, type JunctionEvents } from '../../src/observability/channels.ts';
import { startTestSink } from '../helpers/sink.ts';

const ctx = () => ({ signal: new AbortController().signal });

describe('observability channels', () => {
  it('publish reaches a subscriber under junction:<name>, and stops once it unsubscribes', () => {
    const seen: unknown[] = [];
    const raw: unknown[] = [];
    const onRaw = (m: unknown): void => void raw.push(m);
    diagnostics.subscribe('junction:circuit:change', onRaw);
    const off = subscribe('circuit:change', (e) => seen.push(e));
    assert.equal(listening('circuit:change'), true);
    publish('circuit:change', { connector: 'crm', from: 'closed', to: 'open' });
    off();
    diagnostics.unsubscribe('junction:circuit:change', onRaw);
    assert.equal(listening('circuit:change'), false);
    publish('circuit:change', { connector: 'crm', from: 'open', to: 'half-open' });
    assert.deepEqual(seen, [{ connector: 'crm', from: 'closed', to: 'open' }]);
    assert.equal(raw.length, 1, 'the channel name is junction:circuit:change');
  });

  it('every connector call publishes call:start and call:end with status, classification and duration', async (t) => {
    const sink = await startTestSink(t);
    const crm = createConnector('crm', { type: 'rest', baseUrl: sink.url });
    t.after(() => crm.close());
    const starts: JunctionEvents['call:start'][] = [];
    const ends: JunctionEvents['call:end'][] = [];
    const offs = [subscribe('call:start', (e) => starts.push(e)), subscribe('call:end', (e) => ends.push(e))];
    t.after(() => offs.forEach((off) => off()));
    sink.plan(['503']);
    await crm.call({ method: 'POST', path: '/orders', body: '{}' }, ctx());
    await crm.call({ method: 'GET', path: '/orders/1' }, ctx());
    assert.deepEqual(starts, [
      { connector: 'crm', method: 'POST', path: '/orders', url: `${sink.url}/orders`, headers: {} },
      { connector: 'crm', method: 'GET', path: '/orders/1', url: `${sink.url}/orders/1`, headers: {} },
    ]);
    assert.deepEqual(
      ends.map((e) => e.start),
      starts,
      'each end names its own start',
    );
    assert.deepEqual(
      ends.map(({ durationMs: _, start: __, ...e }) => e),
      [
        { connector: 'crm', method: 'POST', path: '/orders', status: 503, classification: 'retry' },
        { connector: 'crm', method: 'GET', path: '/orders/1', status: 200, classification: 'ok' },
      ],
    );
    assert.ok(ends.every((e) => e.durationMs >= 0));
  });

  it('a call that fails without an answer ends with its error code', async (t) => {
    const crm = createConnector('crm', { type: 'rest', baseUrl: 'http://127.0.0.1:1' });
    t.after(() => crm.close());
    const ends: JunctionEvents['call:end'][] = [];
    const off = subscribe('call:end', (e) => ends.push(e));
    t.after(off);
    await assert.rejects(crm.call({ method: 'GET', path: '/' }, ctx()), { code: 'JNC_CONN_NETWORK' });
    assert.equal(ends[0]?.code, 'JNC_CONN_NETWORK');
    assert.equal(ends[0]?.status, undefined);
  });

  it('headers a call:start subscriber adds are sent with the request, and the caller’s scope rides along', async (t) => {
    const sink = await startTestSink(t);
    const crm = createConnector('crm', { type: 'rest', baseUrl: `${sink.url}/api` });
    t.after(() => crm.close());
    const scope = {};
    const seen: JunctionEvents['call:start'][] = [];
    const off = subscribe('call:start', (e) => {
      seen.push(e);
      if (e.headers) e.headers['x-added'] = 'by-subscriber';
    });
    t.after(off);
    const headers = { 'x-own': '1' };
    await crm.call({ method: 'POST', path: 'orders?page=2', headers, body: '{}' }, { ...ctx(), scope });
    assert.equal(sink.requests[0]?.headers['x-added'], 'by-subscriber');
    assert.equal(sink.requests[0]?.headers['x-own'], '1');
    assert.deepEqual(headers, { 'x-own': '1' }, "the caller's headers object is not changed");
    assert.equal(seen[0]?.scope, scope);
    assert.equal(seen[0]?.url, `${sink.url}/api/orders?page=2`);
  });
});
