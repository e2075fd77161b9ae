/**
 * Two processes (two stores on one storage) whose OAuth 2.0 token is due at the
 * same moment make one token request between them, against the real
 * authorization server (oidc-provider): the renewal holds the token's lock in
 * the store (TokenStore.update). With rotated refresh tokens, a race would
 * present one refresh token twice, and oidc-provider then revokes the whole
 * grant; both keep working instead. On SQLite and on PostgreSQL (a schema per test).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import type { Connector } from '../../src/connectors/connector.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { sendRequest } from '../../src/steps/request.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { tempDir } from '../helpers/engine.ts';
import { startOidc, type OidcServer } from '../helpers/oidc.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const FILE = 'test/auth/oauth2-shared.test.ts';
const SECRET = 'junction-secret';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
after(() => admin.end());

/** Opens stores on one storage for this test: each is another process's view of it. */
type Storage = (clock: ManualClock) => Promise<Store>;

function sqliteStorage(t: TestContext): Storage {
  const path = join(tempDir(t), 'junction.db');
  return async (clock) => {
    const store = createSqliteStore({ path, clock });
    t.after(() => store.close());
    await store.migrate();
    return store;
  };
}

async function postgresStorage(t: TestContext): Promise<Storage> {
  const schema = schemaName(FILE, t.fullName);
  await admin.create(schema);
  t.after(async () => {
    if ((t as { passed?: boolean }).passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });
  return async (clock) => {
    const store = createPostgresStore({ url: PG_URL, schema, clock, pool: { max: 4 } });
    // Registered after the schema's drop, so it runs first (t.after runs last-in, first-out).
    t.after(() => store.close());
    await store.migrate();
    return store;
  };
}

const message = (body: Json = { orderId: 1 }): Message => ({ id: 'm-1', flow: 'f', attempt: 1, idempotencyKey: 'k-1', body, headers: {}, meta: {} });

function post(c: Connector) {
  return sendRequest(c, { method: 'POST', path: '/orders', body: '{}', headers: { 'content-type': 'application/json' }, idempotencyKey: 'k-1' }, message(), {
    signal: new AbortController().signal,
    logger: silentLogger,
    clock: Date,
  });
}

async function setup(t: TestContext, storage: Storage, grant: 'client_credentials' | 'refresh_token') {
  const oidc: OidcServer = await startOidc({ accessTokenTtlSec: 300 });
  t.after(() => oidc.close());
  const sink: Sink = await startTestSink(t);
  const clock = new ManualClock(Date.now());
  const oauth2: Record<string, unknown> = { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET };
  if (grant === 'refresh_token') Object.assign(oauth2, { grant, refreshToken: await oidc.issueRefreshToken({ scope: 'contacts.write' }) });
  const node = async (): Promise<Connector> =>
    testRestConnector(t, 'crm', { baseUrl: sink.url, timeoutMs: 5000, auth: { oauth2 } }, { tokens: (await storage(clock)).tokens, clock });
  return { oidc, sink, clock, a: await node(), b: await node() };
}

/** Both nodes send `n` calls each at once; every one must pass. */
async function together(a: Connector, b: Connector, n = 5): Promise<void> {
  const results = await Promise.all([...Array.from({ length: n }, () => post(a)), ...Array.from({ length: n }, () => post(b))]);
  assert.deepEqual(
    results.map((r) => r.status),
    results.map(() => 200),
  );
}

function suite(name: string, open: (t: TestContext) => Promise<Storage>, skip: string | undefined): void {
  describe(`oauth2 shared by two nodes: ${name}`, skip === undefined ? {} : { skip }, () => {
    it('two nodes with no token, calling at once: one token request, one token used by both', async (t) => {
      const { oidc, sink, a, b } = await setup(t, await open(t), 'client_credentials');
      await together(a, b);
      assert.equal(oidc.tokenRequests.length, 1);
      assert.equal(new Set(sink.requests.map((r) => r.headers.authorization)).size, 1);
    });

    it('rotated refresh tokens: both nodes due at once renew once each time, nothing is refused, and both keep working', async (t) => {
      const { oidc, a, b, clock } = await setup(t, await open(t), 'refresh_token');
      await together(a, b);
      for (let round = 0; round < 3; round++) {
        // Past the renewal margin (refreshBeforeMs 30 s of a 300 s token) for both copies at once.
        clock.advance(280_000);
        await together(a, b);
      }
      assert.deepEqual(
        oidc.tokenRequests.map((r) => [r.grantType, r.outcome]),
        Array.from({ length: 4 }, () => ['refresh_token', 'issued']),
      );
    });
  });
}

suite('SQLite', async (t) => sqliteStorage(t), undefined);
suite('PostgreSQL', postgresStorage, unavailable);
