/**
 * @module server/plugins/ui
 * The web dashboard at `/ui`: static files from `src/ui/` (`dist/ui/` in the
 * package) and the browser builds of preact, htm and uPlot from the installed
 * packages, under `/ui/vendor/`. No CDN and no build step: the page's modules
 * load as they are, wired by an import map in index.html.
 *
 * The page itself needs no token; it asks for the admin token and sends it on
 * every call to `/admin` as `Authorization: Bearer …`, keeping it in the tab's
 * sessionStorage, never in a URL. Answers carry a Content-Security-Policy that
 * allows scripts from this origin only (and the import map, by its hash).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const UI_PREFIX = '/ui';

/** Beside this module in src/ and in dist/ alike (scripts/build.ts copies src/ui). */
const UI_DIR = new URL('../../ui/', import.meta.url);

/** Content types of the page's own files, by extension; any other file in src/ui is not served. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Served under /ui/vendor/: the browser (ES module) builds, resolved through each package's own exports. */
const VENDOR: Readonly<Record<string, { specifier: string; type: string }>> = {
  'preact.mjs': { specifier: 'preact', type: 'text/javascript; charset=utf-8' },
  'preact-hooks.mjs': { specifier: 'preact/hooks', type: 'text/javascript; charset=utf-8' },
  'htm.mjs': { specifier: 'htm', type: 'text/javascript; charset=utf-8' },
  // uPlot has no "exports": its ES build is named by path.
  'uplot.mjs': { specifier: 'uplot/dist/uPlot.esm.js', type: 'text/javascript; charset=utf-8' },
  'uplot.css': { specifier: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

interface Asset {
  body: Buffer;
  type: string;
}

/** The hash source of each inline script (the import map), for the CSP. */
function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`);
}

function loadAssets(): { assets: Map<string, Asset>; csp: string } {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(UI_DIR)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) assets.set(name, { body: readFileSync(new URL(name, UI_DIR)), type });
  }
  for (const [name, { specifier, type }] of Object.entries(VENDOR)) {
    // import.meta.resolve takes the "import" condition: htm's ES module rather than its CommonJS build.
    assets.set(`vendor/${name}`, { body: readFileSync(fileURLToPath(import.meta.resolve(specifier))), type });
  }
  const html = assets.get('index.html')!.body.toString('utf8');
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${inlineScriptHashes(html).join(' ')}`,
    // uPlot sizes its canvas and legend with inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return { assets, csp };
}

export function registerUiRoutes(app: FastifyInstance): void {
  const { assets, csp } = loadAssets();
  const send = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    const asset = assets.get(name)!;
    return reply
      .header('content-type', asset.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', csp)
      .send(asset.body);
  };
  // /ui and /ui/ alike (the app ignores trailing slashes); the page names its files by absolute path.
  app.get(UI_PREFIX, send('index.html'));
  for (const name of assets.keys()) app.get(`${UI_PREFIX}/${name}`, send(name));
}
