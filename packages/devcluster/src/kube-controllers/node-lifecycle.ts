/**
 * The node lifecycle controller: a node whose Lease (kube-node-lease) and Ready heartbeat stop
 * changing for the grace period gets every condition set to Unknown ("Kubelet stopped posting node
 * status."); nodes are tainted from their Ready condition — `node.kubernetes.io/unreachable`
 * (Unknown) or `node.kubernetes.io/not-ready` (False), NoSchedule and NoExecute — and untainted
 * when Ready again. Its taint manager evicts pods from NoExecute-tainted nodes: at once when they
 * do not tolerate the taint, else after their `tolerationSeconds` (300 s from the
 * DefaultTolerationSeconds admission), through the Eviction API, so graceful deletion applies.
 */
import { type TimerHandle, toleratesTaint } from '@berth/core';
import type { Controller, ControllerContext } from './controller.ts';
import {
  condition,
  isDeleting,
  isTerminal,
  type JsonObject,
  keyOf,
  nameOf,
  namespaceOf,
  nodeNameOf,
  num,
  obj,
  objs,
  parseTime,
  str,
  timestamp,
} from './objects.ts';
import { isConflictOrGone, toBerthError, WorkQueue } from './runtime.ts';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const LEASE_NAMESPACE = 'kube-node-lease';
const COMPONENT = 'node-controller';

export interface NodeLifecycleOptions {
  /** Silence after which a node is Unknown (`--node-monitor-grace-period`, 40,000 ms). */
  readonly gracePeriodMs?: number;
  /** How often nodes are checked (`--node-monitor-period`, 5,000 ms). */
  readonly monitorPeriodMs?: number;
}

interface Probe {
  /** Local time the controller last saw the node's heartbeat change. */
  at: number;
  renew: string;
  heartbeat: string;
}

interface CoreTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

function taintsOf(node: JsonObject): JsonObject[] {
  return objs(obj(node.spec).taints);
}

/** Seconds the pod may stay on a node with these NoExecute taints: 0 = now, Infinity = forever. */
export function tolerationWindow(pod: JsonObject, noExecute: readonly JsonObject[]): number {
  const tolerations = objs(obj(pod.spec).tolerations);
  let window = Number.POSITIVE_INFINITY;
  for (const t of noExecute) {
    const taint: CoreTaint = {
      key: str(t.key),
      effect: 'NoExecute',
      ...(typeof t.value === 'string' ? { value: t.value } : {}),
    };
    const matching = tolerations.filter((tol) =>
      toleratesTaint(
        {
          operator: str(tol.operator) === 'Exists' ? 'Exists' : 'Equal',
          ...(typeof tol.key === 'string' ? { key: tol.key } : {}),
          ...(typeof tol.value === 'string' ? { value: tol.value } : {}),
          ...(typeof tol.effect === 'string' && tol.effect !== ''
            ? { effect: tol.effect as CoreTaint['effect'] }
            : {}),
        },
        taint,
      ),
    );
    if (matching.length === 0) return 0;
    for (const m of matching) {
      const s = num(m.tolerationSeconds);
      if (s !== undefined) window = Math.min(window, Math.max(0, s));
    }
  }
  return window;
}

