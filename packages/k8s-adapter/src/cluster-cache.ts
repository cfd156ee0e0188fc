/**
 * The node and pod informers and the indexes over them: pods by namespace/name and by node, and
 * the pods the Berth scheduler has bound but not yet seen bound ("assumed", as kube-scheduler's
 * cache keeps them). From these it builds the placement snapshot: each node's allocatable minus
 * the requests of every non-terminated pod on it (Berth's and everyone else's), with the
 * init-container max rule and pod overhead applied when each pod was cached.
 */
import {
  type BerthError,
  type Clock,
  type ClusterNode,
  type ClusterSnapshot,
  createSnapshot,
  PortRanges,
  Resources,
  type RunningTask,
  type Snapshot,
  type SnapshotNodeInput,
  systemClock,
} from '@berth/core';
import { Informer, type InformerHandler } from './informer.ts';
import type { KubeClient } from './kube-client.ts';
import { type NodeRecord, nodeRecord, type PodRecord, podKey, podRecord } from './records.ts';

export interface ClusterCacheOptions {
  readonly client: KubeClient;
  readonly clock?: Clock;
  readonly onError?: (error: BerthError) => void;
  /** Informer back-off (see `InformerOptions.backoff`). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Items per list page (default 500). */
  readonly pageSize?: number;
  /** How long an assumed binding counts before it is dropped unseen (default 30 s, kube-scheduler's). */
  readonly assumeTtlMs?: number;
}

interface Assumed {
  readonly pod: PodRecord;
  readonly node: string;
  readonly until: number;
}

const ALL_PORTS = PortRanges.of({ begin: 1, end: 65535 });

/** Pods that hold resources on a node: bound and not Succeeded/Failed. */
const holds = (p: PodRecord): p is PodRecord & { nodeName: string } =>
  p.nodeName !== undefined && !p.terminated;

export class ClusterCache {
  readonly nodes: Informer<NodeRecord>;
  readonly pods: Informer<PodRecord>;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #nodeByName = new Map<string, NodeRecord>();
  readonly #podByKey = new Map<string, PodRecord>();
  readonly #podsByNode = new Map<string, Map<string, PodRecord>>();
  readonly #assumed = new Map<string, Assumed>();

