/**
 * The Nodes view with 5,000 nodes in Debian's chromium (playwright-core): time from navigation to
 * the heat map's first paint, and the time of one keyboard step (an arrow key → the next node's
 * detail heading). Baseline in the same run: the same view over a 3-node context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { createDemoContexts } from '../src/server/demo-contexts.ts';
import { startDashboard } from '../src/server/start-dashboard.ts';
import { launchChromium } from '../test/browser/browser.ts';

const LARGE = 5_000;
const SMALL = 3;
const STEPS = 15;
const VITE_CONFIG = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** ms from navigation start to the heat map of `nodes` nodes painted (a frame after it is in the DOM). */
async function firstPaint(page: Page, base: string, ctx: string, nodes: number): Promise<number> {
  const t0 = performance.now();
  await page.goto(new URL(`/nodes?ctx=${ctx}`, base).toString());
  await page.getByRole('application', { name: new RegExp(`Utilization of ${nodes} nodes`) }).waitFor();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return performance.now() - t0;
}

/** Median ms of one arrow-key step until the node detail heading names another node. */
async function keyboardStep(page: Page, nodes: number): Promise<number> {
  const map = page.getByRole('application', { name: new RegExp(`Utilization of ${nodes} nodes`) });
  await map.focus();
  await page.keyboard.press('Home');
  await page.locator('#node-title').waitFor();
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const before = await page.locator('#node-title').textContent();
    const t0 = performance.now();
    // Back and forth between the first two nodes: a step always lands on another node.
    await page.keyboard.press(i % 2 === 0 ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForFunction(
      (prev) => document.querySelector('#node-title')?.textContent !== prev,
      before,
      { polling: 'raf' },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    times.push(performance.now() - t0);
  }
  return median(times);
}

const suite: BenchSuite = {
  name: 'dashboard-heatmap',
  description: 'Nodes view with 5,000 nodes in chromium: heat map first paint and keyboard step vs 3 nodes',
  async run(): Promise<BenchRow[]> {
    const webDir = await mkdtemp(join(tmpdir(), 'berth-dashboard-bench-web-'));
    await build({
      configFile: VITE_CONFIG,
      logLevel: 'warn',
      build: { outDir: webDir, emptyOutDir: true, sourcemap: false },
    });
    const small = await createDemoContexts({ nodes: SMALL, workload: false });
    const large = await createDemoContexts({ nodes: LARGE, workload: false });
    const dashboard = await startDashboard({
      contexts: [
        { ...small.contexts[0]!, name: 'small' },
        { ...large.contexts[0]!, name: 'large' },
      ],
      staticDir: webDir,
      version: 'bench',
    });
    const browser = await launchChromium();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.setDefaultTimeout(60_000);
      // Warm-up (bundle parse and cache) so both sides measure the view, not the first load.
      await firstPaint(page, dashboard.url, 'small', SMALL);
      const paints = { small: [] as number[], large: [] as number[] };
      for (let r = 0; r < 3; r++) {
        paints.small.push(await firstPaint(page, dashboard.url, 'small', SMALL));
        paints.large.push(await firstPaint(page, dashboard.url, 'large', LARGE));
      }
      await firstPaint(page, dashboard.url, 'small', SMALL);
      const stepSmall = await keyboardStep(page, SMALL);
      await firstPaint(page, dashboard.url, 'large', LARGE);
      const stepLarge = await keyboardStep(page, LARGE);
      const paintSmall = median(paints.small);
      const paintLarge = median(paints.large);
      return [
        { suite: suite.name, name: `baseline: first paint, ${SMALL} nodes`, value: paintSmall, unit: 'ms' },
        {
          suite: suite.name,
          name: `first paint, ${LARGE} nodes`,
          value: paintLarge,
          unit: 'ms',
          ratio: paintLarge / paintSmall,
          baseline: `first paint, ${SMALL} nodes`,
          goal: 'stays responsive (well under a second)',
        },
        { suite: suite.name, name: `baseline: keyboard step, ${SMALL} nodes`, value: stepSmall, unit: 'ms' },
        {
          suite: suite.name,
          name: `keyboard step, ${LARGE} nodes`,
          value: stepLarge,
          unit: 'ms',
          ratio: stepLarge / stepSmall,
          baseline: `keyboard step, ${SMALL} nodes`,
          goal: 'one step within a frame or two of the baseline',
        },
      ];
    } finally {
      await browser.close();
      await dashboard.close();
      await large.close();
      await small.close();
      await rm(webDir, { recursive: true, force: true });
    }
  },
};

export default suite;
