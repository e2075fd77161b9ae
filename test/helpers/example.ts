/**
 * @module test/helpers/example
 * Starts an example's own start script as a child process, as a reader of its
 * README would, and reads the URLs it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export interface RunningExample {
  readonly child: ChildProcess;
  /** One URL per label asked for, in the same order. */
  readonly urls: string[];
  output(): string;
  readonly exited: Promise<number | null>;
}

/** Polls `fn` until it yields something other than undefined. */
export async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * @param script path of the start script, relative to the repository root
 * @param labels the words before each URL in its banner, e.g. `['Junction', 'Demo CRM']`
 */
export async function startExample(t: TestContext, script: string, env: NodeJS.ProcessEnv, labels: string[]): Promise<RunningExample> {
  const path = fileURLToPath(new URL(`../../${script}`, import.meta.url));
  const child = spawn(process.execPath, [path], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  t.after(() => child.kill('SIGKILL'));
  // A loaded machine (CI with two test files at once) can take a while to start a process; one that exits is reported at once.
  const urls = await until(async () => {
    if (gone) throw new Error(`${script} exited before it started:\n${out}`);
    const found = labels.map((label) => new RegExp(`${label}: +(http://\\S+)`).exec(out)?.[1]);
    return found.every((u) => u !== undefined) ? (found as string[]) : undefined;
  }, `${script} to start`, 60_000).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; its output so far:\n${out}`, { cause: e });
  });
  return { child, urls, output: () => out, exited };
}
