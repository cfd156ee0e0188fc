/**
 * Berth's virtual kubelet: devcluster engine nodes that join any Kubernetes API server as Nodes
 * and run the pods bound to them. It is only an API client (through @kubernetes/client-node), so
 * the same code joins devcluster's Kubernetes face, a real control plane or a user's cluster.
 */

import { BerthError } from '@berth/core';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Engine } from '../engine/index.ts';
import type { MetricsProvider, PodLogProvider } from '../kube/index.ts';
import { COMPONENT, createKubeletClient, type KubeletRequestStats } from './kube-client.ts';
import { startKubeletServer } from './kubelet-server.ts';
import { NodeAgent } from './node-agent.ts';
import { type BackoffOptions, type ContainerLogOptions, PodManager } from './pod-manager.ts';
import { UsageCollector } from './usage.ts';

export interface VirtualKubeletOptions {
  /** Where to join: any API server a KubeConfig reaches. */
  readonly kubeConfig: KubeConfig;
  /** The started engine whose nodes become Nodes and which runs the pods. */
  readonly engine: Engine;
  /** Engine node ids to register (default: every node of the engine at start). */
  readonly nodes?: readonly string[];
  /** Run every container simulated, even those with a command (default false). */
  readonly simulated?: boolean;
  /** `spec.leaseDurationSeconds` of the node Leases (default 40, the kubelet's). */
  readonly leaseDurationSeconds?: number;
  /** Lease renewal interval (default 10 s: a quarter of the lease, as the kubelet). */
  readonly heartbeatSeconds?: number;
  /** Full node status heartbeat interval (default 300 s, the kubelet's nodeStatusReportFrequency). */
  readonly statusUpdateSeconds?: number;
  /** Where the kubelet API listens (default 127.0.0.1). */
  readonly host?: string;
  /** Its port (default 0: ephemeral; every Node advertises it). */
  readonly kubeletPort?: number;
  /** Capacity `pods` of every Node (default 110). */
  readonly maxPods?: number;
  /** Most API requests in flight at once (default 32). */
  readonly concurrency?: number;
  /** CrashLoopBackOff delays (default 10 s doubling to 5 min). */
  readonly backoff?: BackoffOptions;
  /** Write kubelet Events for pods (default true). */
  readonly events?: boolean;
  /** How often container usage is sampled for metrics (default 10 s). */
  readonly metricsIntervalSeconds?: number;
  /** Failed API calls the kubelet survives (default: printed as warnings). */
  readonly onError?: (error: unknown) => void;
}

export interface VirtualKubelet {
  /** Names of the Nodes it registered (the engine node ids). */
  readonly nodeNames: readonly string[];
  /** Port of the kubelet API on `host`. */
  readonly port: number;
  /** CA of the kubelet API's serving certificate. */
  readonly caPem: string;
  /** metrics.k8s.io data for `startKubeApiServer({ metrics })`. */
  readonly metrics: MetricsProvider;
  /** pods/log in process, for `startKubeApiServer({ podLogs })` (no network hop). */
  readonly podLogs: PodLogProvider;
  /** A container's log (what `/containerLogs/{ns}/{pod}/{container}` serves). */
  containerLog(
    namespace: string,
    pod: string,
    container: string,
    options?: ContainerLogOptions,
  ): AsyncGenerator<Uint8Array>;
  /** API requests sent so far, by kind. */
  requestStats(): KubeletRequestStats;
  /** Sample container usage now (otherwise every `metricsIntervalSeconds`). */
  refreshMetrics(): Promise<void>;
  /** Stops heartbeats, the pod watch and the kubelet API, and kills the containers it runs. */
  close(options?: { readonly deleteNodes?: boolean }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new BerthError('SPEC_INVALID', `${name} must be a positive number, got ${String(value)}`, {
      component: COMPONENT,
      hint: `Omit ${name} for the default (${fallback}) or pass a number above 0.`,
    });
  }
  return v;
}

