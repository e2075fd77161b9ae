/**
 * The dashboard's files at /ui: served without a token (the page asks for it),
 * the browser builds of preact, htm and uPlot from the installed packages, and
 * a Content-Security-Policy that lets only this origin's scripts and the page's
 * own import map run.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerUiRoutes } from '../../src/server/plugins/ui.ts';
import { startTestEngine } from '../helpers/engine.ts';

function app() {
  const a = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
  registerUiRoutes(a);
  return a;
}

describe('dashboard files', () => {
  it('serves the page and its modules without a token, with their content types', async () => {
    const a = app();
    for (const [url, type] of [
      ['/ui', /^text\/html/],
      ['/ui/', /^text\/html/],
      ['/ui/app.js', /^text\/javascript/],
      ['/ui/style.css', /^text\/css/],
      ['/ui/vendor/preact.mjs', /^text\/javascript/],
      ['/ui/vendor/preact-hooks.mjs', /^text\/javascript/],
      ['/ui/vendor/htm.mjs', /^text\/javascript/],
      ['/ui/vendor/uplot.mjs', /^text\/javascript/],
      ['/ui/vendor/uplot.css', /^text\/css/],
    ] as const) {
      const res = await a.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), type, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('serves the ES module builds of the vendored packages, not their CommonJS ones', async () => {
    const a = app();
    const htm = (await a.inject({ url: '/ui/vendor/htm.mjs' })).body;
    assert.match(htm, /export\s*\{|export default/);
    assert.doesNotMatch(htm, /module\.exports/);
    const uplot = (await a.inject({ url: '/ui/vendor/uplot.mjs' })).body;
    assert.match(uplot, /export\s*\{[^}]*default|export default/);
  });

  it("lets only this origin's scripts and the page's import map run (CSP with the map's hash)", async () => {
    const res = await app().inject({ url: '/ui' });
    const csp = String(res.headers['content-security-policy']);
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(res.body)?.[1];
    assert.ok(map, 'the page has an import map');
    const hash = createHash('sha256').update(map).digest('base64');
    assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'(;|$)`));
    assert.match(csp, /frame-ancestors 'none'/);
    // Every module the map names is served.
    const a = app();
    for (const url of Object.values((JSON.parse(map) as { imports: Record<string, string> }).imports)) {
      assert.equal((await a.inject({ url })).statusCode, 200, url);
    }
  });

  it('serves only the files of src/ui and the vendored ones: anything else under /ui is a 404 problem', async (t) => {
    const engine = await startTestEngine(t, `
server: { adminToken: "secret-admin-token-1" }
flows:
  f: { trigger: { http: { path: /hooks/f } }, steps: [ { filter: "true" } ] }
`);
    for (const url of ['/ui/nope.js', '/ui/vendor/react.mjs', '/ui/../package.json', '/ui/vendor/../../package.json']) {
      const res = await engine.app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
    }
    const page = await engine.app.inject({ url: '/ui' });
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes('secret-admin-token-1'), 'the page does not carry the token');
    assert.equal(page.body, readFileSync(new URL('../../src/ui/index.html', import.meta.url), 'utf8'));
  });
});
