/**
 * @module test/store/body-digest.test
 * The digest kept with a dedupe key: equal for the same JSON value however it was
 * written, different for any other value, and exactly RFC 8785's canonical form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Json } from '../../src/core/message.ts';
import { bodyDigest, canonicalJson } from '../../src/store/body-digest.ts';

const LIMITS = { numRuns: 300, interruptAfterTimeLimit: 5_000 };

/** The same value with every object's keys in another order. */
function reordered(value: Json, seed: number): Json {
  if (Array.isArray(value)) return value.map((v, i) => reordered(v, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const rotated = keys.map((_, i) => keys[(i + seed) % keys.length]!).reverse();
  return Object.fromEntries(rotated.map((k) => [k, reordered(value[k] as Json, seed + 1)]));
}

describe('body digest', () => {
  it('is the SHA-256 of RFC 8785 canonical JSON: keys sorted by UTF-16 code units, no whitespace', () => {
    // RFC 8785 §3.2.3 sorts by UTF-16 code units: "\u20ac" (euro) before "\ud83d\ude00" (an emoji), "1" before "a".
    assert.equal(canonicalJson({ b: [1, { d: true, c: null }], a: 'x', '\u20ac': 1, '\ud83d\ude00': 2, 1: 0 }), '{"1":0,"a":"x","b":[1,{"c":null,"d":true}],"€":1,"😀":2}');
    assert.equal(canonicalJson({ n: 1e21, f: 0.1, z: -0, u: undefined }), '{"f":0.1,"n":1e+21,"z":0}');
    assert.equal(bodyDigest({ a: 1 }), '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });

  it('is the same for a value whose keys come in any order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        assert.equal(bodyDigest(reordered(value as Json, seed)), bodyDigest(value as Json));
      }),
      LIMITS,
    );
  });

  it('differs whenever the values differ as JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = canonicalJson(a) === canonicalJson(b);
        assert.equal(bodyDigest(a as Json) === bodyDigest(b as Json), same);
        // Canonical JSON is JSON: it parses back to the value it was made of.
        assert.deepEqual(JSON.parse(canonicalJson(a)), JSON.parse(JSON.stringify(a)));
      }),
      LIMITS,
    );
  });

  it('of a text body is of its exact text', () => {
    assert.notEqual(bodyDigest('<a/>'), bodyDigest('<a />'));
    assert.notEqual(bodyDigest('1'), bodyDigest(1));
  });
});
