/**
 * @module test/store/open.test
 * openStore: which `store:` URLs open which store, and where the file goes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { ManualClock } from '../helpers/clock.ts';

describe('openStore', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'junction-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves sqlite:PATH against baseDir', async () => {
    const store = openStore('sqlite:./data/junction.db', { baseDir: dir });
    await store.migrate();
    await store.close();
    assert.ok(existsSync(join(dir, 'data', 'junction.db')));
  });

  it('uses an absolute sqlite:PATH as it is', async () => {
    const path = join(dir, 'elsewhere', 'junction.db');
    const store = openStore(`sqlite:${path}`, { baseDir: '/nonexistent' });
    await store.migrate();
    await store.close();
    assert.ok(existsSync(path));
  });

  it('opens sqlite::memory: without touching the disk, on the given clock', async () => {
    const clock = new ManualClock();
    const store = openStore('sqlite::memory:', { baseDir: dir, clock });
    await store.migrate();
    const [result] = await store.enqueue([{ flow: 'f', body: null }]);
    assert.equal((await store.getMessage(result?.id ?? ''))?.createdAt, clock.now());
    await store.close();
  });

  for (const url of ['postgres://junction@localhost/junction', 'sqlite:', 'sqlite://host/junction.db', 'mysql://x', './junction.db', '']) {
    it(`refuses ${JSON.stringify(url)} with JNC_STORE_URL`, () => {
      assert.throws(
        () => openStore(url, { baseDir: dir }),
        (e: unknown) => (e as { code?: unknown }).code === 'JNC_STORE_URL',
      );
    });
  }
});