  constructor(options: ClusterCacheOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#ttl = options.assumeTtlMs ?? 30_000;
    const common = {
      client: options.client,
      clock: this.#clock,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    };
    this.nodes = new Informer<NodeRecord>({
      ...common,
      path: '/api/v1/nodes',
      transform: nodeRecord,
      keyOf: (n) => n.uid,
      resourceVersionOf: (n) => n.resourceVersion,
    });
    this.pods = new Informer<PodRecord>({
      ...common,
      path: '/api/v1/pods',
      transform: podRecord,
      keyOf: (p) => p.uid,
      resourceVersionOf: (p) => p.resourceVersion,
    });
    this.nodes.on({
      add: (n) => this.#nodeByName.set(n.name, n),
      update: (_, n) => this.#nodeByName.set(n.name, n),
      delete: (n) => {
        if (this.#nodeByName.get(n.name)?.uid === n.uid) this.#nodeByName.delete(n.name);
      },
    });
    this.pods.on({
      add: (p) => this.#index(p),
      update: (old, p) => {
        this.#unindex(old);
        this.#index(p);
      },
      delete: (p) => {
        this.#unindex(p);
        this.#assumed.delete(p.uid);
      },
    });
  }

  #index(p: PodRecord): void {
    this.#podByKey.set(podKey(p.namespace, p.name), p);
    if (holds(p)) {
      let on = this.#podsByNode.get(p.nodeName);
      if (on === undefined) {
        on = new Map();
        this.#podsByNode.set(p.nodeName, on);
      }
      on.set(p.uid, p);
      // Seen bound: the real pod now counts, the assumption is done.
      this.#assumed.delete(p.uid);
    } else if (p.terminated) this.#assumed.delete(p.uid);
  }

  #unindex(p: PodRecord): void {
    const key = podKey(p.namespace, p.name);
    if (this.#podByKey.get(key)?.uid === p.uid) this.#podByKey.delete(key);
    if (p.nodeName !== undefined) this.#podsByNode.get(p.nodeName)?.delete(p.uid);
  }

  /** Lists nodes and pods (rejecting when the cluster cannot be read), then watches both. */
  async start(): Promise<void> {
    await Promise.all([this.nodes.start(), this.pods.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.nodes.stop(), this.pods.stop()]);
  }

  onPod(handler: InformerHandler<PodRecord>): () => void {
    return this.pods.on(handler);
  }

  onNode(handler: InformerHandler<NodeRecord>): () => void {
    return this.nodes.on(handler);
  }

  node(name: string): NodeRecord | undefined {
    return this.#nodeByName.get(name);
  }

  nodeList(): NodeRecord[] {
    return [...this.#nodeByName.values()];
  }

  pod(namespace: string, name: string): PodRecord | undefined {
    return this.#podByKey.get(podKey(namespace, name));
  }

  podList(): IterableIterator<PodRecord> {
    return this.#podByKey.values();
  }

  get podCount(): number {
    return this.#podByKey.size;
  }

  /** Counts `pod` on `node` until it is seen bound, deleted, or the TTL passes. */
  assume(pod: PodRecord, node: string): void {
    this.#assumed.set(pod.uid, { pod, node, until: this.#clock.now() + this.#ttl });
  }

  /** Drops an assumption (the binding failed). */
  forget(uid: string): void {
    this.#assumed.delete(uid);
  }

  isAssumed(uid: string): boolean {
    return this.#assumed.has(uid);
  }

  get assumedCount(): number {
    return this.#assumed.size;
  }

  /** Pods on `node` that hold resources, including assumed ones. */
  *podsOn(node: string): IterableIterator<PodRecord> {
    const bound = this.#podsByNode.get(node);
    if (bound !== undefined) yield* bound.values();
    for (const a of this.#assumed.values()) if (a.node === node && !bound?.has(a.pod.uid)) yield a.pod;
  }

  #expireAssumed(): void {
    const now = this.#clock.now();
    for (const [uid, a] of this.#assumed) if (a.until <= now) this.#assumed.delete(uid);
  }

  #assumedByNode(): Map<string, PodRecord[]> {
    this.#expireAssumed();
    const by = new Map<string, PodRecord[]>();
    for (const a of this.#assumed.values()) {
      let list = by.get(a.node);
      if (list === undefined) {
        list = [];
        by.set(a.node, list);
      }
      list.push(a.pod);
    }
    return by;
  }

  #nodeInput(n: NodeRecord, assumed: readonly PodRecord[] | undefined): SnapshotNodeInput {
    let allocated = Resources.ZERO;
    const tasks: RunningTask[] = [];
    let usedPorts: number[] | undefined;
    const count = (p: PodRecord) => {
      allocated = allocated.add(p.requests);
      tasks.push(p.task);
      for (const port of p.ports) {
        if (port.hostPort === undefined) continue;
        usedPorts ??= [];
        usedPorts.push(port.hostPort);
      }
    };
    const bound = this.#podsByNode.get(n.name);
    if (bound !== undefined) for (const p of bound.values()) count(p);
    if (assumed !== undefined) for (const p of assumed) if (!bound?.has(p.uid)) count(p);
    return {
      id: n.name,
      hostname: n.hostname,
      labels: n.labels,
      taints: n.taints,
      allocatable: n.allocatable,
      allocated,
      freePorts:
        usedPorts === undefined ? ALL_PORTS : ALL_PORTS.sub(PortRanges.fromPorts(new Set(usedPorts))),
      // A NotReady node takes no new pods (the node lifecycle controller taints it; Berth does not wait for that).
      unschedulable: n.unschedulable || !n.ready,
      tasks,
    };
  }

  /** The placement engine's snapshot: every node, and every pod that holds resources (assumed ones included). */
  placementSnapshot(): Snapshot {
    const assumed = this.#assumedByNode();
    const inputs: SnapshotNodeInput[] = [];
    for (const n of this.#nodeByName.values()) inputs.push(this.#nodeInput(n, assumed.get(n.name)));
    return createSnapshot(inputs);
  }

  clusterNode(n: NodeRecord): ClusterNode {
    let allocated = Resources.ZERO;
    for (const p of this.podsOn(n.name)) allocated = allocated.add(p.requests);
    return {
      id: n.name,
      hostname: n.hostname,
      labels: n.labels,
      taints: n.taints,
      allocatable: n.allocatable,
      allocated,
      ready: n.ready,
      unschedulable: n.unschedulable,
    };
  }

  /** The adapter-level snapshot (`ClusterAdapter.snapshot()`). */
  clusterSnapshot(): ClusterSnapshot {
    const nodes: ClusterNode[] = [];
    const allocations: ClusterSnapshot['allocations'][number][] = [];
    for (const n of this.#nodeByName.values()) {
      nodes.push(this.clusterNode(n));
      for (const p of this.podsOn(n.name)) {
        const service = p.labels['berth.dev/service'];
        allocations.push({
          taskId: p.labels['berth.dev/task-id'] ?? p.name,
          nodeId: n.name,
          resources: p.requests,
          tenant: p.namespace,
          priority: p.priority,
          ...(service === undefined ? {} : { service }),
        });
      }
    }
    return { backend: 'kubernetes', takenAt: this.#clock.now(), nodes, allocations };
  }
}
