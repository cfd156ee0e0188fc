/**
 * The quick start as a library: devcluster (Mesos face + Kubernetes face), the Mesos adapter and
 * the Kubernetes adapter (Berth scheduler mode) connected to it, the example workloads submitted
 * on both, and the dashboard over the two contexts. `main.ts` is the `pnpm start` program around it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BerthDocument, BerthError, parseDocuments } from '@berth/core';
import { type Devcluster, isPortFree, startDevcluster } from '@berth/devcluster';
import { createK8sAdapter } from '@berth/k8s-adapter';
import { createMesosAdapter } from '@berth/mesos-adapter';
import type { DashboardContext } from '../server/live-hub.ts';
import { type RunningDashboard, startDashboard } from '../server/start-dashboard.ts';
import type { SubmitView } from '../shared/api.ts';

const COMPONENT = 'quickstart';

/** The context names the quick start (and `berth devcluster up`) gives the two faces. */
export const QUICKSTART_CONTEXTS = { mesos: 'devcluster-mesos', kubernetes: 'devcluster-k8s' } as const;

/** The dashboard's port when it is free (else any free port). */
export const DEFAULT_DASHBOARD_PORT = 8080;

/** `examples/quickstart` of this repository. */
export const DEFAULT_EXAMPLES_DIR: string = fileURLToPath(
  new URL('../../../../examples/quickstart/', import.meta.url),
);

/** The example files, in the order they are submitted. */
export const EXAMPLE_FILES = ['web.yaml', 'batch-gang.yaml', 'too-big.yaml'] as const;

/** The framework's role: the examples' tenant (`default`). */
const MESOS_ROLE = 'default';

/** Marks a state directory as the quick start's own, so a later run may clear it. */
const MARKER = '.berth-quickstart';

export interface QuickstartOptions {
  /** Where everything is kept (cleared at start when a previous quick start left it). */
  readonly stateDir: string;
  /** Mesos face port (default 5050; 0 picks a free one). */
  readonly mesosPort?: number;
  /** Kubernetes face port (default 6443 when free, else a free one). */
  readonly kubePort?: number;
  /** First host port given to tasks (default 31000; node i hands out 1000 ports from +1000·i). */
  readonly taskPorts?: number;
  /** Dashboard port (default 8080 when free, else a free one). */
  readonly dashboardPort?: number;
  /** The example specs (default `examples/quickstart`). */
  readonly examplesDir?: string;
  /** Run the examples' commands as processes (default true) or simulated. */
  readonly processes?: boolean;
  /** Progress lines while starting. */
  readonly onProgress?: (line: string) => void;
  /** Aborting stops the start-up between steps; what already started is stopped again. */
  readonly signal?: AbortSignal;
}

export interface SubmittedWorkload {
  readonly context: string;
  /** `taskId: outcome` per submitted document. */
  readonly results: readonly { readonly taskId: string; readonly outcome: string }[];
  /** Tasks the backend reports PENDING as Unschedulable, with the placement engine's explanation. */
  readonly unplaceable: readonly { readonly taskId: string; readonly message: string }[];
}

export interface Quickstart extends AsyncDisposable {
  readonly devcluster: Devcluster;
  readonly dashboard: RunningDashboard;
  readonly contexts: readonly DashboardContext[];
  readonly submitted: readonly SubmittedWorkload[];
  /** A `berth` config file holding the two contexts (use it with `BERTH_CONFIG=…`). */
  readonly berthConfigPath: string;
  readonly stateDir: string;
  /** Closes the dashboard, both adapters and devcluster; no task process survives it. */
  close(): Promise<void>;
}

/** Clears a state directory a previous quick start left; refuses a foreign, non-empty one. */
async function prepareStateDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new BerthError(
        'SPEC_INVALID',
        `--state-dir ${dir} is not empty and was not made by the quick start`,
        {
          component: COMPONENT,
          issues: [{ path: 'stateDir', message: 'not empty' }],
          hint: 'Pass an empty or new directory with --state-dir, or leave it out for .berth-state/quickstart.',
        },
      );
    }
    // Each run starts a fresh cluster: the previous run's objects and framework are stale.
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), 'Made by `pnpm start` (Berth quick start); cleared on its next run.\n');
}

