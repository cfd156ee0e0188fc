/**
 * Registers engine nodes as Nodes and keeps them alive the way a kubelet does: a Lease in
 * `kube-node-lease` renewed every `heartbeatSeconds` (one PUT of the cached lease — the minimum a
 * renewal can cost) and a full status heartbeat every `statusUpdateSeconds`. One timer drives every
 * node; renewals are spread over the interval and go through the client's bounded queue, so
 * thousands of nodes cost a steady request rate instead of bursts.
 */

import { BerthError } from '@berth/core';
import type { V1Node } from '@kubernetes/client-node';
import type { Engine, EngineNode } from '../engine/index.ts';
import { COMPONENT, describeError, type KubeletClient, statusOf } from './kube-client.ts';
import { Limiter } from './limiter.ts';
import { LABELS, NOT_READY_TAINT, nodeConditions, nodeObject, nodeStatus } from './node-object.ts';

const MERGE_PATCH_TYPE = 'application/merge-patch+json';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeAgentOptions {
  readonly engine: Engine;
  readonly client: KubeletClient;
  readonly nodeIds: readonly string[];
  readonly kubeletPort: number;
  readonly maxPods: number;
  /** The client's request concurrency (registrations use half of it). */
  readonly concurrency: number;
  readonly leaseDurationSeconds: number;
  readonly heartbeatSeconds: number;
  readonly statusUpdateSeconds: number;
  readonly onError: (error: unknown) => void;
}

/** A Lease as JSON (the fast path skips client-node's models). */
interface LeaseJson {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: Record<string, unknown>;
  readonly spec?: Record<string, unknown>;
}

/** Now as a MicroTime: RFC 3339 with exactly six fractional digits, as the apiserver parses it. */
function microTime(): string {
  return new Date().toISOString().replace(/Z$/, '000Z');
}

