/**
 * @module bench/lib/child
 * Runs a benchmark server (Junction, a bare baseline, the sink) as a child node
 * process. The child prints one `READY <url>` line once it listens; everything
 * else it prints is kept for error messages.
 *
 * Children never outlive the benchmark: each is killed when the parent exits
 * (normally, by an uncaught error or by SIGINT/SIGTERM), and each child also
 * exits by itself when its stdin closes, which covers a parent killed with
 * SIGKILL (see {@link exitWithParent}).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  readonly name: string;
  readonly child: ChildProcess;
  /** The URL from the READY line, e.g. http://127.0.0.1:43121. */
  readonly url: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first line printed from now on that matches `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** Shown in errors. */
  name: string;
  /** Module to run, an absolute path. */
  script: string;
  args?: readonly string[];
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/** Kills every child still running when the parent goes away, whatever the reason. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

const READY = /^READY (\S+)$/m;

/** Starts `script` and resolves once it printed its READY line; rejects (and kills it) if it does not. */
export async function spawnChild(opts: SpawnOptions): Promise<ChildServer> {
  hookExit();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    // stdin stays open as a lifeline: the child exits when it closes.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const keep = (c: Buffer): void => {
    // Enough to explain a failure; a chatty child must not grow the parent's memory.
    out = (out + c.toString()).slice(-64 * 1024);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });

  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${opts.name} did not print READY within ${opts.startTimeoutMs ?? 20_000}ms:\n${out}`)), opts.startTimeoutMs ?? 20_000);
      const look = (): void => {
        const m = READY.exec(out);
        if (!m) return;
        clearTimeout(timer);
        child.stdout.off('data', look);
        resolve(m[1]!);
      };
      child.stdout.on('data', look);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${opts.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${out}`));
      });
    });
    const waitForLine = (re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
      new Promise((resolve, reject) => {
        let pending = '';
        const look = (c: Buffer): void => {
          pending += c.toString();
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            const m = re.exec(line);
            if (!m) continue;
            done();
            resolve(m);
            return;
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${opts.name} printed no line matching ${re} within ${timeoutMs}ms:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          child.stdout.off('data', look);
        };
        child.stdout.on('data', look);
      });
    return { name: opts.name, child, url, output: () => out, waitForLine, stop };
  } catch (e) {
    await stop(1000);
    throw e;
  }
}

/**
 * Call in a child entry: exits when the parent's end of stdin closes, so a
 * parent killed with SIGKILL leaves no server behind. `onExit` may close things
 * first (bounded by `graceMs`).
 */
export function exitWithParent(onExit: () => Promise<void> = async () => {}, graceMs = 5000): void {
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), graceMs).unref();
    onExit().then(
      () => process.exit(code),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.stdin.on('end', () => leave(0));
  process.stdin.on('error', () => leave(0));
  process.stdin.resume();
  process.once('SIGTERM', () => leave(0));
  process.once('SIGINT', () => leave(0));
}

/** Prints the line {@link spawnChild} waits for. */
export function announce(url: string): void {
  process.stdout.write(`READY ${url}\n`);
}