export async function startVirtualKubelet(options: VirtualKubeletOptions): Promise<VirtualKubelet> {
  const { engine } = options;
  const leaseDurationSeconds = positive('leaseDurationSeconds', options.leaseDurationSeconds, 40);
  const heartbeatSeconds = positive('heartbeatSeconds', options.heartbeatSeconds, 10);
  const statusUpdateSeconds = positive('statusUpdateSeconds', options.statusUpdateSeconds, 300);
  const maxPods = positive('maxPods', options.maxPods, 110);
  const concurrency = positive('concurrency', options.concurrency, 32);
  const metricsIntervalSeconds = positive('metricsIntervalSeconds', options.metricsIntervalSeconds, 10);
  const backoff = {
    initialMs: positive('backoff.initialMs', options.backoff?.initialMs, 10_000),
    maxMs: positive('backoff.maxMs', options.backoff?.maxMs, 300_000),
  };
  if (heartbeatSeconds >= leaseDurationSeconds) {
    throw new BerthError(
      'SPEC_INVALID',
      `heartbeatSeconds (${heartbeatSeconds}) must be shorter than leaseDurationSeconds (${leaseDurationSeconds})`,
      {
        component: COMPONENT,
        hint: 'Renew well within the lease, e.g. heartbeatSeconds = leaseDurationSeconds / 4.',
      },
    );
  }
  if (!engine.running) {
    throw new BerthError('SPEC_INVALID', 'the engine is not running', {
      component: COMPONENT,
      hint: 'Pass a started engine: await startEngine(...) or await createEngine(...).start().',
    });
  }
  const nodeIds = [...(options.nodes ?? engine.nodes().map((n) => n.id))];
  const unknown = nodeIds.filter((id) => engine.node(id) === undefined);
  if (unknown.length > 0 || new Set(nodeIds).size !== nodeIds.length || nodeIds.length === 0) {
    throw new BerthError(
      'SPEC_INVALID',
      nodeIds.length === 0
        ? 'nodes is empty: the virtual kubelet needs at least one engine node'
        : unknown.length > 0
          ? `nodes names engine nodes that do not exist: ${unknown.slice(0, 5).join(', ')}`
          : 'nodes lists a node more than once',
      { component: COMPONENT, hint: 'Pass distinct ids from engine.nodes(), or omit nodes for all of them.' },
    );
  }
  const onError =
    options.onError ??
    ((error: unknown) => {
      process.emitWarning(error instanceof Error ? error.message : String(error), 'BerthVirtualKubelet');
    });
  const client = createKubeletClient(options.kubeConfig, concurrency);
  const owned = new Set(nodeIds);
  const nodeNames = () => nodeIds;
  const alive = (name: string) => engine.node(name)?.condition === 'ready';
  const pods = new PodManager({
    engine,
    client,
    owns: (name) => owned.has(name),
    alive,
    simulated: options.simulated ?? false,
    backoff,
    events: options.events ?? true,
    onError,
  });
  const usage = new UsageCollector(engine, pods, nodeNames);
  const server = await startKubeletServer({
    host: options.host ?? '127.0.0.1',
    port: options.kubeletPort ?? 0,
    pods,
    usage,
    nodeNames,
  });
  const agent = new NodeAgent({
    engine,
    client,
    nodeIds,
    kubeletPort: server.port,
    maxPods,
    concurrency,
    leaseDurationSeconds,
    heartbeatSeconds,
    statusUpdateSeconds,
    onError,
  });
  const unsubscribe = engine.events.subscribe((e) => {
    if (e.type === 'node-recovered' && owned.has(e.nodeId)) agent.wake(e.nodeId);
  });
  try {
    await agent.start();
    await pods.start();
  } catch (error) {
    unsubscribe();
    await pods.close().catch(() => {});
    await agent.close(false);
    await server.close();
    client.close();
    throw error;
  }
  usage.start(metricsIntervalSeconds * 1000);

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { readonly deleteNodes?: boolean } = {}): Promise<void> => {
    closing ??= (async () => {
      unsubscribe();
      usage.stop();
      await pods.close();
      await agent.close(closeOptions.deleteNodes ?? false);
      await server.close();
      client.close();
    })();
    return closing;
  };
  return {
    nodeNames: nodeIds,
    port: server.port,
    caPem: server.caPem,
    metrics: usage.metrics,
    podLogs: (request) => {
      const name = (request.pod.metadata as { name?: string } | undefined)?.name ?? '';
      return pods.containerLog(request.namespace, name, request.container, {
        follow: request.follow,
        previous: request.previous,
        timestamps: request.timestamps,
        ...(request.tailLines === undefined ? {} : { tailLines: request.tailLines }),
        signal: request.signal,
      });
    },
    containerLog: (namespace, pod, container, logOptions) =>
      pods.containerLog(namespace, pod, container, logOptions),
    requestStats: () => client.stats(),
    refreshMetrics: () => usage.refresh(),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
