/**
 * A start-up that fails part-way (a trigger that cannot be created, or cannot
 * start) throws its own error and leaves nothing open behind it: no port bound,
 * the store closed. A program that embeds the engine can then try again, and
 * `junction run` is not kept up by what the failed start had opened.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load.ts';
import { startEngine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { triggerTypes } from '../../src/triggers/registry.ts';
import { defineTrigger, type TriggerDefinition } from '../../src/triggers/trigger.ts';
import { writeTestConfig } from '../helpers/engine.ts';

let stops = 0;
const brokenTrigger = defineTrigger({
  name: 'broken',
  summary: 'Fails when created or when started (tests only).',
  options: z.strictObject({ failAt: z.enum(['create', 'start']).describe('Where it fails.') }).describe('Fails (tests only).'),
  create(options, deps) {
    if (options.failAt === 'create') throw new Error('broken: cannot be created');
    return {
      flow: deps.flow,
      type: 'broken',
      async start() {
        throw new Error('broken: cannot start');
      },
      async stop() {
        stops++;
      },
      describe: () => ({}),
    };
  },
});
triggerTypes.register(brokenTrigger as TriggerDefinition);

const config = (failAt: string) => `
store: sqlite:./junction.db
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { map: { n: n } } ]
  broken:
    trigger: { broken: { failAt: ${failAt} } }
    steps: [ { map: { n: n } } ]
`;

/** Listens on `port` (0: any) and closes again; the port it got, or the error that kept it from listening. */
async function listenOnce(port: number): Promise<number | Error> {
  const server = createServer();
  const got = await new Promise<number | Error>((resolve) => {
    server.once('error', resolve);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  if (typeof got === 'number') await new Promise<void>((resolve) => server.close(() => resolve()));
  return got;
}

describe('a start-up that fails part-way', () => {
  for (const failAt of ['create', 'start']) {
    it(`closes what it opened when a trigger fails to ${failAt}, and throws the trigger's error`, async (t) => {
      const { dir, configFile } = writeTestConfig(t, config(failAt));
      // A port that was free a moment ago, for both tries: the second cannot listen if the first left it bound.
      const port = (await listenOnce(0)) as number;
      stops = 0;
      await assert.rejects(startEngine(await loadConfig(configFile), { logger: silentLogger, port }), new RegExp(`broken: cannot ${failAt === 'create' ? 'be created' : 'start'}`));
      // (A trigger that cannot be created fails before the server is built; one that cannot start, after it listens.)
      assert.equal(await listenOnce(port), port, 'no port is left bound');
      // SQLite removes the write-ahead log when its last connection closes cleanly: the store was closed.
      assert.ok(existsSync(join(dir, 'junction.db')), 'the store had been opened (and migrated)');
      assert.equal(existsSync(join(dir, 'junction.db-wal')), false, 'the store was closed');
      assert.equal(stops, failAt === 'start' ? 1 : 0, 'a trigger whose start failed is stopped too');

      // Nothing stands in the way of a second try on the same file.
      const retry = await startEngine(await loadConfig(configFile), { logger: silentLogger, port }).catch((e: unknown) => e as Error);
      assert.ok(retry instanceof Error && /broken/.test(retry.message), `the second try fails for the same reason, not for what the first left open: ${String(retry)}`);
    });
  }
});
