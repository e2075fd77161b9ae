import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { causeChain, coerceError, errors, isJunctionError, withMessage } from '../../src/core/errors.ts';

describe('error catalog', () => {
  it('lists exactly the codes that docs/errors.md documents', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^### (JNC_[A-Z_]+)$/gm)].map((m) => m[1]).sort();
    const catalog = Object.values(errors).map((d) => d.code).sort();
    assert.deepEqual(documented, catalog);
  });

  it('never gives two definitions the same code', () => {
    const codes = Object.values(errors).map((d) => d.code);
    assert.equal(new Set(codes).size, codes.length);
  });

  it('recognises its errors by brand and wraps foreign ones with the cause kept', () => {
    const foreign = new TypeError('boom');
    const e = coerceError(foreign);
    assert.ok(isJunctionError(e));
    assert.ok(!isJunctionError(foreign));
    assert.equal(e.code, 'JNC_STEP_FAILED');
    assert.equal(e.cause, foreign);
    assert.equal(e.retryable, true);
    assert.deepEqual(causeChain(e), ['JNC_STEP_FAILED: Step (unknown) failed: boom', 'boom']);
  });

  it('formats the message from the template and keeps status and retryAfterMs', () => {
    const e = errors.HTTP_RETRYABLE.create(['crm', 503], { retryAfterMs: 2000 });
    assert.equal(e.message, 'Connector crm answered 503');
    assert.equal(e.retryAfterMs, 2000);
    assert.equal(errors.INPUT_TOO_LARGE.create([10]).status, 413);
    assert.equal(errors.HTTP_REJECTED.create(['crm', 400]).retryable, false);
  });

  it('withMessage tells the same error with a new message, every other field kept', () => {
    const cause = new Error('socket hang up');
    const response = { status: 429, headers: {}, bodyExcerpt: 'slow down' };
    const e = errors.HTTP_RETRYABLE.create(['crm', 429], { cause, retryAfterMs: 2000, status: 502, response, details: { n: 1 }, headers: { 'retry-after': '2' } });
    const told = withMessage(e, 'Connector crm answered 429; one message stored');
    assert.ok(isJunctionError(told));
    assert.equal(told.message, 'Connector crm answered 429; one message stored');
    assert.deepEqual(
      { code: told.code, family: told.family, retryable: told.retryable, status: told.status, retryAfterMs: told.retryAfterMs, response: told.response, details: told.details, headers: told.headers, cause: told.cause },
      { code: e.code, family: e.family, retryable: true, status: 502, retryAfterMs: 2000, response, details: { n: 1 }, headers: { 'retry-after': '2' }, cause },
    );
  });

  it('withMessage replaces only the fields given as overrides', () => {
    const e = errors.STEP_INVALID.create(['map', 'no total'], { details: { field: 'total' } });
    const told = withMessage(e, 'kept 2 of 3', { cause: e, details: { stored: 2 } });
    assert.equal(told.cause, e);
    assert.deepEqual(told.details, { stored: 2 });
    assert.equal(told.code, 'JNC_STEP_INVALID');
    assert.equal(told.retryable, false);
  });
});
