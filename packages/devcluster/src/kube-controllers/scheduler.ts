/**
 * The default scheduler: pods whose `spec.schedulerName` is empty or `default-scheduler` are placed
 * by core's engine with the `kubernetes-default` profile (plus `SelectorSpread`, which spreads a
 * controller's pods over nodes as kube-scheduler's default topology spreading does) and bound
 * through `pods/binding`. A pod no node takes gets `PodScheduled=False` (reason Unschedulable) and
 * a FailedScheduling Event in kube-scheduler's words, then waits in back-off (1 s doubling to 10 s)
 * until a node or pod changes, or the unschedulable flush interval passes.
 */
import {
  BUILT_IN_PROFILES,
  type BuiltInProfileName,
  createPlacementTask,
  defaultRegistry,
  type KubernetesNode,
  type KubernetesPod,
  type LabelSelector,
  MAX_NODE_SCORE,
  type NodeRejection,
  type NodeSelectorTerm,
  type PlacementProfile,
  type PlacementTask,
  type PreferredNodeSelectorTerm,
  place,
  podRequests,
  type ScorePlugin,
  snapshotFromKubernetes,
  type TaskAffinityRule,
  type TimerHandle,
  type Toleration,
  type UnplaceableExplanation,
} from '@berth/core';
import type { Controller, ControllerContext } from './controller.ts';
import {
  arr,
  controllerRef,
  isDeleting,
  isTerminal,
  type Json,
  type JsonObject,
  keyOf,
  labelsOf,
  nameOf,
  namespaceOf,
  num,
  obj,
  objs,
  str,
  timestamp,
  uidOf,
} from './objects.ts';
import { isConflictOrGone, toBerthError } from './runtime.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
/** Label added to the placement view of a pod (never to the pod): its spread group. */
const SPREAD_LABEL = 'berth.dev/spread-group';

export interface SchedulerOptions {
  /** Pods naming this scheduler (or none) are scheduled (default `default-scheduler`). */
  readonly schedulerName?: string;
  /** Placement profile (default `kubernetes-default` with `SelectorSpread`). */
  readonly profile?: PlacementProfile | BuiltInProfileName;
  readonly seed?: number;
  /** Back-off of a pod after a failed attempt: initial (1,000 ms) doubling to max (10,000 ms). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often without a cluster change (60,000 ms). */
  readonly unschedulableFlushMs?: number;
}

export interface SchedulerStats {
  readonly bound: number;
  readonly unschedulable: number;
  readonly pending: number;
}

export interface SchedulerController extends Controller {
  stats(): SchedulerStats;
}

interface QueuedPod {
  attempts: number;
  backoffUntil: number;
  unschedulable: boolean;
}

/**
 * Spread a controller's pods (its controller owner) over nodes: fewer pods of the same group on a
 * node scores higher (upstream's SelectorSpread; its successor's system-default PodTopologySpread
 * does the same per hostname).
 */
export const SelectorSpread = {
  name: 'SelectorSpread',
  score(ctx, node) {
    const group = ctx.task.labels[SPREAD_LABEL];
    if (group === undefined) return 0;
    const counter = ctx.snapshot.counter(`SelectorSpread:${group}`, (t) => t.labels[SPREAD_LABEL] === group);
    return counter.perNode[node] ?? 0;
  },
  normalizeScore(_ctx, _candidates, count, scores) {
    let max = 0;
    for (let k = 0; k < count; k++) max = Math.max(max, scores[k] ?? 0);
    for (let k = 0; k < count; k++)
      scores[k] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - (scores[k] ?? 0))) / max);
  },
} satisfies ScorePlugin;

function schedulingProfile(profile: PlacementProfile | BuiltInProfileName | undefined): PlacementProfile {
  if (profile !== undefined) return typeof profile === 'string' ? BUILT_IN_PROFILES[profile] : profile;
  const base = BUILT_IN_PROFILES['kubernetes-default'];
  return { ...base, plugins: [...base.plugins, { name: 'SelectorSpread', weight: 2 }] };
}

function stringMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

function selectorTerms(v: Json | undefined): NodeSelectorTerm[] {
  return objs(v).map((t) => ({
    matchExpressions: objs(t.matchExpressions).map((e) => ({
      key: str(e.key),
      operator: str(e.operator) as NodeSelectorTerm['matchExpressions'][number]['operator'],
      values: arr(e.values).filter((x): x is string => typeof x === 'string'),
    })),
    ...(arr(t.matchFields).length > 0
      ? {
          matchFields: objs(t.matchFields).map((e) => ({
            key: str(e.key),
            operator: str(e.operator) as NodeSelectorTerm['matchExpressions'][number]['operator'],
            values: arr(e.values).filter((x): x is string => typeof x === 'string'),
          })),
        }
      : {}),
  })) as NodeSelectorTerm[];
}

function labelSelector(v: Json | undefined): LabelSelector {
  const s = obj(v);
  return {
    matchLabels: stringMap(s.matchLabels),
    matchExpressions: objs(s.matchExpressions).map((e) => ({
      key: str(e.key),
      operator: str(e.operator) as LabelSelector['matchExpressions'][number]['operator'],
      values: arr(e.values).filter((x): x is string => typeof x === 'string'),
    })),
  };
}

function affinityRules(v: Json | undefined, weighted: boolean): TaskAffinityRule[] {
  return objs(v).flatMap((entry) => {
    const term = weighted ? obj(entry.podAffinityTerm) : entry;
    if (term.labelSelector === undefined) return [];
    const namespaces = arr(term.namespaces).filter((x): x is string => typeof x === 'string');
    return [
      {
        labelSelector: labelSelector(term.labelSelector),
        topologyKey: str(term.topologyKey),
        ...(namespaces.length > 0 ? { tenants: namespaces } : {}),
        ...(weighted ? { weight: num(entry.weight) ?? 1 } : {}),
      },
    ];
  });
}

/** The pod as the engine's task: requests, host ports, selectors, affinity, tolerations, priority. */
export function placementTaskOfPod(pod: JsonObject, sequence: number): PlacementTask {
  const spec = obj(pod.spec);
  const affinity = obj(spec.affinity);
  const nodeAffinity = obj(affinity.nodeAffinity);
  const required = selectorTerms(
    obj(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms,
  );
  const preferred: PreferredNodeSelectorTerm[] = objs(
    nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution,
  ).map((p) => ({ weight: num(p.weight) ?? 1, preference: selectorTerms([obj(p.preference)])[0]! }));
  const podAffinity = obj(affinity.podAffinity);
  const podAnti = obj(affinity.podAntiAffinity);
  const labels = labelsOf(pod);
  const owner = controllerRef(pod);
  const ports = objs(spec.containers).flatMap((c) =>
    objs(c.ports).flatMap((p) => {
      const hostPort = num(p.hostPort);
      return hostPort === undefined || hostPort === 0
        ? []
        : [{ name: str(p.name) || `port${hostPort}`, hostPort }];
    }),
  );
  return createPlacementTask({
    id: keyOf(pod),
    app: owner?.uid ?? keyOf(pod),
    tenant: namespaceOf(pod),
    priority: num(spec.priority) ?? 0,
    labels: owner === undefined ? labels : { ...labels, [SPREAD_LABEL]: owner.uid },
    requests: podRequests(pod as unknown as KubernetesPod),
    ports,
    nodeSelector: stringMap(spec.nodeSelector),
    nodeAffinity: { ...(required.length > 0 ? { required } : {}), preferred },
    taskAffinity: [
      ...affinityRules(podAffinity.requiredDuringSchedulingIgnoredDuringExecution, false),
      ...affinityRules(podAffinity.preferredDuringSchedulingIgnoredDuringExecution, true),
    ],
    taskAntiAffinity: [
      ...affinityRules(podAnti.requiredDuringSchedulingIgnoredDuringExecution, false),
      ...affinityRules(podAnti.preferredDuringSchedulingIgnoredDuringExecution, true),
    ],
    tolerations: objs(spec.tolerations) as unknown as Toleration[],
    sequence,
  });
}

const KUBE_REASONS: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/^insufficient (cpu|memory|pods)$/, (m) => `Insufficient ${m[1]}`],
  [/^insufficient disk$/, () => 'Insufficient ephemeral-storage'],
  [/^insufficient gpus$/, () => 'Insufficient nvidia.com/gpu'],
  [
    /^insufficient ports$|^host port \d+ not free$/,
    () => "node(s) didn't have free ports for the requested pod ports",
  ],
  [/^insufficient (.+)$/, (m) => `Insufficient ${m[1]}`],
  [/^node selector\/affinity not matched$/, () => "node(s) didn't match Pod's node affinity/selector"],
  [/^node is unschedulable$/, () => 'node(s) were unschedulable'],
  [/^untolerated taint (.+)$/, (m) => `node(s) had untolerated taint {${taintText(m[1]!)}}`],
  [/^task affinity not satisfied$/, () => "node(s) didn't match pod affinity rules"],
  [/^task anti-affinity not satisfied$/, () => "node(s) didn't match pod anti-affinity rules"],
  [
    /^existing task anti-affinity not satisfied$/,
    () => "node(s) didn't satisfy existing pods anti-affinity rules",
  ],
];

