/**
 * @module test/helpers/process-tree
 * The processes a child started, read from /proc (Linux), so that a test can
 * check that none of them outlives it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Every live descendant of `pid`, from /proc (Linux). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name, in parentheses, may hold spaces: the fields after its closing one are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const visit = (p: number): void => {
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** A zombie has ended; only its parent has not collected it yet. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Kills with SIGKILL whichever of `pids` still runs: the cleanup of a test that failed midway. */
export function killAll(pids: number[]): void {
  for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
}
