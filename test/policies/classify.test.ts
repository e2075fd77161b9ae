import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClassifier, defaultClassify } from '../../src/policies/classify.ts';

test('the default table of DESIGN.md', () => {
  const table: [number, string][] = [
    [200, 'ok'],
    [201, 'ok'],
    [204, 'ok'],
    [299, 'ok'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
    [401, 'refresh'],
    [400, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [409, 'permanent'],
    [422, 'permanent'],
    [100, 'permanent'],
    [301, 'permanent'],
    [304, 'permanent'],
  ];
  for (const [status, expected] of table) assert.equal(defaultClassify(status), expected, String(status));
});

test('a status outside 100–599 is permanent', () => {
  for (const status of [0, 99, 600, 999, -1]) assert.equal(defaultClassify(status), 'permanent', String(status));
});

test('overrides win per status, then per class, and leave the rest as default', () => {
  const classify = createClassifier({ 409: 'ok', 404: 'retry', '5xx': 'permanent', 503: 'retry' });
  assert.equal(classify(409), 'ok');
  assert.equal(classify(404), 'retry');
  assert.equal(classify(500), 'permanent');
  assert.equal(classify(503), 'retry', 'an exact status wins over its class');
  assert.equal(classify(429), 'retry');
  assert.equal(classify(400), 'permanent');
  assert.equal(defaultClassify(409), 'permanent', 'the default table is untouched');
});
