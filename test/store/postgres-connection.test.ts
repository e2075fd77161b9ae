/**
 * The PostgreSQL pool against a server that misbehaves on purpose: one that
 * accepts a connection and ends it in the same packet, as a server shutting
 * down (`pg_ctl stop -m fast`) can. The process must live on, and the call must
 * fail with the cause, whatever the timing.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createPool, isConnectionLost, withClient } from '../../src/store/postgres/connection.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';

/** One backend message: its type byte, its length (itself included) and its body. */
function backendMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** AuthenticationOk, ReadyForQuery, then FATAL 57P01, all in one write, then the socket closes. */
const GREET_THEN_TERMINATE = Buffer.concat([
  backendMessage('R', int32(0)),
  backendMessage('Z', Buffer.from('I', 'latin1')),
  backendMessage(
    'E',
    Buffer.concat([
      Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0', 'utf8'),
      Buffer.from([0]),
    ]),
  ),
]);

/** A server that greets every startup message with GREET_THEN_TERMINATE. */
async function terminatingServer(t: { after(fn: () => unknown): void }): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // The startup message is the first thing a client sends (no SSL request without ssl settings).
    socket.once('data', () => socket.end(GREET_THEN_TERMINATE));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as { port: number };
  return `postgres://postgres@127.0.0.1:${port}/test`;
}

describe('PostgreSQL pool: a connection ended in the packet that opened it', () => {
  it('withClient rejects with the server error and the process lives on', async (t) => {
    const url = await terminatingServer(t);
    const pool = createPool({ url, schema: undefined, max: 2, statementTimeoutMs: 1000, connectionTimeoutMs: 2000 });
    t.after(() => pool.end().catch(() => undefined));
    let uncaught: unknown;
    const onUncaught = (e: unknown): void => {
      uncaught = e;
    };
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));
    for (let i = 0; i < 5; i++) {
      const err = await withClient(pool, (c) => c.query('SELECT 1')).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err !== undefined, 'the query cannot succeed on a terminated connection');
      assert.ok(isConnectionLost(err), `a lost connection, not a statement error: ${String(err)}`);
    }
    assert.equal(uncaught, undefined, 'no client error escaped as an uncaught exception');
    assert.equal(pool.totalCount, 0, 'the terminated connections were not kept');
  });

  it('a store on such a server refuses with JNC_STORE_UNAVAILABLE naming the server', async (t) => {
    const url = await terminatingServer(t);
    const store = createPostgresStore({ url, pool: { max: 2 }, connectionTimeoutMs: 2000 });
    t.after(() => store.close());
    await assert.rejects(store.migrate(), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'JNC_STORE_UNAVAILABLE');
      assert.match(e.message ?? '', /127\.0\.0\.1:\d+\/test/);
      return true;
    });
  });
});
