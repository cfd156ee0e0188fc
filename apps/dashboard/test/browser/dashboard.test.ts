import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '../../src/server/start-dashboard.ts';
import { browserSkipReason, launchChromium } from './browser.ts';
import {
  BROWSER_CONTEXTS,
  createBrowserTestContexts,
  NODE_COUNT,
  sleeperTask,
  taskDocument,
} from './contexts.ts';

const skipReason = browserSkipReason();
if (skipReason !== undefined) console.warn(`[dashboard browser tests] skipped: ${skipReason}`);

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const VITE_CONFIG = fileURLToPath(new URL('../../vite.config.ts', import.meta.url));

/** Command lines of live processes that carry the run's marker. */
function leftoverProcesses(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(marker) && !line.startsWith('ps '));
}

const MESOS = BROWSER_CONTEXTS.mesos;
const KUBE = BROWSER_CONTEXTS.kubernetes;
const N = NODE_COUNT;

function taskYaml(name: string, marker: string, cpu = '100m'): string {
  return `apiVersion: berth.dev/v1
kind: Task
metadata:
  name: ${name}
spec:
  command: echo started ${name}; sleep 3600 # ${marker}
  resources:
    requests: { cpu: "${cpu}", memory: 32Mi }
`;
}

describe.skipIf(skipReason !== undefined)(
  `dashboard in chromium${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`,
  { timeout: 60_000 },
  () => {
    let webDir: string;
    let clusters: Awaited<ReturnType<typeof createBrowserTestContexts>>;
    let dashboard: RunningDashboard;
    let browser: Awaited<ReturnType<typeof launchChromium>>;
    let context: BrowserContext;
    let page: Page;
    /** The Mesos face's agent id of each engine node (`node-1` → `…-S0`). */
    let agentOf: (hostname: string) => string;

    beforeAll(async () => {
      webDir = await mkdtemp(join(tmpdir(), 'berth-dashboard-web-'));
      await mkdir(SCREENSHOTS, { recursive: true });
      // Build the app from source so the test never runs a stale dist/.
      await build({
        configFile: VITE_CONFIG,
        logLevel: 'warn',
        build: { outDir: webDir, emptyOutDir: true, sourcemap: false },
      });
      clusters = await createBrowserTestContexts();
      const agents = new Map(
        (await clusters.contexts[0]!.adapter.snapshot()).nodes.map(
          (n) => [n.hostname ?? n.id, n.id] as const,
        ),
      );
      agentOf = (hostname) => agents.get(hostname) ?? `no agent for ${hostname}`;
      dashboard = await startDashboard({
        contexts: clusters.contexts,
        staticDir: webDir,
        version: 'browser-test',
      });
      browser = await launchChromium();
      context = browser.context;
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(15_000);
      page.on('dialog', (d) => void d.accept());
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await clusters?.close();
      if (webDir) await rm(webDir, { recursive: true, force: true });
    });

    const url = (path: string) => new URL(path, dashboard.url).toString();

    async function expectAccessible(view: string): Promise<void> {
      const result = await new AxeBuilder({ page }).analyze();
      const bad = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
        );
      expect(bad, `axe on ${view}`).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, `${view}.png`), fullPage: true });
    }

    /** Navigate inside the app (no page load) through the top navigation. */
    async function nav(name: string): Promise<void> {
      await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
    }

    async function replaceEditorText(text: string): Promise<void> {
      const editor = page.getByRole('textbox', { name: 'Berth YAML spec' });
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(text);
    }

    it('shows the nodes of both contexts side by side on the overview', async () => {
      await page.goto(url('/'));
      for (const [ctx, first] of [
        [MESOS, 'node-1'],
        [KUBE, 'node-1'],
      ] as const) {
        const card = page.getByRole('region', { name: new RegExp(`^${ctx}`) });
        const nodes = card.getByRole('list', { name: `Nodes of ${ctx}` });
        await nodes.getByRole('link', { name: new RegExp(`^${first} `) }).waitFor();
        expect(await nodes.getByRole('listitem').count()).toBe(N);
        await card.getByText(`${N} nodes (${N} ready, 0 cordoned)`, { exact: false }).waitFor();
        expect(await card.locator('figure svg').count()).toBeGreaterThanOrEqual(3);
      }
      await expectAccessible('overview');
    });

    it('submits a task from the Submit view, which turns RUNNING in the Tasks view without reload', async () => {
      await page.goto(url(`/submit?ctx=${MESOS}`));
      await page.evaluate(() => {
        (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
      });
      await replaceEditorText(taskYaml('browser-hello', clusters.marker));
      await page.getByRole('button', { name: 'Preview plan' }).click();
      const plan = page.getByRole('region', { name: 'Plan preview' });
      await plan.getByRole('rowheader', { name: 'browser-hello' }).waitFor();
      expect(await plan.getByText(/^placed on \S+-S\d+\b/).count()).toBe(1);
      await expectAccessible('submit');
      await page.getByRole('button', { name: `Submit to ${MESOS}` }).click();
      const progress = page.getByRole('region', { name: 'Progress' });
      await progress.getByText('RUNNING').waitFor();

      await nav('Tasks');
      await page.getByLabel('Filter').fill('browser-hello');
      const row = page.locator('tr[data-task="browser-hello"]');
      await row.getByText('RUNNING').waitFor();

      // A task started behind the page's back shows up live in the open table.
      await clusters.contexts[0]!.adapter.submit([taskDocument(sleeperTask('report', clusters.marker))]);
      await page.getByLabel('Filter').fill('report');
      await page
        .locator('tr[data-task="report"]')
        .getByText(/RUNNING|STAGING|STARTING/)
        .waitFor();
      await page.getByLabel('Filter').fill('');
      await expectAccessible('tasks');
      expect(
        await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
      ).toBe(true);
    });

    it('kills the task from its detail view and shows KILLED', async () => {
      await page.goto(url(`/tasks?ctx=${MESOS}&q=browser-hello`));
      await page.getByRole('link', { name: 'browser-hello', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Task browser-hello' }).waitFor();
      const placement = page.getByRole('region', { name: 'Placement' });
      await placement.getByText(/^Placed on \S+-S\d+ /).waitFor();
      expect(await placement.getByRole('listitem').count()).toBe(N - 1);
      await expectAccessible('task-detail');
      await page.getByRole('button', { name: 'Kill task' }).click();
      await page.getByRole('region', { name: 'Status' }).getByText('KILLED', { exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Kill task' }).isDisabled()).toBe(true);
      await page.getByRole('link', { name: `← All tasks of ${MESOS}` }).click();
      await page.locator('tr[data-task="browser-hello"]').getByText('KILLED', { exact: true }).waitFor();
    });

    it('shows why an unplaceable task stays pending', async () => {
      await page.goto(url(`/submit?ctx=${KUBE}`));
      await replaceEditorText(taskYaml('browser-giant', clusters.marker, '512'));
      await page.getByRole('button', { name: 'Preview plan' }).click();
      const plan = page.getByRole('region', { name: 'Plan preview' });
      await plan.getByText(new RegExp(`^0/${N} nodes available: ${N} .*cpu`, 'i')).waitFor();
      await page.getByRole('button', { name: `Submit to ${KUBE}` }).click();
      await page
        .getByRole('region', { name: 'Progress' })
        .getByRole('link', { name: 'browser-giant' })
        .click();
      const placement = page.getByRole('region', { name: 'Placement' });
      await placement.getByRole('heading', { name: 'Why it is pending' }).waitFor();
      const reasons = placement.getByRole('list', { name: 'Reasons' });
      expect(await reasons.textContent()).toMatch(new RegExp(`${N} of ${N} nodes: .*cpu`, 'i'));
      await page.getByRole('region', { name: 'Status' }).getByText('PENDING', { exact: true }).waitFor();
    });

    it('reports spec errors from the editor with the field path', async () => {
      await page.goto(url(`/submit?ctx=${MESOS}`));
      await replaceEditorText(taskYaml('bad', clusters.marker).replace('"100m"', 'lots'));
      await page.getByRole('button', { name: 'Preview plan' }).click();
      const alert = page.getByRole('alert');
      await alert.getByText('spec.resources.requests.cpu', { exact: true }).waitFor();
      expect(await alert.textContent()).toContain('SPEC_INVALID');
    });

    it('moves through the node heat map with the keyboard and opens node detail', async () => {
      await page.goto(url(`/nodes?ctx=${MESOS}`));
      const map = page.getByRole('application', { name: new RegExp(`Utilization of ${N} nodes`) });
      await map.focus();
      await page.keyboard.press('Home');
      await page.getByRole('heading', { name: `Node ${agentOf('node-1')}` }).waitFor();
      await page.keyboard.press('ArrowRight');
      await page.getByRole('heading', { name: `Node ${agentOf('node-2')}` }).waitFor();
      await page.getByRole('table', { name: `Resources of ${agentOf('node-2')}` }).waitFor();
      await expectAccessible('nodes');
    });

    it('shows services with replicas and the scaling chart', async () => {
      await page.goto(url(`/services?ctx=${MESOS}`));
      await page.getByRole('button', { name: 'web' }).click();
      await page.getByRole('heading', { name: 'Service web' }).waitFor();
      await page.getByText(/now 3 running of 3 desired/).waitFor();
      await page.getByLabel('Replicas').fill('2');
      await page.getByRole('button', { name: 'Scale' }).click();
      await page.getByText(/now 2 running of 2 desired/).waitFor();
      await expectAccessible('services');
    });

    it('streams events live and filters them', async () => {
      await page.goto(url('/events'));
      await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor();
      await clusters.contexts[1]!.adapter.kill('etl-2');
      const list = page.getByRole('list', { name: 'Events, newest first' });
      await list
        .getByText(/etl-2 is KILLED/)
        .first()
        .waitFor();
      await page.getByLabel('Context').selectOption(MESOS);
      expect(await list.getByText(/etl-2 is KILLED/).count()).toBe(0);
      await page.getByLabel('Context').selectOption('');
      await page.getByLabel('Level').selectOption('info');
      await expectAccessible('events');
    });

    it('stops every task process of the devcluster when it closes', async () => {
      // Declared last, so the earlier tests' real processes are running now.
      expect(leftoverProcesses(clusters.marker).length).toBeGreaterThan(0);
      await dashboard.close();
      await clusters.close();
      expect(leftoverProcesses(clusters.marker)).toEqual([]);
    });
  },
);
