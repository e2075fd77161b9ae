/**
 * @module bench/lib/revision
 * Junction at another commit, as an extra target of the same run
 * (`bench/run.ts --before <commit>`): the commit is checked out with
 * `git worktree add --detach` into a temp dir, `node_modules` of this checkout
 * is linked into it, and its own `bench/targets/junction.ts` is started
 * exactly as the current one is (same arguments, same config, same sink and
 * baselines). The worktree is removed afterwards, whatever happens (also on
 * SIGINT, and on exit if a run throws).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout's root (the parent of bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Revision {
  /** The commit as `abc1234 subject`. */
  label: string;
  /** The short hash. */
  short: string;
  /** Its bench/targets/junction.ts, an absolute path. */
  junctionTarget: string;
}

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const live = new Set<string>();
let hooked = false;

function removeWorktree(dir: string): void {
  // The link first, by itself, so that nothing below can reach through it into this checkout's node_modules.
  rmSync(join(dir, 'node_modules'), { force: true });
  try {
    git(REPO_ROOT, 'worktree', 'remove', '--force', dir);
  } catch {
    // Not registered (add failed half-way), or already gone: remove what is left and forget it.
    rmSync(dir, { recursive: true, force: true });
    try {
      git(REPO_ROOT, 'worktree', 'prune');
    } catch {
      // Nothing more to do.
    }
  }
  live.delete(dir);
}

/** Runs `fn` with `commit` checked out in a temp worktree, removed afterwards. */
export async function withRevision<T>(commit: string, fn: (rev: Revision) => Promise<T>): Promise<T> {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => [...live].forEach(removeWorktree));
  }
  const short = git(REPO_ROOT, 'rev-parse', '--short', `${commit}^{commit}`);
  const label = git(REPO_ROOT, 'log', '-1', '--format=%h %s', short);
  const dir = join(mkdtempSync(join(tmpdir(), 'junction-bench-before-')), short);
  live.add(dir);
  try {
    git(REPO_ROOT, 'worktree', 'add', '--detach', dir, short);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const junctionTarget = join(dir, 'bench', 'targets', 'junction.ts');
    if (!existsSync(junctionTarget)) throw new Error(`${label} has no bench/targets/junction.ts`);
    return await fn({ label, short, junctionTarget });
  } finally {
    removeWorktree(dir);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}
