/**
 * @module bench/targets/junction
 * Runs one Junction engine in a child process, the way `junction run` does:
 * `loadConfig` then `startEngine`, on a free port. Prints `READY <url>` once it
 * listens, and stops the engine (drain, close the store) on SIGTERM or when the
 * parent goes away.
 *
 * `node bench/targets/junction.ts --config FILE [--workers false] [--measure-dir DIR]`
 *
 * `--measure-dir` turns on bench/lib/instrument.ts (CPU profile and SQL
 * statement times of a phase the parent marks with signals).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.ts';
import { startEngine } from '../../src/engine/engine.ts';
import { announce, exitWithParent } from '../lib/child.ts';
import { instrument } from '../lib/instrument.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    workers: { type: 'string', default: 'true' },
    'measure-dir': { type: 'string' },
  },
});
if (!values.config) throw new Error('--config FILE is required');
if (values['measure-dir'] !== undefined) instrument(values['measure-dir']);

const loaded = await loadConfig(values.config);
const engine = await startEngine(loaded, { port: 0, workers: values.workers !== 'false' });
exitWithParent(() => engine.stop(), 15_000);
announce(engine.url);
