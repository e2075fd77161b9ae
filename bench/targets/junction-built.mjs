/**
 * @module bench/targets/junction-built
 * bench/targets/junction.ts for the built package: loads `loadConfig` and
 * `startEngine` from dist/ (`npm run build`), as an installed Junction runs,
 * and is plain JavaScript itself, so that no TypeScript is stripped in the
 * process. Node's type stripping keeps about 35 MB resident (measured idle:
 * 167 MB from src/, 132 MB from dist/, with the backlog's heap flags), which
 * would otherwise count against a memory bound that users of the package
 * never pay.
 *
 * `node bench/targets/junction-built.mjs --config FILE`: prints `READY <url>`,
 * stops the engine when stdin ends or on SIGTERM.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { config: { type: 'string' } } });
if (!values.config) throw new Error('--config FILE is required');
const { loadConfig } = await import('../../dist/config/load.js');
const { startEngine } = await import('../../dist/engine/engine.js');

const engine = await startEngine(await loadConfig(values.config), { port: 0 });
let leaving = false;
const leave = () => {
  if (leaving) return;
  leaving = true;
  setTimeout(() => process.exit(0), 15_000).unref();
  engine.stop().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
};
process.stdin.on('end', leave);
process.stdin.on('error', leave);
process.stdin.resume();
process.once('SIGTERM', leave);
process.once('SIGINT', leave);
process.stdout.write(`READY ${engine.url}\n`);