export function startNodeLifecycle(ctx: ControllerContext, options: NodeLifecycleOptions = {}): Controller {
  const { api, clock } = ctx;
  const grace = options.gracePeriodMs ?? 40_000;
  const period = options.monitorPeriodMs ?? 5_000;
  const nodes = ctx.informers.get('nodes');
  const leases = ctx.informers.get('leases.coordination.k8s.io');
  const pods = ctx.informers.get('pods');
  const probes = new Map<string, Probe>();
  /** pod key → eviction timer. */
  const evictions = new Map<string, { at: number; handle: TimerHandle }>();

  const observe = (name: string) => {
    const node = nodes.get('', name);
    if (node === undefined) {
      probes.delete(name);
      return;
    }
    const lease = leases.get(LEASE_NAMESPACE, name);
    const renew = lease === undefined ? '' : str(obj(lease.spec).renewTime);
    const heartbeat = str(condition(node, 'Ready')?.lastHeartbeatTime);
    const p = probes.get(name);
    if (p === undefined) probes.set(name, { at: clock.now(), renew, heartbeat });
    else if (p.renew !== renew || p.heartbeat !== heartbeat) {
      p.at = clock.now();
      p.renew = renew;
      p.heartbeat = heartbeat;
    }
  };

  const monitor = (name: string) => {
    observe(name);
    const node = nodes.get('', name);
    const p = probes.get(name);
    if (node === undefined || p === undefined) return;
    const now = clock.now();
    const ready = condition(node, 'Ready');
    // Silent for the grace period: everything the kubelet reports becomes Unknown.
    if (now - p.at >= grace && ready?.status !== 'Unknown') {
      const types = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
      const existing = objs(obj(node.status).conditions);
      const conditions = [
        ...existing.filter((c) => !types.includes(str(c.type))),
        ...types.map((type) => {
          const old = existing.find((c) => c.type === type);
          return {
            type,
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
            lastHeartbeatTime: old?.lastHeartbeatTime ?? null,
            lastTransitionTime: timestamp(now),
          };
        }),
      ];
      api.patch('nodes', '', name, 'merge', { status: { conditions } }, { subresource: 'status' });
      ctx.events.record(
        { apiVersion: 'v1', kind: 'Node', object: node },
        'Normal',
        'NodeNotReady',
        `Node ${name} status is now: NodeNotReady`,
        COMPONENT,
      );
      return; // the write comes back through the informer and taints the node
    }
    if (now - p.at < grace) queue.addAfter(name, grace - (now - p.at) + 1);
    // Taints follow the Ready condition.
    const status = str(ready?.status);
    const wanted =
      status === 'Unknown' ? UNREACHABLE_TAINT : status === 'False' ? NOT_READY_TAINT : undefined;
    const taints = taintsOf(node);
    const kept = taints.filter(
      (t) =>
        (t.key !== UNREACHABLE_TAINT && t.key !== NOT_READY_TAINT) ||
        (t.key === wanted && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')),
    );
    if (wanted !== undefined) {
      for (const effect of ['NoSchedule', 'NoExecute']) {
        if (!kept.some((t) => t.key === wanted && t.effect === effect))
          kept.push({
            key: wanted,
            effect,
            ...(effect === 'NoExecute' ? { timeAdded: timestamp(now) } : {}),
          });
      }
    }
    if (kept.length !== taints.length || kept.some((t, i) => t !== taints[i])) {
      api.patch('nodes', '', name, 'merge', { spec: { taints: kept.length === 0 ? null : kept } });
      return;
    }
    // Taint manager: pods on this node under NoExecute taints.
    const noExecute = taints.filter((t) => t.effect === 'NoExecute');
    for (const pod of pods.list()) if (nodeNameOf(pod) === name) schedulePodEviction(pod, noExecute);
  };

  const cancelEviction = (key: string) => {
    const e = evictions.get(key);
    if (e !== undefined) clock.clearTimeout(e.handle);
    evictions.delete(key);
  };

  const schedulePodEviction = (pod: JsonObject, noExecute: readonly JsonObject[]) => {
    const key = keyOf(pod);
    if (noExecute.length === 0 || isDeleting(pod) || isTerminal(pod)) {
      cancelEviction(key);
      return;
    }
    const window = tolerationWindow(pod, noExecute);
    if (window === Number.POSITIVE_INFINITY) {
      cancelEviction(key);
      return;
    }
    const added = Math.max(...noExecute.map((t) => parseTime(t.timeAdded) ?? clock.now()));
    const at = added + window * 1000;
    const current = evictions.get(key);
    if (current !== undefined && current.at === at) return;
    cancelEviction(key);
    const fire = () => {
      evictions.delete(key);
      const latest = pods.get(namespaceOf(pod), nameOf(pod));
      if (latest === undefined || isDeleting(latest) || nodeNameOf(latest) !== nodeNameOf(pod)) return;
      try {
        ctx.events.record(
          { apiVersion: 'v1', kind: 'Pod', object: latest },
          'Normal',
          'TaintManagerEviction',
          `Marking for deletion Pod ${key}`,
          'taint-eviction-controller',
        );
        api.evict(namespaceOf(latest), nameOf(latest), {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: nameOf(latest), namespace: namespaceOf(latest) },
        });
      } catch (error) {
        if (!isConflictOrGone(error)) ctx.onError(toBerthError(error));
      }
    };
    const handle = clock.setTimeout(fire, Math.max(0, at - clock.now()));
    evictions.set(key, { at, handle });
  };

  const queue = new WorkQueue(monitor, { clock, onError: ctx.onError });
  const offNodes = nodes.on((type, node) => {
    if (type === 'DELETED') {
      probes.delete(nameOf(node));
      return;
    }
    queue.add(nameOf(node));
  });
  const offLeases = leases.on((_type, lease) => {
    if (namespaceOf(lease) === LEASE_NAMESPACE) queue.add(nameOf(lease));
  });
  const offPods = pods.on((type, pod) => {
    if (type === 'DELETED') {
      cancelEviction(keyOf(pod));
      return;
    }
    const node = nodeNameOf(pod) === '' ? undefined : nodes.get('', nodeNameOf(pod));
    if (
      node !== undefined &&
      (taintsOf(node).some((t) => t.effect === 'NoExecute') || evictions.has(keyOf(pod)))
    )
      queue.add(nodeNameOf(pod));
  });
  for (const node of nodes.list()) queue.add(nameOf(node));
  const ticker = setInterval(() => {
    for (const node of nodes.list()) queue.add(nameOf(node));
  }, period);
  ticker.unref();

  return {
    name: 'node-lifecycle',
    idle: () => queue.idle(),
    stop: () => {
      offNodes();
      offLeases();
      offPods();
      clearInterval(ticker);
      queue.close();
      for (const key of [...evictions.keys()]) cancelEviction(key);
    },
  };
}