async function readExamples(
  dir: string,
): Promise<{ file: string; yaml: string; documents: BerthDocument[] }[]> {
  return await Promise.all(
    EXAMPLE_FILES.map(async (file) => {
      const yaml = await readFile(join(dir, file), 'utf8');
      return { file, yaml, documents: parseDocuments(yaml, { source: file }) };
    }),
  );
}

/**
 * A Service's replicas and a Job's parallel workers as plain Tasks (`web-0`, `web-1`, …), for a
 * Kubernetes cluster without Deployment and Job controllers. Tasks stay as they are.
 */
export function expandToTasks(document: BerthDocument): BerthDocument[] {
  if (document.kind === 'Task') return [document];
  const count = document.kind === 'Service' ? document.spec.replicas : document.spec.parallelism;
  return Array.from({ length: count }, (_, i) => {
    const name = `${document.metadata.name}-${i}`;
    return {
      apiVersion: document.apiVersion,
      kind: 'Task' as const,
      metadata: {
        ...document.metadata,
        name,
        labels: {
          ...document.metadata.labels,
          [`berth.dev/${document.kind.toLowerCase()}`]: document.metadata.name,
        },
      },
      spec: { ...document.spec.template, name },
    };
  });
}

/** Whether the Kubernetes face runs the Deployment and Job controllers a Service/Job needs. */
function kubeHasControllers(dc: Devcluster): boolean {
  return (['deployment', 'replicaset', 'job'] as const).every((c) => dc.controllers.includes(c));
}

function errorFromBody(body: unknown, status: number): BerthError {
  const b = (body ?? {}) as { code?: string; message?: string; hint?: string };
  return new BerthError(
    'INTERNAL',
    `submitting the examples failed (${status} ${b.code ?? ''}): ${b.message ?? ''}`,
    {
      component: COMPONENT,
      ...(b.hint === undefined ? {} : { hint: b.hint }),
    },
  );
}

/** Submits YAML through the dashboard's own API, so each task's plan is kept as its explanation. */
async function submitThroughDashboard(
  dashboard: RunningDashboard,
  context: string,
  yaml: string,
): Promise<SubmitView> {
  const res = await dashboard.app.request(`/api/contexts/${encodeURIComponent(context)}/submit`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ yaml }),
  });
  const body: unknown = await res.json();
  if (res.status !== 201) throw errorFromBody(body, res.status);
  return body as SubmitView;
}

/** The tasks a backend reports as Unschedulable, once it has had a moment to try (at most 5 s). */
async function unschedulable(
  adapter: DashboardContext['adapter'],
): Promise<{ taskId: string; message: string }[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const pending = (await adapter.tasks())
      .filter((t) => t.state === 'PENDING' && t.reason === 'Unschedulable')
      .map((t) => ({ taskId: t.taskId, message: t.message ?? '' }));
    if (pending.length > 0 || Date.now() > deadline) return pending;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BerthError('TIMEOUT', 'the quick start was interrupted while starting', {
      component: COMPONENT,
    });
  }
}

