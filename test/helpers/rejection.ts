/**
 * @module test/helpers/rejection
 * The error a promise rejects with, when that is what a test is about.
 */
import assert from 'node:assert/strict';
import { isJunctionError, type JunctionError } from '../../src/core/errors.ts';

/**
 * Resolves with the JunctionError `p` rejects with. Fails the test with
 * `fulfilled` when `p` resolves instead, and when it rejects with anything else.
 */
export async function junctionRejection(p: Promise<unknown>, fulfilled = 'expected the promise to reject'): Promise<JunctionError> {
  const e = await p.then(
    () => assert.fail(fulfilled),
    (err: unknown) => err,
  );
  assert.ok(isJunctionError(e), `expected a JunctionError, got ${String(e)}`);
  return e;
}
