// The dashboard in a real browser (Debian's Chromium, driven by playwright-core), against the test
// stack with the fixture jobs uploaded through the uploader's CLI: sign-in from the URL fragment,
// the overview's numbers against /query/stats, a batch's bar moving as a runner completes items
// through the batches routes, its failures by class and the Retry and Cancel buttons, filters and
// keyset paging, the 3D view drawing pixels, an export that ASE reads, and the events filter.
//
// DASHBOARD_SCREENSHOTS=docs/img saves a PNG of each page there (the README shows them).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import type { QfClient } from '../../shared/client.ts';
import { claim, complete, createBatch, fail, getBatch } from '../../shared/client-batches.ts';
import { getCalculation, listCalculations, listEvents, stats } from '../../shared/client-query.ts';
import type { DatabaseStats } from '../../shared/contract/query.ts';
import { gradientToForceEvA } from '../../shared/units.ts';
import { clientFor } from '../support/client.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser, serviceEnv, type TestUser } from '../support/users.ts';
import { FIXTURES, runUpload } from '../upload/run-upload.ts';
import { describeWithChromium, drawnPixels, launchChromium, serveFreshDashboard, type ServedDashboard } from './browser.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 300_000 });
const run = promisify(execFile);
const SHOTS = process.env.DASHBOARD_SCREENSHOTS;
/** Long enough for a loaded machine; nothing here measures time. */
const WAIT = { timeout: 60_000 };

let user: TestUser;
let client: QfClient;
let dashboard: ServedDashboard;
let browser: Browser;
let page: Page;
let tmp: string;
const pageErrors: string[] = [];

async function shot(name: string, fullPage = false, on: Page = page): Promise<void> {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await on.mouse.move(0, 0);
  await on.screenshot({ path: path.join(SHOTS, `dashboard-${name}.png`), fullPage });
}

const go = async (hash: string) => {
  await page.evaluate((h) => { location.hash = h; }, hash);
};

