/**
 * @module scripts/publish-manifest
 * `node scripts/publish-manifest.ts apply|restore`, run by `prepack` and
 * `postpack`. In the repository `exports` names src/index.ts, so that code here
 * (examples, test fixtures) imports 'junction-engine' from the sources without a
 * build; an installed package must name the built dist/ instead, with its
 * types. `apply` swaps the published entry in for the time of the pack (npm
 * puts package.json in the tarball as it is on disk), `restore` puts the
 * repository's back. A pack cut short leaves package.json.repo behind:
 * `restore` (or the next `apply`) takes care of it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MANIFEST = fileURLToPath(new URL('../package.json', import.meta.url));
const SAVED = `${MANIFEST}.repo`;
const PUBLISHED_EXPORTS = { '.': { types: './dist/index.d.ts', default: './dist/index.js' } };

function restore(): void {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST);
}

function apply(): void {
  restore();
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text) as Record<string, unknown>;
  writeFileSync(SAVED, text);
  // Written beside and renamed over, so that nothing ever reads half a package.json.
  writeFileSync(`${MANIFEST}.tmp`, `${JSON.stringify({ ...manifest, exports: PUBLISHED_EXPORTS }, null, 2)}\n`);
  renameSync(`${MANIFEST}.tmp`, MANIFEST);
}

const action = process.argv[2];
if (action === 'apply') apply();
else if (action === 'restore') restore();
else {
  console.error('usage: node scripts/publish-manifest.ts apply|restore');
  process.exit(2);
}
