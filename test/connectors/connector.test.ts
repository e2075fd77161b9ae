/**
 * @module test/connectors/connector
 * What every connector gets from the one pipeline, whatever its type: a 401
 * renews OAuth 2.0 credentials and sends once more inside `call` (so a library
 * connector refreshes too), per-connector classification overrides, and live
 * state for the admin API.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createConnector } from '../../src/index.ts';
import { connectorEntry } from '../../src/config/schema.ts';
import { startOidc } from '../helpers/oidc.ts';
import { startTestSink } from '../helpers/sink.ts';

const ctx = () => ({ signal: new AbortController().signal });

/** A library connector with OAuth 2.0 client credentials from a real oidc-provider, sending to a sink. */
async function oauthConnector(t: TestContext) {
  const oidc = await startOidc();
  t.after(() => oidc.close());
  const sink = await startTestSink(t);
  const crm = createConnector('crm', {
    type: 'rest',
    baseUrl: sink.url,
    auth: { oauth2: { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: 'junction-secret' } },
  });
  t.after(() => crm.close());
  return { oidc, sink, crm };
}

describe('a connector made with createConnector (the library)', () => {
  it('renews an OAuth 2.0 token after a 401 and sends once more, inside one call', async (t) => {
    const { sink, crm } = await oauthConnector(t);
    sink.plan(['401']);
    const res = await crm.call({ method: 'POST', path: '/orders', body: '{}' }, ctx());
    assert.equal(res.status, 200);
    assert.equal(crm.classify(res), 'ok');
    assert.equal(sink.requests.length, 2);
    assert.notEqual(sink.requests[0]?.headers.authorization, sink.requests[1]?.headers.authorization, 'sent again with a new token');
  });

  it('returns a second 401 as it is, classified refresh (final for the caller), after one renewal only', async (t) => {
    const { oidc, sink, crm } = await oauthConnector(t);
    sink.plan(['401', '401']);
    const res = await crm.call({ method: 'POST', path: '/orders', body: '{}' }, ctx());
    assert.equal(res.status, 401);
    assert.equal(crm.classify(res), 'refresh');
    assert.equal(sink.requests.length, 2);
    assert.equal(oidc.tokenRequests.filter((r) => r.outcome === 'issued').length, 2);
  });

  it('sends a static credential once: a 401 is not sent again', async (t) => {
    const sink = await startTestSink(t);
    const crm = createConnector('crm', { type: 'rest', baseUrl: sink.url, auth: { bearer: 'static-token' } });
    t.after(() => crm.close());
    sink.plan(['401']);
    const res = await crm.call({ method: 'GET', path: '/' }, ctx());
    assert.equal(res.status, 401);
    assert.equal(sink.requests.length, 1);
  });

  it('reports its type and live policy state', async (t) => {
    const sink = await startTestSink(t);
    const crm = createConnector('crm', { type: 'rest', baseUrl: sink.url });
    t.after(() => crm.close());
    assert.equal(crm.type, 'rest');
    assert.deepEqual(crm.state(), { type: 'rest', policies: {} });
  });
});

describe('classification overrides per connector', () => {
  it('classifies 409 as ok and 423 as retry when told, an exact status winning over its class', async (t) => {
    const sink = await startTestSink(t);
    const crm = createConnector('crm', { type: 'rest', baseUrl: sink.url, classify: { '409': 'ok', '423': 'retry', '4xx': 'retry', '404': 'permanent' } });
    t.after(() => crm.close());
    const statuses = [409, 423, 418, 404, 401, 500, 200];
    sink.plan(statuses.map(String));
    const got: [number, string][] = [];
    for (const _ of statuses) {
      const res = await crm.call({ method: 'GET', path: '/' }, ctx());
      got.push([res.status, crm.classify(res)]);
    }
    assert.deepEqual(got, [
      [409, 'ok'],
      [423, 'retry'],
      [418, 'retry'],
      [404, 'permanent'],
      [401, 'refresh'],
      [500, 'retry'],
      [200, 'ok'],
    ]);
  });

  it('refuses a key that is not a status or a class, and a value that is not a classification', () => {
    const bad = connectorEntry.safeParse({ type: 'rest', baseUrl: 'http://127.0.0.1:1', classify: { '4x9': 'ok', '409': 'fine' } });
    assert.equal(bad.success, false);
    const paths = bad.error?.issues.map((i) => i.path.join('.')) ?? [];
    assert.ok(paths.includes('classify.4x9'), paths.join(', '));
    assert.ok(paths.includes('classify.409'), paths.join(', '));
  });
});
