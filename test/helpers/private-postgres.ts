/**
 * @module test/helpers/private-postgres
 * A PostgreSQL cluster of the test's own, on a free port in a temp directory,
 * for tests that stop and start the server: the shared one on 127.0.0.1:5432
 * serves other test files at the same time and must never go down.
 *
 * ```ts
 * const pg = await privatePostgres(t);        // skip when it cannot run here
 * if (!pg) return;
 * // … point a store at pg.url …
 * await pg.stop();                            // pg_ctl stop -m fast
 * await pg.start();
 * ```
 *
 * The server binaries are Debian's (`/usr/lib/postgresql/N/bin`). PostgreSQL
 * refuses to run as root, so when the tests run as root the cluster belongs
 * to the `postgres` OS user and every command runs through `runuser`.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: trust auth, the superuser. */
  readonly url: string;
  readonly port: number;
  /** Stops the server at once (`-m fast`): sessions are ended, nothing committed is lost. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves when it accepts connections. */
  start(): Promise<void>;
}

/** The directory of the newest installed server's binaries, or undefined. */
function binaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Creates and starts a cluster that is stopped and removed when the test ends.
 * Resolves undefined (and marks the test skipped, with the reason) when the
 * server binaries are not installed or there is no `postgres` user to run them as.
 */
export async function privatePostgres(t: TestContext): Promise<PrivatePostgres | undefined> {
  const bin = binaries();
  if (bin === undefined) {
    t.skip('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl): install the postgresql package to run this test');
    return undefined;
  }
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    try {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      owner = { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
    } catch {
      t.skip('running as root and there is no `postgres` OS user to own a private PostgreSQL cluster');
      return undefined;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'junction-pg-'));
  const data = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // As the cluster's owner, whoever runs the tests.
  const exec = (file: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, file), ...args]) : run(join(bin, file), args);

  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  // The socket goes in the cluster's own directory, not /var/run/postgresql (which the shared server uses).
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  let running = false;
  const start = async (): Promise<void> => {
    // -w: pg_ctl waits until the server accepts connections.
    await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    running = true;
  };
  const stop = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  t.after(async () => {
    if (running) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop, start };
}
