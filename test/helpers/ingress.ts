/**
 * @module test/helpers/ingress
 * For tests of who a trigger lets in and what it stores, not of delivery: an
 * engine with workers off whose flows deliver to a connector `sink` that nothing
 * listens on, a JSON post through `app.inject`, and a count of stored messages.
 *
 * ```ts
 * const engine = await startIngressEngine(t, `
 *   orders:
 *     trigger: { http: { path: /hooks/orders, auth: { apiKeys: [ "\${env:KEY}" ] } } }
 *     steps: [ { deliver: { connector: sink } } ]
 * `, { env: { KEY } });
 * assert.equal((await postJson(engine, '/hooks/orders', { 'x-api-key': KEY })).statusCode, 202);
 * ```
 */
import type { TestContext } from 'node:test';
import type { EngineOptions } from '../../src/engine/engine.ts';
import { startTestEngine, type TestEngine } from './engine.ts';

/**
 * The whole config: SQLite, the connector `sink` (port 9, discard: never reached
 * with workers off), then `flows:` followed by `flows` as given, which starts
 * with a newline as a template literal does.
 */
export function ingressConfig(flows: string): string {
  return `
store: sqlite:./junction.db
connectors:
  sink: { type: rest, baseUrl: "http://127.0.0.1:9" }
flows:${flows}`;
}

/** An engine of {@link ingressConfig}(flows) with its workers off: requests are admitted or refused, and stored. */
export function startIngressEngine(t: TestContext, flows: string, opts: EngineOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<TestEngine> {
  return startTestEngine(t, ingressConfig(flows), { workers: false, ...opts });
}

/** POSTs `{"id":1}` as JSON with `headers`, from `remoteAddress` when given. */
export function postJson(engine: TestEngine, url: string, headers: Record<string, string> = {}, remoteAddress?: string) {
  return engine.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: { id: 1 },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
}

/** Messages stored in any state. */
export async function storedCount(engine: TestEngine): Promise<number> {
  const s = await engine.store.stats();
  return s.queued + s.running + s.done + s.dead;
}
