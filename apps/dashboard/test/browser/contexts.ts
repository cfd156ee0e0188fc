/**
 * The clusters the browser tests look at: a real devcluster of three small nodes (one engine
 * running real processes) with its Mesos face and its Kubernetes face (+ controllers and the
 * virtual kubelet), and the real adapters connected to them as the contexts `devcluster-mesos` and
 * `devcluster-k8s`. Timings are short (allocation every 50 ms, 1 s heartbeats) so the UI sees
 * changes quickly. `close()` stops the adapters, both faces and the engine: no task process is left.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  API_VERSION,
  type BerthDocument,
  type ClusterAdapter,
  Resources,
  SPEC_DEFAULTS,
  type TaskSpec,
} from '@berth/core';
import {
  type Engine,
  type KubeCluster,
  type MesosMaster,
  startEngine,
  startKubeCluster,
  startMesosMaster,
  startVirtualKubelet,
  type VirtualKubelet,
} from '@berth/devcluster';
import { createK8sAdapter } from '@berth/k8s-adapter';
import { createMesosAdapter } from '@berth/mesos-adapter';
import { KubeConfig } from '@kubernetes/client-node';
import type { DashboardContext } from '../../src/server/live-hub.ts';

/** The context names of devcluster's two faces (as the quick start and `berth devcluster up` name them). */
export const BROWSER_CONTEXTS = { mesos: 'devcluster-mesos', kubernetes: 'devcluster-k8s' } as const;

/** Engine nodes: `node-1` … `node-3`. */
export const NODE_COUNT = 3;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface BrowserTestClusters {
  readonly contexts: readonly DashboardContext[];
  readonly engine: Engine;
  readonly mesos: MesosMaster;
  readonly kube: KubeCluster;
  /** A marker every task command of these tests carries, to find leftover processes. */
  readonly marker: string;
  /** Stops adapters, faces and engine (idempotent). */
  close(): Promise<void>;
}

/** A small long-running task; its command carries `marker` so a leftover process can be found. */
export function sleeperTask(name: string, marker: string, tenant = 'default', cpuMilli = 100): TaskSpec {
  return {
    name,
    command: `echo started ${name}; sleep 3600 # ${marker}`,
    env: {},
    resources: { requests: Resources.of({ cpu: cpuMilli, memory: 32 * MiB }) },
    ports: [],
    priority: SPEC_DEFAULTS.priority,
    tenant,
    constraints: [],
    nodeSelector: {},
    tolerations: [],
    restartPolicy: { policy: 'never' },
    killGracePeriodSeconds: 1,
    labels: {},
  };
}

export function taskDocument(spec: TaskSpec): BerthDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name: spec.name, tenant: spec.tenant, labels: {} },
    spec,
  };
}

export async function createBrowserTestContexts(): Promise<BrowserTestClusters> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-dashboard-devcluster-'));
  const marker = `berth-browser-test-${process.pid}-${Date.now().toString(36)}`;
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
      await rm(dir, { recursive: true, force: true });
      if (first !== undefined) throw first;
    })();
    return closing;
  };

  try {
    const engine = await startEngine({
      stateDir: join(dir, 'engine'),
      nodes: [
        {
          count: NODE_COUNT,
          prefix: 'node',
          capacity: { cpu: 2000, memory: 2 * GiB, disk: 8 * GiB },
          // Away from the quick start's 31000+ so a devcluster running beside the tests never collides.
          ports: { begin: 45000, end: 45999 },
        },
      ],
    });
    stops.push(() => engine.stop({ gracePeriodMs: 0 }));

    const mesos = await startMesosMaster({
      engine,
      heartbeatIntervalSeconds: 1,
      allocationIntervalMs: 50,
      statusUpdateRetryMs: 500,
    });
    stops.push(() => mesos.close());

    let kubelet: VirtualKubelet | undefined;
    const kube = await startKubeCluster({
      stateDir: join(dir, 'kube'),
      podTerminationMs: null,
      bookmarkIntervalMs: 1000,
      podLogs: (request) => {
        if (kubelet === undefined) throw new Error('the virtual kubelet is not running');
        return kubelet.podLogs(request);
      },
      metrics: () => kubelet?.metrics() ?? { nodes: [], pods: [] },
      controllers: { onError: () => {} },
    });
    stops.push(() => kube.close());
    const kubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromFile(kube.kubeconfigPath);
      return kc;
    };
    const joined = await startVirtualKubelet({
      kubeConfig: kubeConfig(),
      engine,
      heartbeatSeconds: 1,
      leaseDurationSeconds: 10,
      backoff: { initialMs: 200, maxMs: 1000 },
      onError: () => {},
    });
    kubelet = joined;
    stops.push(() => joined.close({ deleteNodes: true }));

    const mesosAdapter = createMesosAdapter({
      masters: [mesos.url],
      framework: {
        name: 'berth-dashboard-browser-test',
        user: userInfo().username,
        roles: ['*'],
        failoverTimeoutSeconds: 60,
        checkpoint: true,
      },
      stateFile: join(dir, 'mesos-framework.sqlite'),
      refuseSeconds: 1,
      backoff: { initialMs: 20, maxMs: 200 },
      logPollIntervalMs: 200,
    });
    stops.push(() => mesosAdapter.close());
    const k8sAdapter = createK8sAdapter({
      kubeConfig: kubeConfig(),
      mode: 'berth',
      embeddedScheduler: true,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    stops.push(() => k8sAdapter.close());
    await Promise.all([mesosAdapter.connect(), k8sAdapter.connect()]);

    const adapters: [ClusterAdapter, ClusterAdapter] = [mesosAdapter, k8sAdapter];
    // What the tests expect to find: a 3-replica web Service on Mesos, a batch task on each face.
    await adapters[0].submit([
      {
        apiVersion: API_VERSION,
        kind: 'Service',
        metadata: { name: 'web', tenant: 'default', labels: {} },
        spec: { template: sleeperTask('web', marker), replicas: 3 },
      },
    ]);
    await adapters[1].submit([taskDocument(sleeperTask('etl-2', marker))]);

    return {
      contexts: [
        { name: BROWSER_CONTEXTS.mesos, backend: 'mesos', adapter: adapters[0] },
        { name: BROWSER_CONTEXTS.kubernetes, backend: 'kubernetes', adapter: adapters[1] },
      ],
      engine,
      mesos,
      kube,
      marker,
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
