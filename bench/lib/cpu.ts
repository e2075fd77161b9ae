/**
 * @module bench/lib/cpu
 * CPU time a process has used, all its threads together (user + system, from
 * /proc/<pid>/stat). On a machine where the servers and the load generator
 * share the cores, the rate a server reaches depends on what the others leave
 * it; the CPU it spends per message does not, and says what it would do with
 * a core to itself.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Milliseconds of CPU `pid` has used so far; undefined where /proc cannot tell (not Linux, gone). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Starts counting `pid`'s CPU; the function returned gives µs per unit of work since. */
export function cpuMeter(pid: number | undefined): (units: number) => number {
  const start = processCpuMs(pid);
  return (units) => {
    const end = processCpuMs(pid);
    return start === undefined || end === undefined || units <= 0 ? Number.NaN : ((end - start) * 1000) / units;
  };
}