export async function startQuickstart(options: QuickstartOptions): Promise<Quickstart> {
  const host = '127.0.0.1';
  const stateDir = resolve(options.stateDir);
  const progress = options.onProgress ?? (() => {});
  const { signal } = options;
  const examples = await readExamples(options.examplesDir ?? DEFAULT_EXAMPLES_DIR);
  await prepareStateDir(stateDir);

  const stops: (() => Promise<unknown>)[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      let first: unknown;
      for (const stop of stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (error) {
          first ??= error;
        }
      }
      if (first !== undefined) throw first;
    })();
    return closing;
  };

  try {
    progress('starting devcluster (laptop preset)…');
    const dc = await startDevcluster({
      preset: 'laptop',
      host,
      stateDir: join(stateDir, 'devcluster'),
      ...(options.mesosPort === undefined ? {} : { mesosPort: options.mesosPort }),
      ...(options.kubePort === undefined ? {} : { kubePort: options.kubePort }),
      ...(options.taskPorts === undefined ? {} : { taskPorts: options.taskPorts }),
      ...(options.processes === undefined ? {} : { processes: options.processes }),
      onProgress: (line) => progress(`  ${line}`),
    });
    stops.push(() => dc.close());
    checkAborted(signal);

    progress(`connecting the Mesos adapter to ${dc.mesos.url}…`);
    const mesos = createMesosAdapter({
      masters: [dc.mesos.url],
      framework: {
        name: 'berth-quickstart',
        user: userInfo().username,
        roles: [MESOS_ROLE],
        failoverTimeoutSeconds: 3600,
        checkpoint: true,
      },
      stateFile: join(stateDir, 'mesos-framework.sqlite'),
      refuseSeconds: 1,
    });
    stops.push(() => mesos.close());
    await mesos.connect();
    checkAborted(signal);

    progress(`connecting the Kubernetes adapter to ${dc.kube.url} (Berth scheduler mode)…`);
    const k8s = createK8sAdapter({
      kubeconfigPath: dc.kubeconfigPath,
      mode: 'berth',
      embeddedScheduler: true,
    });
    stops.push(() => k8s.close());
    await k8s.connect();
    checkAborted(signal);

    const contexts: DashboardContext[] = [
      { name: QUICKSTART_CONTEXTS.mesos, backend: 'mesos', adapter: mesos },
      { name: QUICKSTART_CONTEXTS.kubernetes, backend: 'kubernetes', adapter: k8s },
    ];
    const dashboardPort =
      options.dashboardPort ??
      ((await isPortFree(host, DEFAULT_DASHBOARD_PORT)) ? DEFAULT_DASHBOARD_PORT : 0);
    const dashboard = await startDashboard({ host, port: dashboardPort, contexts });
    stops.push(() => dashboard.close());
    await dashboard.app.hub.ready;
    checkAborted(signal);

    const submitted: SubmittedWorkload[] = [];
    const withControllers = kubeHasControllers(dc);
    for (const ctx of contexts) {
      const expand = ctx.backend === 'kubernetes' && !withControllers;
      const results: { taskId: string; outcome: string }[] = [];
      for (const example of examples) {
        if (expand && example.documents.some((d) => d.kind !== 'Task')) {
          // Without Deployment/Job controllers nothing would create the pods: run them as tasks.
          const tasks = example.documents.flatMap(expandToTasks);
          for (const r of await ctx.adapter.submit(tasks))
            results.push({ taskId: r.taskId, outcome: r.outcome });
          continue;
        }
        const view = await submitThroughDashboard(dashboard, ctx.name, example.yaml);
        for (const r of view.results) results.push({ taskId: r.taskId, outcome: r.outcome });
      }
      submitted.push({ context: ctx.name, results, unplaceable: await unschedulable(ctx.adapter) });
      progress(
        `submitted to ${ctx.name}: ${results.map((r) => r.taskId).join(', ')}` +
          (expand ? ' (no Deployment/Job controllers on this face yet: replicas and workers as tasks)' : ''),
      );
    }

    const berthConfigPath = join(stateDir, 'berth-config.yaml');
    await writeBerthConfig(berthConfigPath, dc);

    return {
      devcluster: dc,
      dashboard,
      contexts,
      submitted,
      berthConfigPath,
      stateDir,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** The CLI's config format (`berth config view`): JSON is YAML, so no YAML library is needed. */
async function writeBerthConfig(path: string, dc: Devcluster): Promise<void> {
  const config = {
    'current-context': QUICKSTART_CONTEXTS.mesos,
    contexts: {
      [QUICKSTART_CONTEXTS.mesos]: { backend: 'mesos', masters: [dc.mesos.url], role: MESOS_ROLE },
      [QUICKSTART_CONTEXTS.kubernetes]: {
        backend: 'kubernetes',
        kubeconfig: dc.kubeconfigPath,
        context: 'devcluster',
        mode: 'berth',
      },
    },
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
}
