/**
 * @module test/extension/one-file
 * Proof that a component is one file plus one registration line: a connector
 * type and a trigger type written only for the tests are registered here, and
 * then appear in the config's parsing, the published JSON Schema and the
 * config reference, and run end to end, with nothing else changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { configReferenceRows } from '../../src/config/reference.ts';
import { connectorTypes } from '../../src/connectors/registry.ts';
import type { ConnectorDefinition } from '../../src/connectors/connector.ts';
import { triggerTypes } from '../../src/triggers/registry.ts';
import type { TriggerDefinition } from '../../src/triggers/trigger.ts';
import { burstTrigger } from '../fixtures/extensions/burst-trigger.ts';
import { memoryConnector, received } from '../fixtures/extensions/memory-connector.ts';
import { startTestEngine } from '../helpers/engine.ts';

// The one line each:
connectorTypes.register(memoryConnector as ConnectorDefinition);
triggerTypes.register(burstTrigger as TriggerDefinition);

const CONFIG = `
connectors:
  ledger: { type: memory, status: 201, retry: { maxAttempts: 2 } }
flows:
  seed:
    trigger: { burst: { count: 5, body: { kind: seed } } }
    steps:
      - map: { id: "'row-' & $string(n)", kind: kind }
      - deliver: { connector: ledger, request: { ledger: rows }, idempotencyKey: "{{ id }}" }
`;

describe('a connector type and a trigger type registered with one line each', () => {
  it('are parsed, with their defaults, and their mistakes reported at their lines', () => {
    const ok = parseConfigText(CONFIG, 'junction.yaml', {});
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(ok.config.connectors.ledger?.type, 'memory');
    assert.equal(ok.config.connectors.ledger?.timeoutMs, 5000, 'the shared HTTP options and their defaults come with it');
    assert.deepEqual(ok.config.flows.seed?.trigger, { type: 'burst', options: { count: 5, body: { kind: 'seed' } } });

    const bad = parseConfigText(CONFIG.replace('status: 201', 'status: 42').replace('count: 5', 'count: 0').replace('ledger: rows', 'method: POST'), 'junction.yaml', {});
    assert.equal(bad.ok, false);
    const issues = bad.ok ? [] : bad.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    assert.deepEqual(issues, [
      '3 connectors.ledger.status: must be at least 100',
      '6 flows.seed.trigger.burst.count: must be at least 1',
      '9 flows.seed.steps[1].deliver.request.method: unknown key "method"; expected one of ledger',
    ]);
  });

  it('are in the published JSON Schema and the config reference', () => {
    const schema = JSON.stringify(configJsonSchema());
    assert.match(schema, /"const":"memory"/);
    assert.match(schema, /"burst":\{/);
    const paths = new Set(configReferenceRows().map((r) => r.path));
    for (const p of ['connectors.<name>.status', 'flows.<name>.trigger.burst', 'flows.<name>.trigger.burst.count', 'flows.<name>.trigger.http.path', 'flows.<name>.steps[].deliver.request.ledger', 'flows.<name>.steps[].deliver.request.method']) {
      assert.ok(paths.has(p), `missing ${p}`);
    }
  });

  it('run end to end: the trigger ingests, the steps run, the connector receives each message once under its key', async (t) => {
    received.clear();
    const engine = await startTestEngine(t, `server: { adminToken: admin-token-1234 }\n${CONFIG}`);
    await engine.until(async () => (await engine.store.stats('seed')).done === 5);
    const sent = received.get('ledger') ?? [];
    assert.deepEqual(sent.map((r) => r.idempotencyKey).sort(), ['row-1', 'row-2', 'row-3', 'row-4', 'row-5']);
    assert.deepEqual(JSON.parse(String(sent[0]?.body)), { id: 'row-1', kind: 'seed' });
    assert.equal(sent[0]?.path, '/rows', 'the request was rendered by the connector type\'s own request kind');
    const auth = { authorization: 'Bearer admin-token-1234' };
    const flows = (await engine.app.inject({ url: '/admin/flows', headers: auth })).json() as { flows: { trigger: unknown }[] };
    assert.deepEqual(flows.flows[0]?.trigger, { type: 'burst', count: 5, started: true }, 'the admin API shows the trigger as it describes itself');
    const connectors = (await engine.app.inject({ url: '/admin/connectors', headers: auth })).json() as { connectors: { type: string; state: unknown }[] };
    assert.equal(connectors.connectors[0]?.type, 'memory');
    assert.deepEqual(connectors.connectors[0]?.state, { type: 'memory', policies: {} });
  });
});
