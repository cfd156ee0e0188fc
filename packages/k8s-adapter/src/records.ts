/**
 * What the informers keep of each Node and Pod: only the fields Berth reads (placement, status
 * mapping, endpoints), with requests pre-computed once per change. Everything else — managedFields,
 * env, volumes, images — is dropped at the door, which is what lets 5 000 nodes and 50 000 pods
 * fit in a few hundred MB.
 */
import {
  APP_LABELS,
  type KubeConditionLike,
  type KubeContainerStatusLike,
  type KubePodLike,
  type MarathonConstraint,
  type NodeSelectorTerm,
  type NodeTaint,
  type PlacementTaskInput,
  type PreferredNodeSelectorTerm,
  podRequests,
  type ResourceQuantities,
  Resources,
  type RunningTask,
  type TaskAffinityRule,
  type Toleration,
} from '@berth/core';

type Obj = Record<string, unknown>;

/** Labels and annotations Berth puts on everything it creates. */
export const LABELS = {
  taskId: 'berth.dev/task-id',
  service: 'berth.dev/service',
  job: 'berth.dev/job',
  tenant: 'berth.dev/tenant',
  specHash: 'berth.dev/spec-hash',
  managed: 'berth.dev/managed',
  gang: 'berth.dev/gang',
  gangSize: 'berth.dev/gang-size',
  ports: 'berth.dev/ports',
  healthCheck: 'berth.dev/health-check',
} as const;

export interface NodeRecord {
  readonly uid: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
  readonly allocatable: Resources;
  readonly unschedulable: boolean;
  readonly ready: boolean;
  readonly address?: string;
}

export interface ContainerPortRecord {
  readonly name?: string;
  readonly containerPort: number;
  readonly hostPort?: number;
}

