/**
 * @module scripts/build
 * `npm run build` (and `prepack`): the JavaScript and declarations under dist/,
 * the files the runtime reads beside its modules, and the JSON Schema editors
 * use for junction.yaml. In the repository everything runs from src/ as it is;
 * dist/ is only what an installed package runs, since Node does not strip types
 * under node_modules.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.ts';

const rootUrl = new URL('../', import.meta.url);
const root = fileURLToPath(rootUrl);
const at = (path: string): string => fileURLToPath(new URL(path, rootUrl));

rmSync(at('dist'), { recursive: true, force: true });
rmSync(at('schema'), { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

// Read at run time through `new URL(…, import.meta.url)`, so they sit at the same place relative to the module.
cpSync(at('src/store/migrations'), at('dist/store/migrations'), { recursive: true });
// The dashboard's static files: plain JavaScript modules, CSS and HTML, served as they are (server/plugins/ui.ts).
cpSync(at('src/ui'), at('dist/ui'), { recursive: true });

mkdirSync(at('schema'));
writeFileSync(at('schema/junction.schema.json'), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
