import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fsReason } from '../../src/core/fs-reason.ts';

function readError(path: string): unknown {
  try {
    readFileSync(path);
  } catch (e) {
    return e;
  }
  assert.fail(`${path} was readable`);
}

describe('fsReason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-reason-'));
  const file = join(dir, 'a.txt');
  writeFileSync(file, 'x');
  after(() => rmSync(dir, { recursive: true }));

  it('says what is wrong with the path in words, without repeating it', () => {
    assert.equal(fsReason(readError(join(dir, 'missing.txt'))), 'no such file');
    assert.equal(fsReason(readError(dir)), 'it is a directory');
    assert.equal(fsReason(readError(join(file, 'below'))), 'a part of the path is not a directory');
    assert.equal(fsReason(Object.assign(new Error('EACCES: permission denied, open /x'), { code: 'EACCES', errno: -13 })), 'permission denied');
  });

  it('gives the system words for another system error, and the message of anything else', () => {
    assert.equal(fsReason(Object.assign(new Error('EMFILE: too many open files, open /x'), { code: 'EMFILE', errno: -24 })), 'too many open files');
    assert.equal(fsReason(new Error('decoding failed')), 'decoding failed');
    assert.equal(fsReason('odd'), 'odd');
  });

});
