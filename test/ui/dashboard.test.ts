/**
 * The dashboard at /ui in a real browser (Debian's chromium, driven by
 * playwright-core) against a real engine and a sink that refuses some orders:
 * the token is asked for and never put in a URL, the overview shows the
 * workload's figures, a dead letter is found by filter, opened, replayed after
 * a confirmation and delivered. Screenshots of each page go to
 * artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestEngine, until, type TestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const TOKEN = 'dash-3b8e61f0-admin-token';
/**
 * Debian's chromium by default. Missing, the tests are skipped with the reason
 * printed, unless JUNCTION_TEST_CHROMIUM names it (as CI does): then they must run.
 */
const CHROMIUM = process.env.JUNCTION_TEST_CHROMIUM || '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) || process.env.JUNCTION_TEST_CHROMIUM ? undefined : `no browser at ${CHROMIUM}; install chromium or set JUNCTION_TEST_CHROMIUM to run the dashboard's browser tests`;
const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));

const config = (sink: Sink) => `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 20 }
connectors:
  crm:
    type: rest
    baseUrl: ${sink.url}
    retry: { maxAttempts: 1 }
    circuitBreaker: { failureRatio: 0.9, minRequests: 50, windowMs: 60000, openMs: 30000 }
    rateLimit: { perSecond: 200, burst: 400 }
    cache: { ttlMs: 60000 }
flows:
  orders-to-crm:
    description: Shop orders, delivered to the CRM
    trigger: { http: { path: /hooks/orders, idempotencyKey: "$headers.'idempotency-key'" } }
    steps:
      - deliver: { connector: crm, request: { method: POST, path: /orders } }
  invoices-to-crm:
    trigger: { http: { path: /hooks/invoices, idempotencyKey: "$headers.'idempotency-key'" } }
    steps:
      - deliver: { connector: crm, request: { method: POST, path: /invoices } }
