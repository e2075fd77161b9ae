/**
 * `junction migrate` applies the store's migrations and exits, on both stores,
 * from a shell without the connectors' secrets.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { loadMigrations } from '../../src/store/sqlite/migrate.ts';
import { loadPostgresMigrations } from '../../src/store/postgres/migrate.ts';
import { junction } from '../helpers/cli.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { tempDir } from '../helpers/engine.ts';

const FILE = 'test/cli/migrate.test.ts';
const CONNECTORS = `
connectors:
  crm: { type: rest, baseUrl: "http://127.0.0.1:4010", auth: { bearer: "\${env:CRM_SECRET}" } }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: crm } } ]
`;

describe('junction migrate', () => {
  it('creates and migrates a SQLite store, then exits 0; a second run has nothing to do', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, `store: sqlite:./data/j.db\n${CONNECTORS}`);
    const first = await junction(['migrate', '-c', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^store is up to date: sqlite:\.\/data\/j\.db\n$/);
    const db = new DatabaseSync(join(dir, 'data', 'j.db'), { readOnly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => Number(r.version));
    db.close();
    const expected = loadMigrations(new URL('../../src/store/migrations/sqlite/', import.meta.url)).map((m) => m.version);
    assert.deepEqual(versions, expected);
    const again = await junction(['migrate', '-c', file]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('exits 1 with the code on stderr when the store cannot be opened', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, `store: postgres://nobody:secret@127.0.0.1:1/none\n${CONNECTORS}`);
    const res = await junction(['migrate', '-c', file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /JNC_STORE_UNAVAILABLE/);
    assert.doesNotMatch(res.stderr + res.stdout, /secret/);
  });
});

const unavailable = await postgresUnavailable();

describe('junction migrate on PostgreSQL', unavailable === undefined ? {} : { skip: unavailable }, () => {
  const admin = new SchemaAdmin();
  after(() => admin.end());

  it('applies every migration in the configured schema, then exits 0', async (t) => {
    const schema = schemaName(FILE, t.fullName);
    await admin.drop(schema);
    const dir = tempDir(t);
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, `store: "${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}"\n${CONNECTORS}`);
    const res = await junction(['migrate', '-c', file]);
    assert.equal(res.code, 0, res.stderr);
    const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => Number(r.version)),
      loadPostgresMigrations().map((m) => m.version),
    );
    await admin.drop(schema);
  });
});
