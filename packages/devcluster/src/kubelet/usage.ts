/**
 * Resource usage of the kubelet's pods and nodes from the engine's per-task statistics, sampled
 * on an interval (as metrics-server scrapes kubelets): CPU as a rate between two samples, memory
 * as the last RSS. Serves the kubelet's `/stats/summary` and a `metrics.k8s.io` provider.
 */
import type { Engine } from '../engine/index.ts';
import type { MetricsProvider, NodeMetricsSample, PodMetricsSample } from '../kube/index.ts';
import type { PodManager } from './pod-manager.ts';

interface ContainerUsage {
  readonly name: string;
  readonly startTime: Date;
  /** Cumulative CPU time in nanoseconds. */
  readonly cpuNanoSeconds: number;
  readonly nanoCores: number;
  readonly memoryBytes: number;
}

interface PodUsage {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly containers: ContainerUsage[];
}

interface CpuSample {
  readonly at: number;
  readonly cpuSeconds: number;
}

export class UsageCollector {
  readonly #engine: Engine;
  readonly #pods: PodManager;
  readonly #nodeNames: () => readonly string[];
  readonly #startTime = new Date();
  #samples = new Map<string, CpuSample>();
  #usage: PodUsage[] = [];
  #sampledAt = new Date();
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | undefined = undefined;

  constructor(engine: Engine, pods: PodManager, nodeNames: () => readonly string[]) {
    this.#engine = engine;
    this.#pods = pods;
    this.#nodeNames = nodeNames;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Samples every running container now (after any sample already under way). */
  refresh(): Promise<void> {
    const next = (this.#refreshing ?? Promise.resolve()).then(() => this.#refresh());
    this.#refreshing = next;
    return next;
  }

  async #refresh(): Promise<void> {
    const now = Date.now();
    const next = new Map<string, CpuSample>();
    const byPod = new Map<string, PodUsage>();
    for (const c of this.#pods.runningContainers()) {
      let stats: Awaited<ReturnType<Engine['stats']>>;
      try {
        stats = await this.#engine.stats(c.taskId);
      } catch {
        continue; // ended meanwhile
      }
      const cpuSeconds = (stats.cpusUserTimeSecs ?? 0) + (stats.cpusSystemTimeSecs ?? 0);
      const before = this.#samples.get(c.taskId);
      const from = before ?? { at: c.startedAt.getTime(), cpuSeconds: 0 };
      const wall = (now - from.at) / 1000;
      const nanoCores = wall > 0 ? Math.max(0, Math.round(((cpuSeconds - from.cpuSeconds) / wall) * 1e9)) : 0;
      next.set(c.taskId, { at: now, cpuSeconds });
      const key = `${c.namespace}/${c.name}`;
      let pod = byPod.get(key);
      if (pod === undefined) {
        pod = { namespace: c.namespace, name: c.name, uid: c.uid, nodeName: c.nodeName, containers: [] };
        byPod.set(key, pod);
      }
      pod.containers.push({
        name: c.container,
        startTime: c.startedAt,
        cpuNanoSeconds: Math.round(cpuSeconds * 1e9),
        nanoCores,
        memoryBytes: stats.memRssBytes ?? 0,
      });
    }
    this.#samples = next;
    this.#usage = [...byPod.values()];
    this.#sampledAt = new Date(now);
  }

  /** For `startKubeApiServer({ metrics })`: the last sample, in metrics.k8s.io terms. */
  readonly metrics: MetricsProvider = () => {
    const quantity = (nano: number, bytes: number) => ({
      cpu: `${nano}n`,
      memory: `${Math.ceil(bytes / 1024)}Ki`,
    });
    const pods: PodMetricsSample[] = this.#usage.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      containers: p.containers.map((c) => ({ name: c.name, usage: quantity(c.nanoCores, c.memoryBytes) })),
    }));
    const nodes: NodeMetricsSample[] = this.#nodeNames().map((name) => {
      let nano = 0;
      let bytes = 0;
      for (const p of this.#usage) {
        if (p.nodeName !== name) continue;
        for (const c of p.containers) {
          nano += c.nanoCores;
          bytes += c.memoryBytes;
        }
      }
      return { name, usage: quantity(nano, bytes) };
    });
    return { nodes, pods };
  };

  /** The kubelet Summary API (`stats/v1alpha1`) document for one node. */
  summary(nodeName: string): Record<string, unknown> {
    const time = this.#sampledAt.toISOString();
    const cpu = (nano: number, total: number) => ({
      time,
      usageNanoCores: nano,
      usageCoreNanoSeconds: total,
    });
    const memory = (bytes: number) => ({ time, usageBytes: bytes, workingSetBytes: bytes, rssBytes: bytes });
    const pods = this.#usage.filter((p) => p.nodeName === nodeName);
    let nodeNano = 0;
    let nodeTotal = 0;
    let nodeBytes = 0;
    const podDocs = pods.map((p) => {
      const nano = p.containers.reduce((s, c) => s + c.nanoCores, 0);
      const total = p.containers.reduce((s, c) => s + c.cpuNanoSeconds, 0);
      const bytes = p.containers.reduce((s, c) => s + c.memoryBytes, 0);
      nodeNano += nano;
      nodeTotal += total;
      nodeBytes += bytes;
      return {
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        startTime: p.containers[0]?.startTime.toISOString() ?? time,
        containers: p.containers.map((c) => ({
          name: c.name,
          startTime: c.startTime.toISOString(),
          cpu: cpu(c.nanoCores, c.cpuNanoSeconds),
          memory: memory(c.memoryBytes),
        })),
        cpu: cpu(nano, total),
        memory: memory(bytes),
      };
    });
    return {
      node: {
        nodeName,
        startTime: this.#startTime.toISOString(),
        cpu: cpu(nodeNano, nodeTotal),
        memory: memory(nodeBytes),
      },
      pods: podDocs,
    };
  }
}
