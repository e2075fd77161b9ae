/**
 * @module cli/commands/init
 * `junction init [dir]`: a starter project — junction.yaml (with the editor's
 * schema line), `.env.example` and a README — that `junction check` passes and
 * `junction run` starts. It never overwrites a file unless told `--force`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { errors } from '../../core/errors.ts';

// Both sit at the package root, three levels above this module in src/ and in dist/ alike.
const TEMPLATES = new URL('../../../templates/init/', import.meta.url);
const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/junction.schema.json', import.meta.url));

/** File written → its template, stored without a leading dot: npm leaves some dotfiles (.gitignore, .npmrc) out of a package. */
const FILES = { 'junction.yaml': 'junction.yaml', '.env.example': 'env.example', 'README.md': 'README.md' } as const;

/**
 * The modeline the YAML language server reads. The path is relative to the project,
 * so it resolves wherever the project moves with its node_modules.
 */
export function schemaModeline(dir: string): string {
  const path = relative(dir, SCHEMA_FILE).split(sep).join('/');
  return `# yaml-language-server: $schema=${path.startsWith('.') ? path : `./${path}`}\n`;
}

/** Writes the starter files into `dir` (created if needed); returns the paths written. */
export function initProject(dir: string, opts: { force?: boolean } = {}): string[] {
  const target = resolve(dir);
  const names = Object.keys(FILES) as (keyof typeof FILES)[];
  const existing = names.filter((name) => existsSync(join(target, name)));
  if (existing.length > 0 && !opts.force) throw errors.INIT_EXISTS.create([existing.join(', '), target]);
  mkdirSync(target, { recursive: true });
  return names.map((name) => {
    let text = readFileSync(new URL(FILES[name], TEMPLATES), 'utf8');
    if (name === 'junction.yaml') text = schemaModeline(target) + text;
    const path = join(target, name);
    writeFileSync(path, text);
    return path;
  });
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a starter junction.yaml, .env.example and README.md')
    .argument('[dir]', 'project directory', '.')
    .option('-f, --force', 'replace files that already exist')
    .action((dir: string, opts: { force?: boolean }) => {
      const shown = (path: string): string => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));
      for (const path of initProject(dir, opts)) process.stdout.write(`wrote ${shown(path)}\n`);
      const cd = resolve(dir) === process.cwd() ? '' : `cd ${shown(resolve(dir))} && `;
      process.stdout.write(`next: ${cd}npx junction check && npx junction run\n`);
    });
}