/** A pod, slimmed: fits `KubePodLike` (for `fromKubernetesPod`) plus what placement needs. */
export interface PodRecord extends KubePodLike {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Only `berth.dev/` annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly schedulerName: string;
  readonly priority: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly nominatedNodeName?: string;
  readonly requests: Resources;
  readonly ports: readonly ContainerPortRecord[];
  readonly ownerKind?: string;
  /** Succeeded or Failed: holds no resources. */
  readonly terminated: boolean;
  /** The pod as the placement engine sees it on its node. */
  readonly task: RunningTask;
  /** What placing it needs (kept only while the pod is unbound). */
  readonly placement?: Omit<PlacementTaskInput, 'id'>;
  readonly metadata: { readonly name: string; readonly deletionTimestamp?: string };
  readonly spec: { readonly nodeName?: string };
  readonly status: NonNullable<KubePodLike['status']> & {
    readonly startTime?: string;
    readonly podIP?: string;
    readonly hostIP?: string;
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

function stringMap(v: unknown, prefix?: string): Readonly<Record<string, string>> {
  const o = obj(v);
  let out: Record<string, string> | undefined;
  for (const k in o) {
    if (prefix !== undefined && !k.startsWith(prefix)) continue;
    const s = o[k];
    if (typeof s !== 'string') continue;
    out ??= {};
    out[k] = s;
  }
  return out ?? EMPTY;
}

const IGNORED_RESOURCES = new Set(['pods']);

/** Quantities → Resources, ignoring `pods` and zero hugepages; a malformed value counts as 0. */
export function resourcesOf(list: unknown): Resources {
  const q: Record<string, string> = {};
  const o = obj(list);
  for (const k in o) {
    const v = o[k];
    if (IGNORED_RESOURCES.has(k) || (typeof v !== 'string' && typeof v !== 'number')) continue;
    if (k.startsWith('hugepages-') && (v === '0' || v === 0)) continue;
    q[k] = String(v);
  }
  try {
    return Resources.fromQuantities(q as ResourceQuantities);
  } catch {
    return Resources.ZERO;
  }
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

export function nodeRecord(raw: Obj): NodeRecord {
  const meta = obj(raw.metadata);
  const spec = obj(raw.spec);
  const status = obj(raw.status);
  const labels = stringMap(meta.labels);
  const name = str(meta.name) ?? '';
  const ready = arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
  const address =
    str(arr(status.addresses).find((a) => a.type === 'InternalIP')?.address) ??
    str(arr(status.addresses)[0]?.address);
  return {
    uid: str(meta.uid) ?? name,
    name,
    resourceVersion: str(meta.resourceVersion) ?? '',
    hostname: labels['kubernetes.io/hostname'] ?? name,
    labels,
    taints: arr(spec.taints)
      .filter((t) => typeof t.key === 'string' && EFFECTS.has(String(t.effect)))
      .map((t) => ({
        key: t.key as string,
        effect: t.effect as NodeTaint['effect'],
        ...(typeof t.value === 'string' && t.value !== '' ? { value: t.value } : {}),
      })),
    allocatable: resourcesOf(status.allocatable ?? status.capacity),
    unschedulable: spec.unschedulable === true,
    ready,
    ...(address === undefined ? {} : { address }),
  };
}

function slimContainerStatus(c: Obj): KubeContainerStatusLike {
  const state = (s: unknown) => {
    const o = obj(s);
    const w = o.waiting === undefined ? undefined : obj(o.waiting);
    const r = o.running === undefined ? undefined : obj(o.running);
    const t = o.terminated === undefined ? undefined : obj(o.terminated);
    return {
      ...(w ? { waiting: { reason: str(w.reason), message: str(w.message) } } : {}),
      ...(r ? { running: { startedAt: str(r.startedAt) } } : {}),
      ...(t
        ? {
            terminated: {
              exitCode: typeof t.exitCode === 'number' ? t.exitCode : 0,
              reason: str(t.reason),
              message: str(t.message),
              finishedAt: str(t.finishedAt),
            },
          }
        : {}),
    };
  };
  return {
    name: str(c.name) ?? '',
    state: state(c.state),
    ...(c.lastState === undefined ? {} : { lastState: state(c.lastState) }),
    ready: c.ready === true,
    restartCount: typeof c.restartCount === 'number' ? c.restartCount : 0,
  };
}

export function podRecord(raw: Obj): PodRecord {
  const meta = obj(raw.metadata);
  const spec = obj(raw.spec);
  const status = obj(raw.status);
  const name = str(meta.name) ?? '';
  const namespace = str(meta.namespace) ?? 'default';
  const labels = stringMap(meta.labels);
  const containers = arr(spec.containers);
  const slimContainer = (c: Obj) => ({
    resources: { requests: obj(obj(c.resources).requests) as Record<string, string> },
  });
  let requests: Resources;
  try {
    requests = podRequests({
      metadata: { name },
      spec: {
        containers: containers.map(slimContainer),
        initContainers: arr(spec.initContainers).map(slimContainer),
        ...(spec.overhead === undefined ? {} : { overhead: obj(spec.overhead) as Record<string, string> }),
      },
    });
  } catch {
    requests = Resources.ZERO;
  }
  const ports: ContainerPortRecord[] = [];
  for (const c of containers)
    for (const p of arr(c.ports)) {
      if (typeof p.containerPort !== 'number') continue;
      ports.push({
        containerPort: p.containerPort,
        ...(typeof p.name === 'string' ? { name: p.name } : {}),
        ...(typeof p.hostPort === 'number' && p.hostPort > 0 ? { hostPort: p.hostPort } : {}),
      });
    }
  const phase = str(status.phase) ?? 'Pending';
  const nodeName = str(spec.nodeName) || undefined;
  const deletionTimestamp = str(meta.deletionTimestamp);
  const priority = typeof spec.priority === 'number' ? spec.priority : 0;
  const startTime = str(status.startTime);
  const app = APP_LABELS.map((k) => labels[k]).find((v) => v !== undefined);
  const start = startTime === undefined ? Number.NaN : Date.parse(startTime);
  const conditions: KubeConditionLike[] = arr(status.conditions).map((c) => ({
    type: str(c.type) ?? '',
    status: str(c.status) ?? '',
    ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
    // Only Ready's transition time is kept (autoscaling's cpu-initialisation rule reads it);
    // the other conditions' times would cost cache memory for nothing.
    ...(c.type === 'Ready' && typeof c.lastTransitionTime === 'string'
      ? { lastTransitionTime: c.lastTransitionTime }
      : {}),
  }));
  const owner = arr(meta.ownerReferences).find((o) => o.controller === true);
  const affinity = obj(spec.affinity);
  const anti = affinityRules(obj(affinity.podAntiAffinity), namespace);
  const annotations = stringMap(meta.annotations, 'berth.dev/');
  return {
    uid: str(meta.uid) ?? `${namespace}/${name}`,
    name,
    namespace,
    resourceVersion: str(meta.resourceVersion) ?? '',
    labels,
    annotations,
    ...(nodeName === undefined ? {} : { nodeName }),
    schedulerName: str(spec.schedulerName) ?? 'default-scheduler',
    priority,
    ...(typeof meta.creationTimestamp === 'string' ? { creationTimestamp: meta.creationTimestamp } : {}),
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
    ...(typeof status.nominatedNodeName === 'string' ? { nominatedNodeName: status.nominatedNodeName } : {}),
    requests,
    ports,
    ...(owner === undefined ? {} : { ownerKind: str(owner.kind) ?? '' }),
    terminated: phase === 'Succeeded' || phase === 'Failed',
    task: {
      id: `${namespace}/${name}`,
      ...(app === undefined ? {} : { app }),
      tenant: namespace,
      labels,
      priority,
      requests,
      ...(Number.isNaN(start) ? {} : { startTime: start }),
      ...(anti.required.length === 0 ? {} : { antiAffinity: anti.required }),
    },
    ...(nodeName === undefined
      ? {
          placement: placementInput(
            spec,
            affinity,
            anti,
            labels,
            annotations,
            namespace,
            priority,
            requests,
            ports,
          ),
        }
      : {}),
    metadata: { name, ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }) },
    spec: nodeName === undefined ? {} : { nodeName },
    status: {
      phase,
      ...(typeof status.reason === 'string' ? { reason: status.reason } : {}),
      ...(typeof status.message === 'string' ? { message: status.message } : {}),
      conditions,
      containerStatuses: arr(status.containerStatuses).map(slimContainerStatus),
      initContainerStatuses: arr(status.initContainerStatuses).map(slimContainerStatus),
      ...(startTime === undefined ? {} : { startTime }),
      ...(typeof status.podIP === 'string' ? { podIP: status.podIP } : {}),
      ...(typeof status.hostIP === 'string' ? { hostIP: status.hostIP } : {}),
    },
  };
}

/** `namespace/name`. */
export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Kubernetes pod (anti-)affinity terms as the engine's rules; `namespaces` become tenants. */
function affinityRules(
  block: Obj,
  namespace: string,
): { required: TaskAffinityRule[]; preferred: TaskAffinityRule[] } {
  const rule = (t: Obj, weight?: number): TaskAffinityRule => {
    const sel = obj(t.labelSelector);
    const namespaces = Array.isArray(t.namespaces) ? (t.namespaces as string[]) : undefined;
    return {
      labelSelector: {
        matchLabels: { ...stringMap(sel.matchLabels) },
        matchExpressions: arr(sel.matchExpressions).map((e) => ({
          key: str(e.key) ?? '',
          operator: (str(e.operator) ?? 'Exists') as 'In',
          values: Array.isArray(e.values) ? (e.values as string[]) : [],
        })),
      },
      topologyKey: str(t.topologyKey) ?? 'kubernetes.io/hostname',
      tenants: namespaces !== undefined && namespaces.length > 0 ? namespaces : [namespace],
      ...(weight === undefined ? {} : { weight }),
    };
  };
  return {
    required: arr(block.requiredDuringSchedulingIgnoredDuringExecution).map((t) => rule(t)),
    preferred: arr(block.preferredDuringSchedulingIgnoredDuringExecution).map((w) =>
      rule(obj(w.podAffinityTerm), typeof w.weight === 'number' ? w.weight : 1),
    ),
  };
}

function terms(v: unknown): NodeSelectorTerm[] {
  return arr(v).map((t) => ({
    matchExpressions: arr(t.matchExpressions).map((e) => ({
      key: str(e.key) ?? '',
      operator: (str(e.operator) ?? 'Exists') as NodeSelectorTerm['matchExpressions'][number]['operator'],
      values: Array.isArray(e.values) ? (e.values as string[]) : [],
    })),
  }));
}

function placementInput(
  spec: Obj,
  affinity: Obj,
  anti: { required: TaskAffinityRule[]; preferred: TaskAffinityRule[] },
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>,
  namespace: string,
  priority: number,
  requests: Resources,
  ports: readonly ContainerPortRecord[],
): Omit<PlacementTaskInput, 'id'> {
  const na = obj(affinity.nodeAffinity);
  const required = terms(obj(na.requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms);
  const preferred: PreferredNodeSelectorTerm[] = arr(na.preferredDuringSchedulingIgnoredDuringExecution).map(
    (p) => ({
      weight: typeof p.weight === 'number' ? p.weight : 1,
      preference: terms([p.preference])[0]!,
    }),
  );
  const aff = affinityRules(obj(affinity.podAffinity), namespace);
  let constraints: MarathonConstraint[] = [];
  const raw = annotations['berth.dev/constraints'];
  if (raw !== undefined) {
    try {
      constraints = JSON.parse(raw) as MarathonConstraint[];
    } catch {
      constraints = [];
    }
  }
  const app = APP_LABELS.map((k) => labels[k]).find((v) => v !== undefined);
  const gang = labels[LABELS.gang];
  return {
    ...(app === undefined ? {} : { app }),
    tenant: namespace,
    priority,
    labels,
    requests,
    ports: ports
      .filter((p) => p.hostPort !== undefined)
      .map((p, i) => ({ name: p.name ?? `port${i}`, hostPort: p.hostPort as number })),
    constraints,
    nodeSelector: stringMap(spec.nodeSelector),
    nodeAffinity: { ...(required.length === 0 ? {} : { required }), preferred },
    taskAffinity: [...aff.required, ...aff.preferred],
    taskAntiAffinity: [...anti.required, ...anti.preferred],
    tolerations: arr(spec.tolerations) as unknown as Toleration[],
    ...(gang === undefined ? {} : { group: `${namespace}/${gang}` }),
  };
}