`;

/** The workload: per flow, how many the sink takes and how many it refuses with 400 (dead letters). */
const WORKLOAD = { 'orders-to-crm': { ok: 6, refused: 2 }, 'invoices-to-crm': { ok: 4, refused: 1 } } as const;

async function runWorkload(engine: TestEngine, sink: Sink): Promise<void> {
  for (const [flow, { ok, refused }] of Object.entries(WORKLOAD)) {
    const path = flow === 'orders-to-crm' ? '/hooks/orders' : '/hooks/invoices';
    for (let i = 0; i < ok + refused; i++) {
      const key = `${flow}-${i}`;
      if (i >= ok) sink.plan(['400'], { key });
      const res = await engine.post(path, { n: i, customer: { email: `buyer${i}@example.com` }, total: 10 + i }, { 'idempotency-key': key });
      assert.equal(res.status, 202);
    }
  }
  await engine.until(async () => {
    for (const [flow, { ok, refused }] of Object.entries(WORKLOAD)) {
      const s = await engine.store.stats(flow);
      if (s.done !== ok || s.dead !== refused) return false;
    }
    return true;
  });
}

describe('dashboard in a browser', { skip: noBrowser }, () => {
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(() => browser?.close());

  /** A fresh page whose every request URL and every URL it shows are recorded. */
  async function openPage(t: TestContext, opts: { expect404?: boolean } = {}): Promise<{ page: Page; urls: string[]; adminCalls: { url: string; authorization: string | undefined }[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const urls: string[] = [];
    const adminCalls: { url: string; authorization: string | undefined }[] = [];
    page.on('request', (r) => {
      urls.push(r.url());
      if (new URL(r.url()).pathname.startsWith('/admin/')) adminCalls.push({ url: r.url(), authorization: r.headers().authorization });
    });
    page.on('framenavigated', (f) => urls.push(f.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      const expected = r.url().includes('/admin/') && (r.status() === 401 || (opts.expect404 === true && r.status() === 404));
      if (r.status() >= 400 && !expected) errors.push(`${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      // A refused token's 401 is logged by the browser as a failed load; it is the case under test.
      if (m.type() === 'error' && !/status of 401/.test(m.text()) && !(opts.expect404 === true && /status of 404/.test(m.text()))) errors.push(m.text());
    });
    t.after(() => assert.deepEqual(errors, [], 'the page logged no errors'));
    return { page, urls, adminCalls };
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.locator('input[name=token]').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('asks for the token, says clearly when it is wrong, and never puts it in a URL', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, config(sink), { env: { ADMIN_TOKEN: TOKEN } });
    const { page, urls, adminCalls } = await openPage(t);

    const res = await page.goto(`${engine.url}/ui`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self' 'sha256-/);
    await page.locator('input[name=token]').waitFor();
    await page.screenshot({ path: `${SHOTS}signin.png` });

    await signIn(page, 'not-the-token');
    const refusal = await page.getByTestId('signin-error').textContent();
    assert.match(refusal ?? '', /admin token was refused/);
    await signIn(page, TOKEN);
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    for (const name of ['Connectors', 'Dead letters', 'Flows']) {
      await page.getByRole('link', { name }).click();
      await page.getByRole('heading', { name }).waitFor();
    }
    // A reload keeps the tab signed in (sessionStorage), still without a token in any URL.
    await page.reload();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();

    assert.ok(adminCalls.length > 0);
    for (const url of [...urls, page.url()]) {
      assert.ok(!url.includes(TOKEN) && !url.includes('not-the-token'), `a token in ${url}`);
    }
    assert.ok(adminCalls.every((c) => c.authorization !== undefined && c.authorization.startsWith('Bearer ')), 'every admin call sends the token as a bearer header');
    // Evaluated in the page (a string: this file is typed for Node, without the DOM's names).
    assert.deepEqual(await page.evaluate('[document.cookie, localStorage.length]'), ['', 0], 'no cookie and nothing in localStorage');
  });

  it('says so when the admin API is off (no server.adminToken)', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, config(sink).replace('server: { adminToken: "${env:ADMIN_TOKEN}" }', ''));
    const { page } = await openPage(t, { expect404: true });
    await page.goto(`${engine.url}/ui`);
    await signIn(page, TOKEN);
    assert.match((await page.getByTestId('signin-error').textContent()) ?? '', /admin API is off on this server: set server\.adminToken/);
  });

  it('shows each flow with the figures of the workload, and each connector with its policies', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, config(sink), { env: { ADMIN_TOKEN: TOKEN } });
    await runWorkload(engine, sink);
    const { page } = await openPage(t);
    await page.goto(`${engine.url}/ui`);
    await signIn(page, TOKEN);

    for (const [flow, { ok, refused }] of Object.entries(WORKLOAD)) {
      const card = page.locator(`[data-flow="${flow}"]`);
      const figure = async (name: string) => (await card.locator(`[data-figure="${name}"] .value`).textContent())?.trim();
      await card.waitFor();
      assert.equal(await figure('done'), String(ok));
      assert.equal(await figure('dead'), String(refused));
      assert.equal(await figure('queued'), '0');
      assert.equal(await figure('ok'), String(ok));
      assert.equal(await figure('rate'), `${(ok / 60).toFixed(2)}/s`);
      assert.equal(await figure('errorRatio'), `${((refused / (ok + refused)) * 100).toFixed(1)}%`);
      assert.match((await figure('p95')) ?? '', /^\d+ ms$/);
      await card.locator('.uplot canvas').first().waitFor();
    }
    await page.screenshot({ path: `${SHOTS}flows.png`, fullPage: true });

    await page.getByRole('link', { name: 'Connectors' }).click();
    const crm = page.locator('[data-connector="crm"]');
    await crm.waitFor();
    assert.equal(await crm.getByTestId('circuit').textContent(), 'closed');
    const calls = WORKLOAD['orders-to-crm'].ok + WORKLOAD['orders-to-crm'].refused + WORKLOAD['invoices-to-crm'].ok + WORKLOAD['invoices-to-crm'].refused;
    assert.match((await crm.getByTestId('calls').textContent()) ?? '', new RegExp(`^${calls} calls`));
    assert.match((await crm.getByTestId('rate-limit').textContent()) ?? '', /\/400 tokens, 200\/s/);
    await crm.getByTestId('purge-cache').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByRole('status').filter({ hasText: 'Purged 0 cached answers of crm' }).waitFor();
    await page.screenshot({ path: `${SHOTS}connectors.png`, fullPage: true });
  });

  it('finds a dead letter by filter, opens it, replays it after a confirmation, and the sink receives it', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, config(sink), { env: { ADMIN_TOKEN: TOKEN } });
    await runWorkload(engine, sink);
    const [target] = await engine.store.deadLetters.list({ flow: 'orders-to-crm', limit: 1 });
    assert.ok(target);
    const targetKey = target.idempotencyKey;
    assert.equal(sink.received().get(targetKey), undefined, 'refused, so not received yet');
    const { page } = await openPage(t);
    await page.goto(`${engine.url}/ui#dead-letters`);
    await signIn(page, TOKEN);

    const total = page.getByTestId('total');
    await total.filter({ hasText: '3 matching' }).waitFor();
    await page.locator('select[name=flow]').selectOption('orders-to-crm');
    await page.locator('input[name=code]').fill(target.errorCode);
    await page.getByRole('button', { name: 'Apply' }).click();
    await total.filter({ hasText: `2 matching (flow orders-to-crm, code ${target.errorCode})` }).waitFor();
    const rows = page.locator('[data-testid=dead-letters] tbody tr[data-id]');
    assert.equal(await rows.count(), 2);
    // A filter that matches nothing says so.
    await page.locator('input[name=code]').fill('JNC_NO_SUCH_CODE');
    await page.getByRole('button', { name: 'Apply' }).click();
    await total.filter({ hasText: '0 matching' }).waitFor();
    await page.locator('input[name=code]').fill(target.errorCode);
    await page.getByRole('button', { name: 'Apply' }).click();
    await total.filter({ hasText: '2 matching' }).waitFor();
    await page.screenshot({ path: `${SHOTS}dead-letters.png`, fullPage: true });

    await page.locator(`tr[data-id="${target.id}"]`).getByTestId('open').click();
    const panel = page.getByTestId('dead-letter');
    await panel.getByTestId('history').locator('tbody tr').first().waitFor();
    assert.equal(await panel.getByTestId('history').locator('tbody tr').count(), 1);
    // Each attempt shows the Idempotency-Key it sent (here the message's own, as the deliver has no template).
    assert.match((await panel.getByTestId('history').textContent()) ?? '', new RegExp(`dead${targetKey}JNC_HTTP_REJECTED.*400`, 's'));
    assert.match((await panel.getByTestId('last-response').textContent()) ?? '', /HTTP 400/);
    assert.match((await panel.getByTestId('last-response-body').textContent()) ?? '', /error/);
    assert.match((await panel.getByTestId('payload').textContent()) ?? '', /"customer"/);
    await page.screenshot({ path: `${SHOTS}dead-letter.png`, fullPage: true });

    // Cancel first: nothing happens without the yes.
    await panel.getByTestId('replay-one').click();
    await page.getByTestId('confirm-no').click();
    assert.equal((await engine.store.getMessage(target.id))?.state, 'dead');
    await panel.getByTestId('replay-one').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1 dead letter' }).waitFor();
    await total.filter({ hasText: '1 matching' }).waitFor();
    assert.equal(await page.locator(`tr[data-id="${target.id}"]`).count(), 0, 'the replayed one left the list');
    await sink.waitFor((s) => s.received().get(targetKey) === 1);
    await engine.until(async () => (await engine.store.getMessage(target.id))?.state === 'done');

    // Replay everything the filter matches: the other refused order.
    await page.getByTestId('replay-matching').click();
    await page.getByTestId('confirm-yes').click();
    await total.filter({ hasText: '0 matching' }).waitFor();
    await engine.until(async () => (await engine.store.stats('orders-to-crm')).done === WORKLOAD['orders-to-crm'].ok + WORKLOAD['orders-to-crm'].refused);
    assert.equal(await engine.store.deadLetters.count('invoices-to-crm'), 1, 'the other flow was not matched');
  });

  it('pages through 25 dead letters newest first, starts over when a page\'s anchor was replayed elsewhere, and replays a selection', async (t) => {
    const sink = await startTestSink(t, { default: '400' });
    const engine = await startTestEngine(t, config(sink), { env: { ADMIN_TOKEN: TOKEN } });
    await Promise.all(Array.from({ length: 25 }, (_, i) => engine.post('/hooks/orders', { n: i }, { 'idempotency-key': `bulk-${i}` })));
    await engine.until(async () => (await engine.store.deadLetters.count()) === 25);
    const newestFirst = (await engine.store.deadLetters.list({ limit: 25 })).map((d) => d.id);
    const { page } = await openPage(t, { expect404: true });
    await page.goto(`${engine.url}/ui#dead-letters`);
    await signIn(page, TOKEN);
    const rows = page.locator('[data-testid=dead-letters] tbody tr[data-id]');
    const shown = async () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    // The pager's label changes at the click, the rows when the answer is in: wait for the rows.
    const showsRows = async (ids: string[]) => {
      await until(async () => JSON.stringify(await shown()) === JSON.stringify(ids), 10_000, 50).catch(() => undefined);
      assert.deepEqual(await shown(), ids);
    };
    await page.getByTestId('total').filter({ hasText: '25 matching' }).waitFor();
    await showsRows(newestFirst.slice(0, 20));
    await page.getByTestId('older').click();
    await page.getByText('page 2').waitFor();
    await showsRows(newestFirst.slice(20));
    assert.ok(await page.getByTestId('older').isDisabled(), 'the last page has no older one');
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByText('page 1').waitFor();
    await showsRows(newestFirst.slice(0, 20));

    // Someone else replays the last row of this page: the next page has nowhere to start from.
    sink.setDefault('200');
    await engine.store.deadLetters.replay({ ids: [newestFirst[19]!] });
    await page.getByTestId('older').click();
    await page.getByRole('button', { name: 'Back to the first page' }).click();
    await page.getByTestId('total').filter({ hasText: '24 matching' }).waitFor();
    await page.getByText('page 1').waitFor();

    // Two selected, replayed after the confirmation: both leave the list and reach the sink.
    const picked = newestFirst.slice(0, 2);
    await showsRows(newestFirst.slice(0, 19).concat(newestFirst.slice(20, 21)));
    for (const id of picked) await page.getByLabel(`select ${id}`).check();
    await page.getByTestId('replay-selected').filter({ hasText: 'Replay selected (2)' }).click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('total').filter({ hasText: '22 matching' }).waitFor();
    for (const id of picked) assert.equal(await page.locator(`tr[data-id="${id}"]`).count(), 0);
    await engine.until(async () => (await engine.store.stats('orders-to-crm')).done === 3);
  });
});
