#!/usr/bin/env node
// The `junction` command. In the repository it runs the TypeScript sources as
// they are (Node >= 22.18 strips types; npm scripts and npx use the pinned Node
// 24). An installed package has no src/, only the JavaScript built into dist/,
// because Node does not strip types under node_modules.
import { existsSync } from 'node:fs';

const entry = existsSync(new URL('../src/cli/main.ts', import.meta.url)) ? '../src/cli/main.ts' : '../dist/cli/main.js';

// `npx junction run` starts `sh -c "junction run"`: a SIGTERM to npx ends the shell
// and leaves this process running under init. A parent that is gone is taken as
// SIGTERM, so `run` drains and exits as it would have.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.kill(process.pid, 'SIGTERM');
}, 500);
watch.unref();

const { main } = await import(entry);
const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
