/**
 * @module bench/lib/junction
 * Starts a Junction engine as a benchmark child: this checkout's
 * bench/targets/junction.ts, or an older commit's (bench/lib/revision.ts), with
 * the same arguments. A profiled child also gets bench/lib/instrument-thread.ts
 * preloaded, so that the store's worker thread (when the commit has one) is
 * measured with the main thread; in a commit whose store runs on the main
 * thread the preload does nothing.
 */
import { fileURLToPath } from 'node:url';
import { spawnChild, type ChildServer } from './child.ts';
import type { Revision } from './revision.ts';

const CURRENT = fileURLToPath(new URL('../targets/junction.ts', import.meta.url));
const THREAD_PRELOAD = fileURLToPath(new URL('./instrument-thread.ts', import.meta.url));

/** One Junction build the benchmark measures. */
export interface JunctionBuild {
  /** Row name: `junction`, or `junction-before`. */
  name: string;
  /** Its bench/targets/junction.ts. */
  script: string;
  /** For the report: "this checkout" or the commit. */
  label: string;
}

/** This checkout, then the commit of `--before` when given. */
export function junctionBuilds(before: Revision | undefined): JunctionBuild[] {
  const builds: JunctionBuild[] = [{ name: 'junction', script: CURRENT, label: 'this checkout' }];
  if (before) builds.push({ name: 'junction-before', script: before.junctionTarget, label: `commit ${before.short}` });
  return builds;
}

/**
 * `--measure-dir dir` turns the profile on, with the thread preload.
 * @param nodeOptions NODE_OPTIONS for this child only (heap settings)
 */
export function spawnJunction(build: JunctionBuild, config: string, args: readonly string[] = [], measureDir?: string, nodeOptions = ''): Promise<ChildServer> {
  return spawnChild({
    ...(nodeOptions === '' ? {} : { env: { NODE_OPTIONS: nodeOptions } }),
    name: build.name,
    script: build.script,
    args: ['--config', config, ...args, ...(measureDir === undefined ? [] : ['--measure-dir', measureDir])],
    ...(measureDir === undefined ? {} : { nodeArgs: ['--import', THREAD_PRELOAD] }),
  });
}