interface NodeState {
  readonly id: string;
  uid: string | undefined;
  lease: LeaseJson | undefined;
  nextLeaseAt: number;
  nextStatusAt: number;
  leaseBusy: boolean;
  statusBusy: boolean;
  readySince: Date;
  registered: boolean;
  /** Position in (0, 1] among the kubelet's nodes, to spread status heartbeats. */
  readonly slot: number;
}

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #nodes = new Map<string, NodeState>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    options.nodeIds.forEach((id, i) => {
      this.#nodes.set(id, {
        id,
        uid: undefined,
        lease: undefined,
        nextLeaseAt: 0,
        nextStatusAt: 0,
        leaseBusy: false,
        statusBusy: false,
        readySince: new Date(),
        registered: false,
        slot: (i + 1) / options.nodeIds.length,
      });
    });
  }

  owns(nodeName: string): boolean {
    return this.#nodes.has(nodeName);
  }

  /** A failed engine node is a dead kubelet: no heartbeats, no status. */
  alive(nodeName: string): boolean {
    return this.#o.engine.node(nodeName)?.condition === 'ready';
  }

  /** Registers every node (Node, status, Lease), then starts the heartbeat timer. */
  async start(): Promise<void> {
    await this.#ensureLeaseNamespace();
    // The timer runs while nodes register: each node's renewals start one interval after its own
    // registration, so a long join never lets early leases go stale, and the renewals inherit the
    // spread of the registrations (the request queue spaces those out).
    const tickMs = Math.max(20, Math.min(250, (this.#o.heartbeatSeconds * 1000) / 20));
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref?.();
    const all = [...this.#nodes.values()];
    const failures: string[] = [];
    // A few nodes register at a time, so renewals of registered nodes never queue behind thousands
    // of pending registrations.
    const joining = new Limiter(Math.max(1, Math.floor(this.#o.concurrency / 2)));
    await Promise.all(
      all.map((n) =>
        joining
          .run(() => this.#register(n))
          .catch((error: unknown) => {
            if (error instanceof BerthError && error.code === 'CONFLICT') throw error;
            failures.push(`${n.id}: ${describeError(error)}`);
          }),
      ),
    );
    if (failures.length > 0) {
      throw new BerthError(
        'BACKEND_UNAVAILABLE',
        `could not register ${failures.length} node(s): ${failures.slice(0, 3).join('; ')}`,
        {
          component: COMPONENT,
          hint: 'Check that the kubeconfig points at a reachable API server and its user may create nodes and leases.',
        },
      );
    }
  }

  async close(deleteNodes: boolean): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inflight]);
    if (!deleteNodes) return;
    const { client } = this.#o;
    await Promise.allSettled(
      [...this.#nodes.values()].flatMap((n) => [
        client.call('delete node', () => client.core.deleteNode({ name: n.id })),
        client.call('delete lease', () =>
          client.coordination.deleteNamespacedLease({ name: n.id, namespace: LEASE_NAMESPACE }),
        ),
      ]),
    );
  }

  /** Renew now (after an engine node recovers). */
  wake(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    if (n === undefined) return;
    n.nextLeaseAt = 0;
    n.nextStatusAt = 0;
    n.readySince = new Date();
  }

  #tick(): void {
    if (this.#closed) return;
    const now = Date.now();
    const period = this.#o.heartbeatSeconds * 1000;
    const statusPeriod = this.#o.statusUpdateSeconds * 1000;
    for (const n of this.#nodes.values()) {
      if (!n.registered || !this.alive(n.id)) continue;
      if (!n.leaseBusy && now >= n.nextLeaseAt) {
        n.nextLeaseAt =
          n.nextLeaseAt === 0 || now - n.nextLeaseAt > period ? now + period : n.nextLeaseAt + period;
        this.#track(this.#renewLease(n));
      }
      if (!n.statusBusy && now >= n.nextStatusAt) {
        n.nextStatusAt =
          n.nextStatusAt === 0 || now - n.nextStatusAt > statusPeriod
            ? now + statusPeriod
            : n.nextStatusAt + statusPeriod;
        this.#track(this.#heartbeat(n));
      }
    }
  }

  #track(p: Promise<unknown>): void {
    this.#inflight.add(p);
    p.finally(() => this.#inflight.delete(p));
  }

  async #ensureLeaseNamespace(): Promise<void> {
    const { client } = this.#o;
    try {
      await client.call('get namespace', () => client.core.readNamespace({ name: LEASE_NAMESPACE }));
    } catch (error) {
      if (statusOf(error) !== 404) {
        throw new BerthError('BACKEND_UNAVAILABLE', `cannot reach the API server: ${describeError(error)}`, {
          component: COMPONENT,
          hint: 'Check the kubeconfig (server URL, CA, credentials).',
          cause: error,
        });
      }
      await client
        .call('create namespace', () =>
          client.core.createNamespace({ body: { metadata: { name: LEASE_NAMESPACE } } }),
        )
        .catch((e: unknown) => {
          if (statusOf(e) !== 409) throw e;
        });
    }
  }

  #engineNode(id: string): EngineNode {
    const node = this.#o.engine.node(id);
    if (node === undefined) {
      throw new BerthError('NOT_FOUND', `engine node ${id} does not exist`, {
        component: COMPONENT,
        hint: "Pass ids of the engine's nodes in `nodes` (engine.nodes()).",
      });
    }
    return node;
  }

  async #register(n: NodeState): Promise<void> {
    const { client } = this.#o;
    const engineNode = this.#engineNode(n.id);
    const now = new Date();
    const objectOptions = { kubeletPort: this.#o.kubeletPort, maxPods: this.#o.maxPods, now, ready: true };
    const body = nodeObject(engineNode, objectOptions);
    const path = `/api/v1/nodes/${encodeURIComponent(n.id)}`;
    let node: V1Node;
    try {
      node = (await client.json('create node', 'POST', '/api/v1/nodes', body)) as V1Node;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const existing = (await client.json('get node', 'GET', path)) as V1Node;
      if (existing.metadata?.labels?.[LABELS.virtual] !== 'true') {
        throw new BerthError(
          'CONFLICT',
          `node ${n.id} already exists and was not registered by a Berth virtual kubelet`,
          {
            component: COMPONENT,
            hint: 'Name the engine nodes differently (e.g. another prefix), or delete that Node first.',
          },
        );
      }
      const patch = {
        metadata: { labels: body.metadata?.labels, annotations: body.metadata?.annotations },
        spec: { taints: body.spec?.taints ?? null },
      };
      node = (await client.json('patch node', 'PATCH', path, patch, MERGE_PATCH_TYPE)) as V1Node;
    }
    n.uid = node.metadata?.uid;
    // A real control plane taints new nodes not-ready at admission; the owner clears it once Ready.
    const taints = node.spec?.taints ?? [];
    if (taints.some((t) => t.key === NOT_READY_TAINT)) {
      const kept = taints.filter((t) => t.key !== NOT_READY_TAINT);
      await client.json(
        'patch node',
        'PATCH',
        path,
        { spec: { taints: kept.length === 0 ? null : kept } },
        MERGE_PATCH_TYPE,
      );
    }
    // Status is a subresource: write it explicitly (create may drop it).
    n.readySince = now;
    await client.json(
      'patch node status',
      'PATCH',
      `${path}/status`,
      { status: nodeStatus(engineNode, objectOptions, now) },
      MERGE_PATCH_TYPE,
    );
    await this.#createLease(n);
    const registered = Date.now();
    n.nextLeaseAt = registered + this.#o.heartbeatSeconds * 1000;
    // Full status heartbeats spread evenly over their (long) interval by the node's slot.
    n.nextStatusAt = registered + this.#o.statusUpdateSeconds * 1000 * n.slot;
    n.registered = true;
  }

  #leasePath(n: NodeState, named: boolean): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases${named ? `/${encodeURIComponent(n.id)}` : ''}`;
  }

  #leaseBody(n: NodeState): LeaseJson {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: n.id,
        namespace: LEASE_NAMESPACE,
        ...(n.uid === undefined
          ? {}
          : { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.id, uid: n.uid }] }),
      },
      spec: {
        holderIdentity: n.id,
        leaseDurationSeconds: this.#o.leaseDurationSeconds,
        renewTime: microTime(),
      },
    };
  }

  async #createLease(n: NodeState): Promise<void> {
    const { client } = this.#o;
    try {
      n.lease = (await client.json(
        'create lease',
        'POST',
        this.#leasePath(n, false),
        this.#leaseBody(n),
      )) as LeaseJson;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      n.lease = (await client.json('get lease', 'GET', this.#leasePath(n, true))) as LeaseJson;
      await this.#renewLease(n);
    }
  }

  async #renewLease(n: NodeState): Promise<void> {
    const { client } = this.#o;
    n.leaseBusy = true;
    try {
      // One PUT of the cached lease (its resourceVersion guards against lost updates).
      const base = n.lease ?? this.#leaseBody(n);
      const body: LeaseJson = {
        ...base,
        spec: {
          ...base.spec,
          holderIdentity: n.id,
          leaseDurationSeconds: this.#o.leaseDurationSeconds,
          renewTime: microTime(),
        },
      };
      n.lease = (await client.json('renew lease', 'PUT', this.#leasePath(n, true), body)) as LeaseJson;
    } catch (error) {
      const code = statusOf(error);
      if (code === 409) {
        // Someone else wrote it: re-read; the next tick renews on top of it.
        n.lease = (await client.json('get lease', 'GET', this.#leasePath(n, true)).catch(() => undefined)) as
          | LeaseJson
          | undefined;
        n.nextLeaseAt = 0;
      } else if (code === 404) {
        n.lease = undefined;
        await this.#createLease(n).catch((e: unknown) => this.#o.onError(e));
      } else if (!this.#closed) this.#o.onError(error);
    } finally {
      n.leaseBusy = false;
    }
  }

  async #heartbeat(n: NodeState): Promise<void> {
    const { client } = this.#o;
    n.statusBusy = true;
    try {
      await client.json(
        'patch node status',
        'PATCH',
        `/api/v1/nodes/${encodeURIComponent(n.id)}/status`,
        { status: { conditions: nodeConditions(true, new Date(), n.readySince) } },
        MERGE_PATCH_TYPE,
      );
    } catch (error) {
      if (statusOf(error) === 404 && !this.#closed) {
        // The Node was deleted under us: register it again, as a kubelet does.
        n.registered = false;
        await this.#register(n).catch((e: unknown) => this.#o.onError(e));
      } else if (!this.#closed) this.#o.onError(error);
    } finally {
      n.statusBusy = false;
    }
  }
}
