/**
 * @module core/version
 * The package version, for `--version` and the outbound User-Agent.
 */
import { readFileSync } from 'node:fs';

// Read rather than imported: package.json sits two levels up from both src/core and dist/core,
// and an import would pull it into the compiled tree (tsc's rootDir) as a copy that could drift.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
