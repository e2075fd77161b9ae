/**
 * Property: templates over arbitrary JSON bodies never send an empty, object or
 * array key or path segment. Each render either gives a string in which every
 * `{{ expr }}` part wrote a non-empty string, a number or a boolean, or fails
 * with the permanent JNC_TEMPLATE_VALUE. Bounded in runs and in time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { isJunctionError } from '../../src/core/errors.ts';
import { compileTemplate } from '../../src/core/expression.ts';

const LIMITS = { numRuns: 300, interruptAfterTimeLimit: 4000 };
const bindings = { headers: {}, meta: {} };

const field = fc.constantFrom('orderId', 'email', 'note', 'items');
/** Bodies that often hold the fields the expressions read, with any JSON in them, and sometimes are not objects at all. */
const body = fc.oneof(fc.dictionary(field, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.jsonValue({ maxDepth: 2 }));
/** Expressions users write in keys and paths: paths, functions, conditions, the whole body. */
const expression = fc.constantFrom('orderId', 'email', 'items.sku', 'items[0]', '$string(note)', "$exists(note) ? note : ''", '$lowercase(email)', '$', 'note.x');

/** A part's value is written only when it is a scalar that cannot be confused with another message's. */
const writable = (v: unknown): v is string | number | boolean =>
  (typeof v === 'string' && v !== '') || typeof v === 'number' || typeof v === 'boolean';

async function valueOf(expr: string, input: unknown): Promise<unknown> {
  try {
    return await jsonata(expr).evaluate(input, bindings);
  } catch {
    return new Error('the expression throws');
  }
}

/** Renders, or returns the error when it was the permanent template error; anything else fails the property. */
async function renderOrRefuse(source: string, input: unknown, encode?: (v: string) => string): Promise<string | 'refused' | 'threw'> {
  try {
    return await compileTemplate(source, encode ? { encode } : {}).render(input, bindings);
  } catch (e) {
    if (isJunctionError(e) && e.code === 'JNC_TEMPLATE_VALUE') {
      assert.equal(e.retryable, false);
      return 'refused';
    }
    return 'threw';
  }
}

describe('template properties', () => {
  it('an idempotency key is the prefix and a non-empty scalar, or the permanent error', async () => {
    await fc.assert(
      fc.asyncProperty(expression, body, async (expr, input) => {
        const value = await valueOf(expr, input);
        const out = await renderOrRefuse(`order-{{ ${expr} }}`, input);
        if (value instanceof Error) return assert.equal(out, 'threw');
        if (!writable(value)) return assert.equal(out, 'refused', `${expr} gave ${JSON.stringify(value)}`);
        assert.equal(out, `order-${String(value)}`);
        assert.notEqual(out, 'order-');
      }),
      LIMITS,
    );
  });

  it('a path never has an empty, object or array segment where a part was: each is one encoded scalar, or the permanent error', async () => {
    await fc.assert(
      fc.asyncProperty(expression, expression, body, async (a, b, input) => {
        const [va, vb] = [await valueOf(a, input), await valueOf(b, input)];
        const out = await renderOrRefuse(`/accounts/{{ ${a} }}/orders/{{ ${b} }}`, input, encodeURIComponent);
        // Parts render in order: the first part that cannot be written decides.
        const first = va instanceof Error || !writable(va) ? va : vb;
        if (first instanceof Error) return assert.equal(out, 'threw');
        if (!writable(va) || !writable(vb)) return assert.equal(out, 'refused', `gave ${JSON.stringify(first)}`);
        assert.equal(out, `/accounts/${encodeURIComponent(String(va))}/orders/${encodeURIComponent(String(vb))}`);
        const segments = out.split('/');
        assert.ok(segments[2] !== '' && segments[4] !== '', out);
      }),
      LIMITS,
    );
  });
});