describeWithChromium('dashboard', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-dashboard-test-'));
    user = await newUser();
    client = clientFor(user.token);
    const stack = inject('stack');
    const [upload, served] = await Promise.all([
      runUpload(['--jobs-root', FIXTURES, '--user-id', user.id, '--report', path.join(tmp, 'upload.ndjson')], serviceEnv()),
      serveFreshDashboard({ url: stack.url, anonKey: stack.anonKey, local: true }),
    ]);
    dashboard = served;
    expect(upload.code, upload.stderr).toBe(0);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('asks for a token without one, and shows the sign-in form', async () => {
    const other = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await other.goto(dashboard.url);
    await other.locator('textarea[name="token"]').waitFor(WAIT);
    await other.locator('textarea[name="token"]').fill('not-a-token');
    await other.getByRole('button', { name: 'Sign in with token' }).click();
    await expect.poll(() => other.locator('[role="status"]').textContent(), WAIT).toContain('not an access token');
    expect(await other.locator('input[type="email"]').count()).toBe(0);
    await other.close();
  });

  it('hosted: signs in through Supabase Auth with supabase-js, and calls the functions with that session', async () => {
    // A hosted build's settings, and the Auth service's answer to a password sign-in (the local
    // stack has no Auth service): the access token is a real one for the test user.
    const other = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const stack = inject('stack');
    const email = `${user.id}@test.local`;
    await other.route('**/config.json', (route) => route.fulfill({ json: { url: stack.url, anonKey: stack.anonKey, local: false } }));
    let grant: string | null = null;
    await other.route('**/auth/v1/token?**', async (route) => {
      grant = new URL(route.request().url()).searchParams.get('grant_type');
      const now = Math.floor(Date.now() / 1000);
      await route.fulfill({
        headers: { 'access-control-allow-origin': '*' },
        json: {
          access_token: user.token, token_type: 'bearer', expires_in: 3600, expires_at: now + 3600, refresh_token: 'r1',
          user: { id: user.id, aud: 'authenticated', role: 'authenticated', email, app_metadata: {}, user_metadata: {}, created_at: new Date().toISOString() },
        },
      });
    });
    await other.route('**/auth/v1/logout**', (route) => route.fulfill({ status: 204, headers: { 'access-control-allow-origin': '*' } }));
    await other.goto(dashboard.url);
    await other.locator('input[type="email"]').waitFor(WAIT);
    await shot('sign-in', false, other);
    await other.locator('input[type="email"]').fill(email);
    await other.locator('input[type="password"]').fill('secret password');
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.locator('[data-stat="calculations_total"]').waitFor(WAIT);
    expect(grant).toBe('password');
    expect(await other.locator('header .who').textContent()).toBe(email);
    const api = await stats(client);
    expect(Number(await other.locator('[data-stat="calculations_total"]').getAttribute('data-value'))).toBe(api.stats.calculations_total);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.locator('input[type="email"]').waitFor(WAIT);
    await other.close();
  });

  it('signs in from the #token= fragment and takes the token out of the address bar', async () => {
    await page.goto(`${dashboard.url}/#token=${user.token}`);
    await page.locator('header .who').waitFor(WAIT);
    expect(await page.locator('header .who').textContent()).toContain(user.id);
    expect(page.url()).not.toContain('token=');
  });

  it('overview: every counter equals /query/stats, and the histograms count the same values', async () => {
    await go('#/');
    await page.locator('[data-stat="molecules"]').waitFor(WAIT);
    const api = await stats(client);
    const shown = await page.$$eval('[data-stat]', (els) => els.map((e) => [e.getAttribute('data-stat'), Number(e.getAttribute('data-value')), e.querySelector('.value')?.textContent]));
    expect(shown.map(([key]) => key).sort()).toEqual(Object.keys(api.stats).sort());
    for (const [key, value, text] of shown) {
      expect(value, String(key)).toBe(api.stats[key as keyof DatabaseStats]);
      expect(Number(String(text).replace(/,/g, '')), String(key)).toBe(value);
    }
    expect(api.stats.calculations_total).toBeGreaterThan(15);
    expect(Number(await page.locator('svg.chart.energy').getAttribute('data-count'))).toBe(api.histograms.energy_per_atom_eh.count);
    expect(Number(await page.locator('svg.chart.gap').getAttribute('data-count'))).toBe(api.histograms.homo_lumo_gap_ev.count);
    expect(await page.locator('svg.chart.energy .bars rect').count()).toBe(api.histograms.energy_per_atom_eh.bins);
    await shot('overview', true);
  });

  it('batches: the bar moves as a runner completes items, failures are grouped by class, Retry and Cancel work', async () => {
    const { batch } = await createBatch(client, { name: 'dashboard: live batch', items: batchItems(6), max_attempts: 1 });
    await go('#/batches');
    const card = page.locator(`[data-batch-id="${batch.id}"]`);
    const done = () => card.locator('.bar').getAttribute('data-done');
    await card.waitFor(WAIT);
    expect(await done()).toBe('0');

    // A runner at work, through the routes runners use: it claims five, completes three, one
    // fails and one is still running.
    const runner = 'dashboard-test-runner';
    const claimed = (await claim(client, { runner_id: runner, batch_id: batch.id, limit: 5 })).items;
    expect(claimed).toHaveLength(5);
    await expect.poll(() => card.locator('.seg.claimed').getAttribute('data-count'), WAIT).toBe('5');
    for (const [i, item] of claimed.slice(0, 3).entries()) {
      await complete(client, { runner_id: runner, item_id: item.item_id, result: resultFor(item) });
      // Each completion shows without a reload: the page polls while the batch runs.
      await expect.poll(done, WAIT).toBe(String(i + 1));
    }
    expect(await card.locator('.seg.completed').evaluate((e) => (e as HTMLElement).style.width)).toBe('50%');
    await fail(client, { runner_id: runner, item_id: claimed[3].item_id, error_class: 'scf_not_converged', message: 'SCF did not converge in 250 iterations' });
    const group = card.locator('[data-error-class="scf_not_converged"]');
    await group.waitFor(WAIT);
    expect(await group.getAttribute('data-count')).toBe('1');
    expect(await done()).toBe('4');
    expect(await card.locator('.seg.failed').getAttribute('data-count')).toBe('1');
    await group.locator('summary').click();
    await shot('batches');

    await card.locator('[data-action="retry"]').click();
    await expect.poll(async () => (await getBatch(client, batch.id)).batch.failed_items, WAIT).toBe(0);
    await expect.poll(() => card.locator('.seg.failed').getAttribute('data-count'), WAIT).toBe('0');
    expect((await getBatch(client, batch.id)).batch.pending_items).toBe(2);

    page.once('dialog', (dialog) => void dialog.accept());
    await card.locator('[data-action="cancel"]').click();
    await expect.poll(async () => (await getBatch(client, batch.id)).batch.status, WAIT).toBe('cancelled');
    await expect.poll(() => card.locator('.badge').textContent(), WAIT).toBe('cancelled');
  });

  it('calculations: filters checked by the contract, and keyset pages forward and back', async () => {
    await go('#/calculations');
    await page.locator('input[name="energy_min"]').fill('low');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('input[name="energy_min"] + .field-error').textContent(), WAIT).toBe('must be a number');
    expect(page.url()).not.toContain('energy_min');

    const api = await listCalculations(client, { sort: 'energy', order: 'asc', limit: 5 });
    const next = await listCalculations(client, { cursor: api.next_cursor!, limit: 5 });
    await go('#/calculations?sort=energy&order=asc&limit=5');
    const ids = () => page.$$eval('tr[data-calculation-id]', (rows) => rows.map((r) => r.getAttribute('data-calculation-id')));
    await expect.poll(ids, WAIT).toEqual(api.data.map((c) => c.id));
    await page.locator('[data-action="next-page"]').click();
    await expect.poll(ids, WAIT).toEqual(next.data.map((c) => c.id));
    await page.getByRole('button', { name: '‹ Previous' }).click();
    await expect.poll(ids, WAIT).toEqual(api.data.map((c) => c.id));

    await go('#/calculations?method=GFN2-xTB&status=completed');
    await expect.poll(async () => (await ids()).length, WAIT).toBe((await listCalculations(client, { method: 'GFN2-xTB', status: 'completed' })).data.length);
    expect(await page.locator('select[name="method"]').inputValue()).toBe('GFN2-xTB');
    await shot('calculations', true);
  });

  it('detail: the 3D view draws the molecule, and charges and forces are listed per atom', async () => {
    const [row] = (await listCalculations(client, { task: 'grad', status: 'completed', sort: 'energy', order: 'asc', limit: 1 })).data;
    const calc = await getCalculation(client, row.id);
    expect(calc.atoms[0].gradient_eh_bohr).not.toBeNull();
    await go(`#/calculations?task=grad&status=completed&sort=energy&order=asc`);
    await page.locator(`tr[data-calculation-id="${row.id}"] a`).click();
    await page.locator('[data-viewer="ready"] canvas').waitFor(WAIT);
    const { drawn, total } = await drawnPixels(page, '[data-viewer] canvas');
    expect(drawn).toBeGreaterThan(total * 0.005);

    const cells = await page.$$eval('table.atoms tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
    expect(cells).toHaveLength(calc.atoms.length);
    calc.atoms.forEach((a, i) => {
      expect(cells[i][1]).toBe(a.element);
      expect(cells[i][5]).toBe(a.partial_charge_e!.toFixed(4));
      expect(cells[i].slice(6, 9)).toEqual(a.gradient_eh_bohr!.map((g) => gradientToForceEvA(g).toFixed(4)));
    });
    await page.locator('input[name="forces"]').check();
    await shot('calculation');
  });

  it('export: the button downloads the current filter as extxyz, and ASE reads it', async () => {
    await go('#/calculations?task=grad');
    await page.locator('select[name="format"]').selectOption('extxyz');
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.locator('[data-action="export"]').click()]);
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    expect(file.endsWith('.extxyz')).toBe(true);
    const { stdout } = await run('/usr/bin/python3', ['-c', 'import json, sys, ase.io\nprint(json.dumps([a.info["calc_id"] for a in ase.io.read(sys.argv[1], index=":")]))', file]);
    const frames: string[] = JSON.parse(stdout);

    // The same selection straight from the API: the same calculations, one frame each.
    const res = await fetch(`${inject('stack').url}/functions/v1/query/export?format=extxyz&task=grad`, { headers: { authorization: `Bearer ${user.token}` } });
    const direct = (await res.text()).match(/calc_id=\S+/g)!.map((s) => s.slice('calc_id='.length).replace(/"/g, ''));
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.sort()).toEqual(direct.sort());
    await expect.poll(() => page.locator('[data-export-status]').textContent(), WAIT).toContain(`${frames.length} calculations`);
    expect((await readFile(file, 'utf8')).length).toBeGreaterThan(0);
  });

  it('events: recent events, filtered by type', async () => {
    await go('#/events');
    await page.locator('tr[data-event-type]').first().waitFor(WAIT);
    await shot('events');
    await page.locator('select[name="event_type"]').selectOption('molecule_created');
    const api = await listEvents(client, { event_type: 'molecule_created', limit: 50 });
    expect(api.data.length).toBeGreaterThan(5);
    const types = () => page.$$eval('tr[data-event-type]', (rows) => rows.map((r) => r.getAttribute('data-event-type')));
    await expect.poll(async () => {
      const shown = await types();
      return shown.length === api.data.length && shown.every((t) => t === 'molecule_created');
    }, WAIT).toBe(true);
    // Each row names its actor (main's events carry one): the upload's rows name this user.
    const actors = await page.$$eval('tr[data-event-type] td.actor', (cells) => cells.map((c) => c.textContent ?? ''));
    expect(actors).toHaveLength(api.data.length);
    for (const a of actors) expect(a).toContain(user.id.slice(0, 8));
  });

  it('raised no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
