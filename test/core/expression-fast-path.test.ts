/**
 * @module test/core/expression-fast-path.test
 * A plain field path (`orderId`, `customer.email`) is evaluated by walking the
 * body instead of by JSONata; fast-check holds the two to the same answer on
 * arbitrary JSON, arrays and inherited names included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { compileExpression } from '../../src/core/expression.ts';

const name = fc.constantFrom('a', 'b', 'id', 'email', 'toString', 'constructor', 'length', 'hasOwnProperty', '__proto__', 'x_1');
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((names) => names.join('.'));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 0 }), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(name, tie('value'), { maxKeys: 4 })),
})).value;
const bindings = { headers: {}, meta: {} };

describe('expression fast path', () => {
  it('gives what JSONata gives for a plain field path, on any JSON', async () => {
    await fc.assert(
      fc.asyncProperty(path, json, async (p, body) => {
        const fast = await compileExpression(p).evaluate(body, bindings);
        const slow: unknown = await jsonata(p).evaluate(body, { headers: {}, meta: {}, env: process.env });
        assert.deepEqual(fast, slow);
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 20_000 },
    );
  });

  it('leaves to JSONata what only looks like a path: literals and operators', async () => {
    assert.equal(await compileExpression('true').evaluate({ true: 'field' }, bindings), true);
    assert.equal(await compileExpression('null').evaluate({ null: 'field' }, bindings), null);
    assert.deepEqual([...((await compileExpression('items.sku').evaluate({ items: [{ sku: 'a' }, { sku: 'b' }] }, bindings)) as string[])], ['a', 'b'], 'a path through an array maps over it');
  });
});
