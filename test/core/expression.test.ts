/**
 * Templates: `{{ expr }}` parts between literal text. A part that gives no
 * usable value fails the message instead of rendering as empty text (two orders
 * without an orderId would share the key `order-`); a template that does not
 * parse is refused when it is compiled, which is when the config is checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import { compileExpression, compileTemplate, expression, template } from '../../src/core/expression.ts';

const bindings = { headers: { 'x-shop': 'north' }, meta: { channel: 'web' } };

/** What `{{ expr }}` gave, as the error says it, or the rendered text. */
async function render(source: string, body: unknown, encode?: (v: string) => string): Promise<string> {
  return compileTemplate(source, encode ? { encode } : {}).render(body, bindings);
}

describe('template rendering', () => {
  it('writes strings as they are and numbers and booleans with String()', async () => {
    assert.equal(await render('order-{{ id }}', { id: 'A-1' }), 'order-A-1');
    assert.equal(await render('{{ n }}/{{ f }}/{{ ok }}/{{ no }}', { n: 7, f: 1.5, ok: true, no: false }), '7/1.5/true/false');
    assert.equal(await render('{{ 0 }}', {}), '0');
    assert.equal(await render('{{ $headers."x-shop" }}-{{ $meta.channel }}', {}), 'north-web');
  });

  it('leaves a template without parts as its literal text', async () => {
    assert.equal(await render('/orders', { any: 1 }), '/orders');
    assert.equal(await render('', {}), '');
    assert.equal(await render('a { b } c', {}), 'a { b } c');
  });

  it('encodes each part, not the text around it', async () => {
    assert.equal(await render('/a/{{ id }}?x=1', { id: 'b/c?d' }, encodeURIComponent), '/a/b%2Fc%3Fd?x=1');
  });

  it('refuses, as a permanent JNC_TEMPLATE_VALUE naming the template and the expression, a part that gives nothing, null, "", an object or an array', async () => {
    const cases: [unknown, string][] = [
      [{}, 'nothing'],
      [{ orderId: null }, 'null'],
      [{ orderId: '' }, 'an empty string'],
      [{ orderId: { x: 1 } }, 'an object with key x'],
      [{ orderId: [1, 2] }, 'an array of 2'],
    ];
    for (const [body, gave] of cases) {
      await assert.rejects(render('order-{{ orderId }}', body), (e) => {
        assert.ok(isJunctionError(e));
        assert.equal(e.code, 'JNC_TEMPLATE_VALUE');
        assert.equal(e.retryable, false);
        assert.equal(e.message, `Template "order-{{ orderId }}": {{ orderId }} gave ${gave}; a part must give a non-empty string, a number or a boolean`);
        assert.deepEqual(e.details, { template: 'order-{{ orderId }}', expression: 'orderId' });
        return true;
      }, JSON.stringify(body));
    }
  });

  it('refuses a sequence of several values (a path that matches many) and a function', async () => {
    await assert.rejects(render('{{ items.sku }}', { items: [{ sku: 'a' }, { sku: 'b' }] }), /gave an array of 2/);
    await assert.rejects(render('{{ function($x) { $x } }}', {}), /gave a function/);
  });

  it('renders a default where the value may be missing', async () => {
    const t = "note-{{ $exists(note) ? note : 'none' }}";
    assert.equal(await render(t, {}), 'note-none');
    assert.equal(await render(t, { note: 'gift' }), 'note-gift');
  });
});

describe('template syntax', () => {
  const refused = (source: string, message: RegExp) =>
    assert.throws(() => compileTemplate(source), (e) => e instanceof Error && message.test(e.message), source);

  it('refuses a {{ that is never closed', () => {
    refused('order-{{ orderId ', /^"\{\{" at character 7 is never closed by "\}\}"$/);
  });

  it('refuses a }} that closes no {{', () => {
    refused('order-}} x', /^"\}\}" at character 7 closes no "\{\{"$/);
    refused('{{ a }} b }}', /^"\}\}" at character 11 closes no "\{\{"$/);
  });

  it('refuses an empty {{ }}', () => {
    refused('order-{{ }}', /^"\{\{ \}\}" at character 7 holds no expression$/);
    refused('{{}}', /holds no expression/);
  });

  it('refuses an expression that does not parse, with the JSONata message', () => {
    refused('a-{{ $sum( }}', /^invalid \{\{ \}\} expression at character 3: Expected "\)" before end of expression/);
  });

  it('ends a part at the first }} after which its expression parses, so object constructors stay whole', async () => {
    assert.equal(await render('{{ {"a": {"b": 1}}.a.b }}-{{ {"c": 2}.c }}}', {}), '1-2}');
    assert.equal(await render("{{ '{{' }}", {}), '{{');
  });
});

describe('compiled once', () => {
  it('the config check keeps the expression it compiled, and the step that compiles the same source gets it back', async () => {
    const source = '$sum(items.price) + 0.25';
    expression.parse(source);
    const first = compileExpression(source);
    assert.equal(compileExpression(source), first);
    assert.equal(await first.evaluate({ items: [{ price: 1 }, { price: 2 }] }, bindings), 3.25);
  });

  it('keeps the expressions of a checked template too', () => {
    template.parse('order-{{ id & "-compiled-once" }}');
    assert.equal(compileExpression('id & "-compiled-once"'), compileExpression('id & "-compiled-once"'));
  });

  it('does not keep a source only compiled at run time', () => {
    const source = 'id & "-built-at-run-time"';
    assert.notEqual(compileExpression(source), compileExpression(source));
  });

  it('keeps at most 10000 sources, forgetting the oldest first', () => {
    const oldest = 'id & "-oldest"';
    expression.parse(oldest);
    assert.equal(compileExpression(oldest), compileExpression(oldest));
    for (let i = 0; i < 10_000; i++) expression.parse(`n + ${i}`);
    assert.notEqual(compileExpression(oldest), compileExpression(oldest));
    assert.equal(compileExpression('n + 9999'), compileExpression('n + 9999'));
  });
});
