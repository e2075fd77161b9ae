/**
 * Junction as a package, the way a user gets it: `npm pack`, the tarball
 * installed offline into an empty project, then `npx junction init`, `check`
 * and `run` there, on the Node that runs this test, and a posted message
 * delivered to a sink on loopback.
 *
 * The repository is copied first (its sources, not node_modules), because
 * packing rewrites package.json and builds dist/ for the time of the pack, and
 * the tests running beside this one read the repository's.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/engine.ts';
import { until } from '../helpers/example.ts';
import { descendants, killAll, running } from '../helpers/process-tree.ts';
import { startTestSink } from '../helpers/sink.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  license: string;
  files: string[];
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}
interface Lockfile {
  packages: Record<string, Record<string, unknown>>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

// npm and the bin's `#!/usr/bin/env node` find this Node first, whatever the system's is; and never the network.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

function run(cmd: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd, env: { ...env, ...extra } }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: err }));
      else done({ stdout, stderr });
    });
  });
}

/** What the build reads and the package ships, without node_modules (linked) or anything built. */
function copySources(to: string): void {
  const wanted = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'README.md', ...manifest.files];
  for (const entry of new Set(wanted.map((f) => f.replace(/\/$/, '')))) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(to, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

/**
 * An empty project that depends on the tarball, with a lockfile taken from the
 * repository's: `npm ci` filled the cache with those exact tarballs but not with
 * the registry's metadata, so an install without a lockfile could not resolve
 * a range offline.
 */
function writeApp(dir: string, tarball: string): void {
  const spec = `file:${tarball}`;
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const packages: Lockfile['packages'] = {
    '': { name: 'app', dependencies: { [manifest.name]: spec } },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved: spec,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev === true) continue;
    const { devOptional: _, ...runtime } = entry;
    packages[path] = runtime;
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { [manifest.name]: spec } }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2));
}

async function startRun(t: TestContext, app: string, extra: NodeJS.ProcessEnv) {
  const npx = spawn('npx', ['junction', 'run', '--port', '0'], { cwd: app, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npx.stdout.on('data', (c: Buffer) => (out += c.toString()));
  npx.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let tree: number[] = [];
  t.after(() => killAll([npx.pid!, ...tree]));
  const url = await until(async () => /"url":"(http:\/\/[^"]+)".*"msg":"junction is running"/.exec(out)?.[1], `npx junction run to start:\n${out}`, 30_000);
  tree = descendants(npx.pid!);
  return { npx, url, tree, output: () => out };
}

it('installs from its tarball offline, and its command inits, checks and runs a project', { timeout: 180_000 }, async (t) => {
  const tmp = tempDir(t, 'junction-pack-');
  const sources = join(tmp, 'sources');
  const app = join(tmp, 'app');
  copySources(sources);

  await t.test('npm pack builds the JavaScript, its declarations and the JSON Schema into the tarball', async () => {
    await run('npm', ['pack', '--pack-destination', tmp], sources);
    const tarballs = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    assert.deepEqual(tarballs, [`${manifest.name}-${manifest.version}.tgz`]);
    // The copy's package.json is its own again once packed.
    assert.equal(readFileSync(join(sources, 'package.json'), 'utf8'), readFileSync(join(ROOT, 'package.json'), 'utf8'));
  });

  await t.test('the tarball installs offline into an empty project', async () => {
    mkdirSync(app);
    writeApp(app, resolve(tmp, `${manifest.name}-${manifest.version}.tgz`));
    await run('npm', ['install', '--offline'], app);
    const installed = join(app, 'node_modules', manifest.name);
    const published = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: unknown; engines: unknown };
    assert.deepEqual(published.exports, { '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
    assert.deepEqual(published.engines, manifest.engines);
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/store/migrations/sqlite/0001_init.sql', 'dist/ui/index.html', 'dist/ui/app.js', 'schema/junction.schema.json']) {
      assert.ok(existsSync(join(installed, file)), `${file} is in the package`);
    }
    assert.ok(!existsSync(join(installed, 'src')), 'the TypeScript sources stay out of the package');
  });

  await t.test('the package imports by its name, with the public API', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `import * as j from '${manifest.name}'; console.log(typeof j.startEngine, typeof j.createConnector)`], app);
    assert.equal(stdout.trim(), 'function function');
  });

  await t.test('npx junction init writes a project whose schema line resolves into the package', async () => {
    const { stdout } = await run('npx', ['junction', 'init'], app);
    assert.match(stdout, /wrote junction\.yaml/);
    const modeline = readFileSync(join(app, 'junction.yaml'), 'utf8').split('\n')[0]!;
    assert.equal(modeline, `# yaml-language-server: $schema=./node_modules/${manifest.name}/schema/junction.schema.json`);
    const schema = JSON.parse(readFileSync(join(app, 'node_modules', manifest.name, 'schema', 'junction.schema.json'), 'utf8')) as { properties: object };
    assert.ok('flows' in schema.properties);
  });

  await t.test('npx junction check passes on it', async () => {
    const { stdout } = await run('npx', ['junction', 'check'], app);
    assert.match(stdout, /junction\.yaml: OK \(1 flow, 1 connector\)/);
  });

  await t.test('npx junction run delivers a posted message, and stops when npx is sent SIGTERM', async (t) => {
    const sink = await startTestSink(t);
    const junction = await startRun(t, app, { TARGET_URL: sink.url });
    const res = await fetch(`${junction.url}/hooks/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'order-A-1' },
      body: JSON.stringify({ id: 'A-1' }),
    });
    assert.equal(res.status, 202);
    await sink.waitFor((s) => s.received().get('order-A-1') === 1, 15_000);
    assert.deepEqual(JSON.parse(sink.requests[0]!.body), { id: 'A-1' });
    assert.equal(sink.requests[0]!.url, '/orders');
    // The dashboard, and the browser builds it loads from the installed dependencies.
    for (const path of ['/ui', '/ui/app.js', '/ui/vendor/preact.mjs', '/ui/vendor/htm.mjs', '/ui/vendor/uplot.mjs', '/ui/vendor/uplot.css']) {
      const ui = await fetch(`${junction.url}${path}`);
      assert.equal(ui.status, 200, path);
      assert.ok((await ui.text()).length > 0, path);
    }

    // npx runs `sh -c "junction run"`; the shell dies of the SIGTERM, and junction, left without its parent, drains.
    junction.npx.kill('SIGTERM');
    const all = [junction.npx.pid!, ...junction.tree];
    await until(async () => (all.some(running) ? undefined : true), `npx and junction to end:\n${junction.output()}`, 20_000);
    assert.match(junction.output(), /"msg":"junction stopped"/);
    await assert.rejects(fetch(`${junction.url}/healthz`));
  });
});
