import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPlainObject, isRecord } from '../../src/core/record.ts';

class Point {
  x = 1;
}

describe('isRecord', () => {
  it('holds for any object that is not an array', () => {
    for (const v of [{}, { a: 1 }, Object.create(null), new Point(), new Date(0)]) assert.equal(isRecord(v), true);
  });

  it('does not hold for arrays, null and other values', () => {
    for (const v of [[], [1], null, undefined, 'a', 1, true, () => {}]) assert.equal(isRecord(v), false);
  });
});

describe('isPlainObject', () => {
  it('holds for object literals and null-prototype objects only', () => {
    assert.equal(isPlainObject({ a: 1 }), true);
    assert.equal(isPlainObject(Object.create(null)), true);
    for (const v of [new Point(), new Date(0), new Map(), [], null, 'a']) assert.equal(isPlainObject(v), false);
  });
});
