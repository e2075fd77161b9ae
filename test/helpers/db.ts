/**
 * @module test/helpers/db
 * The PostgreSQL server the tests use, and one schema per test on it, so that test
 * files running side by side never see each other's rows.
 *
 * `JUNCTION_TEST_PG` names the server (CI sets it, after starting PostgreSQL). Unset,
 * the local default is tried, and the PostgreSQL tests are skipped with a printed
 * reason if nothing answers there; set, a server that does not answer fails them.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.JUNCTION_TEST_PG || 'postgres://postgres@127.0.0.1:5432/test';

/** Why the PostgreSQL tests cannot run here, or undefined when they can. Throws when JUNCTION_TEST_PG is set and unreachable. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const reason = `PostgreSQL at ${PG_URL} did not answer (${e instanceof Error ? e.message : String(e)})`;
    if (process.env.JUNCTION_TEST_PG) throw new Error(`${reason}; JUNCTION_TEST_PG is set, so the PostgreSQL tests must run`);
    return `${reason}; set JUNCTION_TEST_PG to run the PostgreSQL tests`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `t_<sha1(file + test name)>`: the same test gets the same schema on every run, so a kept one is found by name. */
export function schemaName(file: string, testName: string): string {
  return `t_${createHash('sha1').update(`${file}\u0000${testName}`).digest('hex').slice(0, 24)}`;
}

/** One connection for creating and dropping the test schemas. */
export class SchemaAdmin {
  readonly #client = new pg.Client({ connectionString: PG_URL });
  #connected: Promise<void> | undefined;

  async query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    this.#connected ??= this.#client.connect().then(() => undefined);
    await this.#connected;
    return this.#client.query(text, values);
  }

  /** A fresh, empty schema: one a failed earlier run kept is dropped first. */
  async create(schema: string): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await this.query(`CREATE SCHEMA ${schema}`);
  }

  async drop(schema: string): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }

  async end(): Promise<void> {
    if (this.#connected) await this.#client.end();
  }
}
