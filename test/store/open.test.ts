/**
 * @module test/store/open.test
 * openStore: which `store:` URLs open which store, and where the file goes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStore, postgresOptions } from '../../src/store/open.ts';
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

  it('reads schema, pool_max and statement_timeout out of a postgres:// URL and leaves the rest to pg', () => {
    assert.deepEqual(postgresOptions('postgres://junction:pw@db.internal:6432/junction?schema=jnc&pool_max=20&statement_timeout=5000&sslmode=require'), {
      url: 'postgres://junction:pw@db.internal:6432/junction?sslmode=require',
      schema: 'jnc',
      pool: { max: 20 },
      statementTimeoutMs: 5000,
    });
    assert.deepEqual(postgresOptions('postgresql://localhost/junction'), { url: 'postgresql://localhost/junction' });
  });

  it('opens a postgres:// URL without connecting until migrate', async () => {
    const store = openStore('postgres://junction@127.0.0.1:1/junction', { baseDir: dir });
    await store.close();
  });

  for (const url of ['postgres://junction:pw@localhost/junction?pool_max=0', 'postgres://localhost/j?statement_timeout=soon']) {
    it(`refuses ${JSON.stringify(url)} with JNC_STORE_URL, without the password`, () => {
      assert.throws(
        () => openStore(url, { baseDir: dir }),
        (e: unknown) => (e as { code?: unknown }).code === 'JNC_STORE_URL' && !(e as Error).message.includes(':pw@'),
      );
    });
  }

  for (const url of ['sqlite:', 'sqlite://host/junction.db', 'mysql://x', './junction.db', '']) {
    it(`refuses ${JSON.stringify(url)} with JNC_STORE_URL`, () => {
      assert.throws(
        () => openStore(url, { baseDir: dir }),
        (e: unknown) => (e as { code?: unknown }).code === 'JNC_STORE_URL',
      );
    });
  }
});
