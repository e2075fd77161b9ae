/**
 * @module test/core/duration
 * Durations in the config: milliseconds, or a number with a unit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/core/duration.ts';

describe('duration', () => {
  it('reads a number as milliseconds and a number with a unit as that many units', () => {
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1s'), 1000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration(' 10 s '), 10_000);
    assert.equal(parseDuration(0.5), 1, 'a fraction of a millisecond rounds up');
  });

  it('refuses what is not a positive duration', () => {
    for (const v of ['', '1', '1x', 's', '-1s', '0s', '1e3ms', '1 sec', '1m30s', 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(parseDuration(v), undefined, String(v));
    }
  });

  it('writes milliseconds back in the largest unit that is exact', () => {
    assert.equal(formatDuration(1000), '1s');
    assert.equal(formatDuration(60_000), '1m');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(250), '250ms');
  });
});
