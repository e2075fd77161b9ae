#!/usr/bin/env node
// Runs on Node >= 22.18 (TypeScript type stripping); npm scripts and npx use the pinned Node 24.
import { main } from '../src/cli/main.ts';

const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
