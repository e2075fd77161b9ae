/**
 * Defect 10: a signal to the `npm start` process stops everything it started.
 * npm runs a script as `sh -c "…"` and forwards SIGTERM and SIGINT to that shell
 * only; the signal must reach Junction, which drains and exits, and no process
 * of the tree may be left running under init.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/engine.ts';
import { until } from '../helpers/example.ts';
import { descendants, killAll, running } from '../helpers/process-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`${signal} to the npm start process`, () => {
    it('stops the demo CRM and Junction, and leaves no process of the tree running', { timeout: 60_000 }, async (t) => {
      const db = join(tempDir(t), 'junction.db');
      // npm itself on this Node, as `npm start` from a shell whose PATH finds the pinned Node first.
      const npm = spawn('npm', ['start'], {
        cwd: ROOT,
        env: { ...process.env, PORT: '0', CRM_PORT: '0', QUICKSTART_DB: db, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      npm.stdout.on('data', (c: Buffer) => (out += c.toString()));
      npm.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | string>((resolve) => npm.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
      let tree: number[] = [];
      t.after(() => {
        killAll([npm.pid!, ...tree]);
      });

      const [junctionUrl, crmUrl] = await until(async () => {
        const urls = ['Junction', 'Demo CRM'].map((label) => new RegExp(`${label}: +(http://\\S+)`).exec(out)?.[1]);
        return urls.every((u) => u !== undefined) ? (urls as string[]) : undefined;
      }, 'npm start to print its URLs', 30_000);
      assert.equal((await fetch(`${junctionUrl}/healthz`)).status, 200);
      tree = descendants(npm.pid!);
      assert.ok(tree.length > 0, 'npm start started something');

      npm.kill(signal);
      const all = [npm.pid!, ...tree];
      await until(async () => (all.some(running) ? undefined : true), `npm and every process it started to end:\n${out}`, 20_000);
      for (const url of [junctionUrl!, crmUrl!]) await assert.rejects(fetch(`${url}/healthz`), `${url} still answers`);
      // It drained rather than died: the engine said so, and the script ended with 0.
      assert.match(out, /"msg":"junction stopped"/, out);
      assert.equal(await exited, 0);
    });
  });
}
