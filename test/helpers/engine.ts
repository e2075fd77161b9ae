/**
 * @module test/helpers/engine
 * Starts a whole Junction (store, worker, HTTP server) from a YAML snippet in a
 * temp directory, on a free port, and stops it when the test ends.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { subscribe, type JunctionEvents } from '../../src/observability/channels.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startEngine, type Engine, type EngineOptions } from '../../src/engine/engine.ts';

export interface TestEngine extends Engine {
  readonly dir: string;
  readonly configFile: string;
  /** This engine's `junction:message:settled` events, in order. */
  readonly settled: JunctionEvents['message:settled'][];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }>;
  /** Resolves when `check` holds, polling the store; rejects after timeoutMs. */
  until(check: () => Promise<boolean> | boolean, timeoutMs?: number): Promise<void>;
}

export function tempDir(t: TestContext, prefix = 'junction-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `yaml` to junction.yaml in a temp dir of its own, removed when the test ends. */
export function writeTestConfig(t: TestContext, yaml: string): { dir: string; configFile: string } {
  const dir = tempDir(t);
  const configFile = join(dir, 'junction.yaml');
  writeFileSync(configFile, yaml);
  return { dir, configFile };
}

/** Resolves when `check` holds, asking every `everyMs`; rejects after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startTestEngine(t: TestContext, yaml: string, opts: EngineOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<TestEngine> {
  const { dir, configFile } = writeTestConfig(t, yaml);
  // Listening before the engine starts, so that nothing it settles at once is missed; kept are this engine's own.
  const all: JunctionEvents['message:settled'][] = [];
  const unsubscribe = subscribe('message:settled', (e) => all.push(e));
  t.after(unsubscribe);
  const loaded = await loadConfig(configFile, opts.env ? { env: opts.env } : {});
  const engine = await startEngine(loaded, { logger: silentLogger, port: 0, ...opts });
  t.after(() => engine.stop());
  return {
    ...engine,
    stop: () => engine.stop(),
    dir,
    configFile,
    get settled() {
      return all.filter((e) => e.worker === engine.worker.id);
    },
    async post(path, body, headers = {}) {
      const res = await fetch(engine.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
    },
    until: (check, timeoutMs = 10_000) => until(check, timeoutMs, 20),
  };
}
