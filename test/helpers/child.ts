/**
 * @module test/helpers/child
 * Runs `junction run` as a child process, the way an operator would, and reads
 * the URL it listens on from its JSON log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface JunctionProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

export async function runJunction(configFile: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<JunctionProcess> {
  const child = spawn(process.execPath, [CLI, 'run', '-c', configFile, '--port', '0'], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A process that never said it runs is not left behind to hold the test runner open.
      child.kill('SIGKILL');
      reject(new Error(`junction did not start (its log must be at level info or below to say so):\n${out}`));
    }, opts.timeoutMs ?? 15_000);
    const look = (): void => {
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"junction is running"/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', look);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`junction exited with ${code} before it started:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}

/**
 * Peak resident memory of a live process so far (`VmHWM` in /proc/PID/status), in
 * bytes; undefined where there is no /proc (not Linux) or the process is gone.
 * Unlike a heap cap, it counts Buffers and native memory too.
 */
export function peakRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}
