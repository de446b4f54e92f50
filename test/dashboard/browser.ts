// A real browser for the dashboard's tests and bench: Debian's Chromium driven by playwright-core,
// with the flags that work on these machines (no sandbox as root, no background traffic to a
// closed network), and the dashboard built from its sources and served on a free port.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { buildDashboard, serveDashboard, type DashboardConfig, type DashboardServer } from '../../scripts/stack/dashboard.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  // WebGL on the software rasteriser: Chromium asks for this opt-in before it falls back to it.
  '--enable-unsafe-swiftshader',
];

/** A fresh browser with an empty profile (playwright makes and removes one per launch). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * `describe` when Chromium is installed; skipped with a message otherwise, except under CI=true,
 * where a missing browser fails the run (`.ci/run` installs Debian's chromium).
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} not found, and CI=true: the dashboard's tests need a real browser (apt-get install chromium)`);
  console.warn(`SKIPPED "${name}": ${CHROMIUM} not found (apt-get install chromium to run the dashboard's browser tests)`);
  describe.skip(`${name} (skipped: chromium not installed)`, body);
}

export interface ServedDashboard extends DashboardServer {
  dir: string;
}

/** The dashboard built from the current sources into a temporary folder, served on a free port. */
export async function serveFreshDashboard(config: DashboardConfig): Promise<ServedDashboard> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-dashboard-'));
  await buildDashboard(dir);
  const server = await serveDashboard({ dir, port: 0, config: () => config });
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pixels of an element's screenshot that differ from its corner pixel (the background), counted in
 * the page itself: a canvas that WebGL drew nothing on has none.
 */
export async function drawnPixels(page: Page, selector: string): Promise<{ drawn: number; total: number }> {
  const png = await page.locator(selector).screenshot();
  return page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const g = canvas.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const { data } = g.getImageData(0, 0, img.width, img.height);
    const [r0, g0, b0] = [data[0], data[1], data[2]];
    let drawn = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r0) + Math.abs(data[i + 1] - g0) + Math.abs(data[i + 2] - b0) > 30) drawn += 1;
    }
    return { drawn, total: img.width * img.height };
  }, `data:image/png;base64,${png.toString('base64')}`);
}
