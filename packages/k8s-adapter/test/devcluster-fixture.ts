/**
 * devcluster's Kubernetes face + an engine joined by the virtual kubelet, for the adapter's tests.
 * The probe reads the API server's store and the engine directly — never through the adapter.
 */
import type { BackendProbe } from '@berth/adapter-testkit';
import {
  type Engine,
  type KubeCluster,
  type KubeClusterOptions,
  startEngine,
  startKubeCluster,
  startVirtualKubelet,
  type VirtualKubelet,
} from '@berth/devcluster';
import { KubeConfig } from '@kubernetes/client-node';
import { type BerthScheduler, startBerthScheduler } from '../src/berth-scheduler.ts';
import { createK8sAdapter, type K8sAdapter, type K8sAdapterOptions } from '../src/k8s-adapter.ts';

export interface KubeTestCluster {
  readonly server: KubeCluster;
  readonly engine: Engine;
  readonly kubelet: VirtualKubelet;
  readonly kubeConfig: () => KubeConfig;
  readonly probe: BackendProbe;
  /** Pod creations the API server accepted, by `namespace/name`. */
  readonly creations: Map<string, number>;
  /** Bindings the API server accepted, by `namespace/name`. */
  readonly bindings: Map<string, number>;
  adapter(overrides?: Partial<K8sAdapterOptions>): K8sAdapter;
  /** A Berth scheduler on this cluster (no leader election unless asked). */
  scheduler(overrides?: Parameters<typeof startBerthScheduler>[0]): Promise<BerthScheduler>;
  close(): Promise<void>;
}

export interface KubeTestClusterOptions {
  readonly nodes?: number;
  /** devcluster's controllers (default scheduler, Deployment/ReplicaSet/Job/EndpointSlice/GC/HPA); default on. */
  readonly controllers?: KubeClusterOptions['controllers'];
  /** How often the virtual kubelet samples container cpu for metrics.k8s.io (default 10 s). */
  readonly metricsIntervalSeconds?: number;
}

/**
 * The face with its controllers (so Deployments get pods and kube-scheduler's stand-in places
 * delegate-mode pods), pods/log and metrics.k8s.io served by the virtual kubelet.
 */
export async function startKubeTestCluster(options: KubeTestClusterOptions = {}): Promise<KubeTestCluster> {
  let joined: VirtualKubelet | undefined;
  const server = await startKubeCluster({
    podTerminationMs: null,
    bookmarkIntervalMs: 1000,
    podLogs: (request) => {
      if (joined === undefined) throw new Error('the virtual kubelet is not running');
      return joined.podLogs(request);
    },
    metrics: () => joined?.metrics() ?? { nodes: [], pods: [] },
    controllers: options.controllers ?? { onError: () => {} },
  });
  const kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    return kc;
  };
  const engine = await startEngine(
    options.nodes === undefined
      ? { preset: 'laptop' }
      : { nodes: [{ count: options.nodes, capacity: { cpu: 4000, memory: 8 * 1024 ** 3 } }] },
  );
  const kubelet = await startVirtualKubelet({
    kubeConfig: kubeConfig(),
    engine,
    heartbeatSeconds: 1,
    ...(options.metricsIntervalSeconds === undefined
      ? {}
      : { metricsIntervalSeconds: options.metricsIntervalSeconds }),
    leaseDurationSeconds: 10,
    backoff: { initialMs: 200, maxMs: 1000 },
    onError: () => {},
  });
  joined = kubelet;
  const creations = new Map<string, number>();
  const bindings = new Map<string, number>();
  const seen = new Set<string>();
  const stopWatch = server.store.watch('pods', '', {}, (e) => {
    const meta = (e.object.metadata ?? {}) as { name?: string; namespace?: string; uid?: string };
    const key = `${meta.namespace}/${meta.name}`;
    if (e.type === 'ADDED' && meta.uid !== undefined && !seen.has(meta.uid)) {
      seen.add(meta.uid);
      creations.set(key, (creations.get(key) ?? 0) + 1);
    }
    const spec = (e.object.spec ?? {}) as { nodeName?: string };
    if (e.type === 'MODIFIED' && spec.nodeName && meta.uid !== undefined && !seen.has(`bound:${meta.uid}`)) {
      seen.add(`bound:${meta.uid}`);
      bindings.set(key, (bindings.get(key) ?? 0) + 1);
    }
  });
  const podOf = (taskId: string) => `default/${taskId}`;
  const probe: BackendProbe = {
    launchCount: (taskId) => creations.get(podOf(taskId)) ?? 0,
    isRunning: (taskId) =>
      engine.tasks().some((t) => t.labels['berth.dev/pod'] === podOf(taskId) && t.state === 'RUNNING'),
  };
  const schedulers: BerthScheduler[] = [];
  return {
    server,
    engine,
    kubelet,
    kubeConfig,
    probe,
    creations,
    bindings,
    adapter: (overrides = {}) =>
      createK8sAdapter({ kubeConfig: kubeConfig(), backoff: { initialMs: 50, maxMs: 500 }, ...overrides }),
    async scheduler(overrides) {
      const s = await startBerthScheduler({
        kubeConfig: kubeConfig(),
        leaderElection: false,
        retryUnschedulableMs: 300,
        ...overrides,
      });
      schedulers.push(s);
      return s;
    },
    async close() {
      for (const s of schedulers) await s.close();
      stopWatch();
      await kubelet.close();
      await engine.stop();
      await server.close();
    },
  };
}
