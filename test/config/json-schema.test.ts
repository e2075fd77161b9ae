/**
 * @module test/config/json-schema
 * The published JSON Schema: serialisable, draft 2020-12, and a step is one of
 * the built-in step types with its options, so editors can complete it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { stepTypes } from '../../src/steps/registry.ts';

type Json = Record<string, unknown>;

function stepItems(schema: Json): Json {
  const flows = (schema.properties as Record<string, Json>).flows!;
  const flow = flows.additionalProperties as Json;
  const steps = (flow.properties as Record<string, Json>).steps!;
  return steps.items as Json;
}

describe('configJsonSchema', () => {
  test('is JSON, names its draft and describes the root', () => {
    const schema = configJsonSchema();
    const text = JSON.stringify(schema);
    assert.deepEqual(JSON.parse(text), schema);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.required, ['flows']);
  });

  test('a step is one of the built-in steps, each a single required key holding its options', () => {
    const items = stepItems(configJsonSchema());
    const options = items.oneOf as Json[];
    assert.ok(Array.isArray(options));
    assert.deepEqual(
      options.map((o) => o.required),
      stepTypes.names().map((name) => [name]),
    );
    for (const o of options) {
      assert.equal(o.additionalProperties, false);
      const [name] = o.required as [string];
      const body = (o.properties as Record<string, Json>)[name]!;
      assert.equal(body.$schema, undefined, 'a nested schema carries no $schema');
      assert.equal(typeof body.description, 'string');
    }
    const deliver = options.find((o) => (o.required as string[])[0] === 'deliver')!;
    const deliverBody = (deliver.properties as Record<string, Json>).deliver!;
    assert.deepEqual(deliverBody.required, ['connector']);
  });

  test('marks secrets with writeOnly, not a custom keyword', () => {
    const text = JSON.stringify(configJsonSchema());
    // The keyword, not a key: a property may be named secret (auth.signature.secret).
    assert.ok(!text.includes('"secret":true'));
    const server = (configJsonSchema().properties as Record<string, Json>).server!;
    const adminToken = (server.properties as Record<string, Json>).adminToken!;
    assert.equal(adminToken.writeOnly, true);
  });
});