/** core prints taints `key=value:Effect`; kube-scheduler prints `{key: value}`. */
function taintText(core: string): string {
  const body = core.replace(/:[A-Za-z]+$/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? body : `${body.slice(0, eq)}: ${body.slice(eq + 1)}`;
}

function kubeReason(reason: string): string {
  for (const [re, render] of KUBE_REASONS) {
    const m = re.exec(reason);
    if (m !== null) return render(m);
  }
  return reason;
}

/**
 * kube-scheduler's FailedScheduling message: `0/3 nodes are available: 1 Insufficient cpu, 2
 * node(s) had untolerated taint {…}. preemption: 0/3 nodes are available: 3 Preemption is not
 * helpful for scheduling.` (reasons sorted as strings, as upstream sorts its histogram).
 */
export function failedSchedulingMessage(explanation: UnplaceableExplanation): string {
  const total = explanation.totalNodes;
  if (total === 0) return 'no nodes available to schedule pods';
  const nodes: readonly NodeRejection[] = explanation.nodes ?? [];
  const counts = new Map<string, number>();
  let resolvable = 0;
  if (nodes.length > 0) {
    for (const n of nodes) {
      const seen = new Set(n.reasons.map(kubeReason));
      for (const r of seen) counts.set(r, (counts.get(r) ?? 0) + 1);
      if (n.code !== 'UnschedulableAndUnresolvable') resolvable++;
    }
  } else {
    for (const r of explanation.reasons)
      counts.set(kubeReason(r.reason), (counts.get(kubeReason(r.reason)) ?? 0) + r.count);
  }
  const parts = [...counts].map(([r, c]) => `${c} ${r}`).sort();
  const head = `0/${total} nodes are available${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
  const unresolvable = total - resolvable;
  const pre: string[] = [];
  if (resolvable > 0) pre.push(`${resolvable} No preemption victims found for incoming pod`);
  if (unresolvable > 0) pre.push(`${unresolvable} Preemption is not helpful for scheduling`);
  return `${head} preemption: 0/${total} nodes are available: ${pre.sort().join(', ')}.`;
}

export function startScheduler(ctx: ControllerContext, options: SchedulerOptions = {}): SchedulerController {
  const { api, clock } = ctx;
  const schedulerName = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const initialBackoff = options.initialBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 10_000;
  const flushMs = options.unschedulableFlushMs ?? 60_000;
  const profile = schedulingProfile(options.profile);
  const registry = defaultRegistry().register('SelectorSpread', () => SelectorSpread);
  const pods = ctx.informers.get('pods');
  const nodes = ctx.informers.get('nodes');
  const queue = new Map<string, QueuedPod>();
  let bound = 0;
  let unschedulableCount = 0;
  let stopped = false;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let wakeTimer: TimerHandle | undefined;
  let wakeAt = Number.POSITIVE_INFINITY;
  const idleWaiters: (() => void)[] = [];

  const ours = (pod: JsonObject): boolean => {
    const spec = obj(pod.spec);
    const name = str(spec.schedulerName);
    return (
      (name === '' ? DEFAULT_SCHEDULER_NAME : name) === schedulerName &&
      str(spec.nodeName) === '' &&
      !isDeleting(pod) &&
      !isTerminal(pod) &&
      arr(spec.schedulingGates).length === 0
    );
  };

  const kick = () => {
    if (stopped || scheduled !== undefined) return;
    scheduled = setImmediate(() => {
      scheduled = undefined;
      try {
        cycle();
      } catch (error) {
        ctx.onError(toBerthError(error));
      }
    });
  };

  const wakeAtTime = (at: number) => {
    if (stopped || at >= wakeAt) return;
    if (wakeTimer !== undefined) clock.clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = clock.setTimeout(
      () => {
        wakeTimer = undefined;
        wakeAt = Number.POSITIVE_INFINITY;
        kick();
      },
      Math.max(0, at - clock.now()),
    );
  };

  /** A change that may make unschedulable pods fit: retry them (after their back-off). */
  const moveAllToActive = () => {
    let any = false;
    for (const q of queue.values()) {
      if (q.unschedulable) {
        q.unschedulable = false;
        any = true;
      }
    }
    if (any) kick();
  };

  const offPods = pods.on((type, pod, previous) => {
    const key = keyOf(pod);
    if (type !== 'DELETED' && ours(pod)) {
      if (!queue.has(key)) {
        queue.set(key, { attempts: 0, backoffUntil: 0, unschedulable: false });
        kick();
      }
      return;
    }
    queue.delete(key);
    // Resources freed: a bound pod went away, finished or started terminating.
    const wasBound = previous !== undefined && str(obj(previous.spec).nodeName) !== '';
    if (wasBound && (type === 'DELETED' || isTerminal(pod) || isDeleting(pod))) moveAllToActive();
  });
  const offNodes = nodes.on((type, node, previous) => {
    if (type === 'MODIFIED' && previous !== undefined) {
      // Heartbeats alone change nothing the scheduler reads.
      const relevant = (n: JsonObject) =>
        JSON.stringify([obj(n.metadata).labels, n.spec, obj(n.status).allocatable, obj(n.status).capacity]);
      if (relevant(node) === relevant(previous)) return;
    }
    moveAllToActive();
  });
  const flushTimer = setInterval(() => moveAllToActive(), flushMs);
  flushTimer.unref();
  for (const pod of pods.list())
    if (ours(pod)) queue.set(keyOf(pod), { attempts: 0, backoffUntil: 0, unschedulable: false });
  kick();

  const reportUnschedulable = (pod: JsonObject, message: string) => {
    const status = obj(pod.status);
    const current = objs(status.conditions).find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) {
      ctx.events.record(
        { apiVersion: 'v1', kind: 'Pod', object: pod },
        'Warning',
        'FailedScheduling',
        message,
        schedulerName,
      );
      return;
    }
    const conditions = [
      ...objs(status.conditions).filter((c) => c.type !== 'PodScheduled'),
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message,
        lastProbeTime: null,
        lastTransitionTime: timestamp(clock.now()),
      },
    ];
    try {
      api.patch(
        'pods',
        namespaceOf(pod),
        nameOf(pod),
        'merge',
        { status: { phase: 'Pending', conditions } },
        { subresource: 'status' },
      );
    } catch (error) {
      if (!isConflictOrGone(error)) ctx.onError(toBerthError(error));
    }
    ctx.events.record(
      { apiVersion: 'v1', kind: 'Pod', object: pod },
      'Warning',
      'FailedScheduling',
      message,
      schedulerName,
    );
  };

  const cycle = () => {
    const now = clock.now();
    const candidates: JsonObject[] = [];
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const [key, q] of queue) {
      if (q.unschedulable) continue;
      if (q.backoffUntil > now) {
        nextRetry = Math.min(nextRetry, q.backoffUntil);
        continue;
      }
      const [ns, name] = key.split('/') as [string, string];
      const pod = pods.get(ns, name);
      if (pod === undefined || !ours(pod)) {
        queue.delete(key);
        continue;
      }
      candidates.push(pod);
    }
    if (nextRetry < Number.POSITIVE_INFINITY) wakeAtTime(nextRetry);
    if (candidates.length === 0) {
      for (const w of idleWaiters.splice(0)) w();
      return;
    }
    const tasks: PlacementTask[] = [];
    const byId = new Map<string, JsonObject>();
    candidates.forEach((pod, i) => {
      try {
        const task = placementTaskOfPod(pod, i);
        tasks.push(task);
        byId.set(task.id, pod);
      } catch (error) {
        const q = queue.get(keyOf(pod));
        if (q !== undefined) q.unschedulable = true;
        reportUnschedulable(pod, `0/${nodes.size} nodes are available: ${toBerthError(error).message}.`);
      }
    });
    const spreadOf = (pod: JsonObject): JsonObject => {
      const owner = controllerRef(pod);
      if (owner === undefined) return pod;
      return {
        ...pod,
        metadata: { ...obj(pod.metadata), labels: { ...labelsOf(pod), [SPREAD_LABEL]: owner.uid } },
      };
    };
    const snapshot = snapshotFromKubernetes(
      nodes.list() as unknown as KubernetesNode[],
      pods
        .list()
        .filter((p) => str(obj(p.spec).nodeName) !== '')
        .map(spreadOf) as unknown as KubernetesPod[],
    );
    const result = place(tasks, snapshot, profile, {
      registry,
      seed: options.seed ?? 0,
      explain: { alternatives: 0, nodes: true },
      now,
    });
    for (const placed of result.placements) {
      const pod = byId.get(placed.taskId)!;
      queue.delete(placed.taskId);
      try {
        api.bind(namespaceOf(pod), nameOf(pod), {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: nameOf(pod), namespace: namespaceOf(pod), uid: uidOf(pod) },
          target: { apiVersion: 'v1', kind: 'Node', name: placed.nodeId },
        });
        bound++;
        ctx.events.record(
          { apiVersion: 'v1', kind: 'Pod', object: pod },
          'Normal',
          'Scheduled',
          `Successfully assigned ${keyOf(pod)} to ${placed.nodeId}`,
          schedulerName,
        );
      } catch (error) {
        if (!isConflictOrGone(error)) {
          ctx.onError(toBerthError(error));
          queue.set(placed.taskId, { attempts: 1, backoffUntil: now + initialBackoff, unschedulable: false });
          wakeAtTime(now + initialBackoff);
        }
      }
    }
    for (const u of result.unplaceable) {
      const pod = byId.get(u.taskId)!;
      const q = queue.get(u.taskId) ?? { attempts: 0, backoffUntil: 0, unschedulable: false };
      q.attempts++;
      q.backoffUntil = now + Math.min(maxBackoff, initialBackoff * 2 ** (q.attempts - 1));
      q.unschedulable = true;
      queue.set(u.taskId, q);
      unschedulableCount++;
      reportUnschedulable(pod, failedSchedulingMessage(u.explanation));
    }
    kick();
  };

  return {
    name: 'scheduler',
    stats: () => ({ bound, unschedulable: unschedulableCount, pending: queue.size }),
    idle: () =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
            kick();
          }),
    stop: () => {
      stopped = true;
      offPods();
      offNodes();
      clearInterval(flushTimer);
      if (scheduled !== undefined) clearImmediate(scheduled);
      if (wakeTimer !== undefined) clock.clearTimeout(wakeTimer);
      for (const w of idleWaiters.splice(0)) w();
    },
  };
}
