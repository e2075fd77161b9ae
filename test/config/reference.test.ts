/**
 * @module test/config/reference
 * Drift tests: docs/config.md is what the schema generates, and every config
 * key has a description to put in it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { configReferenceRows, REFERENCE_FILE, REGENERATE, renderConfigReference } from '../../src/config/reference.ts';

describe('config reference', () => {
  test('docs/config.md matches the schema', () => {
    const committed = readFileSync(REFERENCE_FILE, 'utf8');
    assert.ok(committed === renderConfigReference(), `docs/config.md is out of date with the config schema; regenerate it with \`${REGENERATE}\``);
  });

  test('every config key has a description', () => {
    const missing = configReferenceRows()
      .filter((r) => r.isKey && r.description === '')
      .map((r) => r.path);
    assert.deepEqual(missing, [], `add .describe(…) to the schema of: ${missing.join(', ')}`);
  });

  test('lists keys from every part of the config, steps included', () => {
    const paths = new Set(configReferenceRows().map((r) => r.path));
    for (const p of ['store', 'server.port', 'connectors.<name>.auth.bearer', 'flows.<name>.trigger.http.path', 'flows.<name>.steps[].map', 'flows.<name>.steps[].deliver.connector']) {
      assert.ok(paths.has(p), `missing ${p}`);
    }
  });
});
