/**
 * A snapshot from Kubernetes nodes and pods (what the informers hold). Typed over the minimal
 * structure of the v1 JSON; no Kubernetes client library involved.
 */
import { PortRanges, type ResourceQuantities, Resources } from '../resources/index.ts';
import type { LabelSelectorOperator, TaintEffect } from '../spec/index.ts';
import {
  createSnapshot,
  type RunningTask,
  type Snapshot,
  type SnapshotNodeInput,
  type Taint,
} from './snapshot.ts';
import type { TaskAffinityRule } from './task.ts';

type Quantities = Readonly<Record<string, string | number>>;

export interface KubernetesNode {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly unschedulable?: boolean;
    readonly taints?: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
  };
  readonly status?: { readonly allocatable?: Quantities; readonly capacity?: Quantities };
}

interface KubernetesContainer {
  readonly resources?: { readonly requests?: Quantities };
  readonly ports?: readonly { readonly hostPort?: number; readonly containerPort?: number }[];
}

export interface KubernetesPod {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: {
    readonly nodeName?: string;
    readonly priority?: number;
    readonly containers?: readonly KubernetesContainer[];
    readonly initContainers?: readonly KubernetesContainer[];
    readonly overhead?: Quantities;
    readonly affinity?: {
      readonly podAntiAffinity?: {
        readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly KubernetesPodAffinityTerm[];
      };
    };
  };
  readonly status?: { readonly phase?: string; readonly startTime?: string };
}

/** A pod (anti-)affinity term of the v1 JSON. */
export interface KubernetesPodAffinityTerm {
  readonly labelSelector?: {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly {
      readonly key: string;
      readonly operator: string;
      readonly values?: readonly string[];
    }[];
  };
  readonly topologyKey: string;
  readonly namespaces?: readonly string[];
}

/** A pod's required anti-affinity as rules (a term without a selector selects nothing, as upstream). */
function antiAffinityOf(pod: KubernetesPod): TaskAffinityRule[] {
  const terms = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const rules: TaskAffinityRule[] = [];
  for (const t of terms) {
    if (t.labelSelector === undefined) continue;
    rules.push({
      labelSelector: {
        matchLabels: { ...(t.labelSelector.matchLabels ?? {}) },
        matchExpressions: (t.labelSelector.matchExpressions ?? []).map((e) => ({
          key: e.key,
          operator: e.operator as LabelSelectorOperator,
          values: [...(e.values ?? [])],
        })),
      },
      topologyKey: t.topologyKey,
      ...(t.namespaces === undefined || t.namespaces.length === 0 ? {} : { tenants: [...t.namespaces] }),
    });
  }
  return rules;
}

/** Label keys read as a pod's app, for Marathon-style constraints. */
export const APP_LABELS = ['berth.dev/service', 'app.kubernetes.io/name', 'app'] as const;

const ALL_PORTS = PortRanges.of({ begin: 1, end: 65535 });
/** Counted by the kubelet, not a resource tasks request. */
const IGNORED = new Set(['pods']);

function quantities(q: Quantities | undefined): Resources {
  if (q === undefined) return Resources.ZERO;
  const kept: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(q)) if (!IGNORED.has(k)) kept[k] = v;
  return Resources.fromQuantities(kept as ResourceQuantities);
}

/** Upstream's effective request: max(Σ containers, each init container) + overhead. */
export function podRequests(pod: KubernetesPod): Resources {
  let sum = Resources.ZERO;
  for (const c of pod.spec?.containers ?? []) sum = sum.add(quantities(c.resources?.requests));
  for (const c of pod.spec?.initContainers ?? []) {
    const r = quantities(c.resources?.requests);
    sum = Resources.of({
      cpu: Math.max(sum.cpu, r.cpu),
      memory: Math.max(sum.memory, r.memory),
      disk: Math.max(sum.disk, r.disk),
      gpus: Math.max(sum.gpus, r.gpus),
      extended: new Map(
        [...new Set([...sum.extended.keys(), ...r.extended.keys()])].map((k) => [
          k,
          Math.max(sum.extended.get(k) ?? 0, r.extended.get(k) ?? 0),
        ]),
      ),
    });
  }
  return pod.spec?.overhead === undefined ? sum : sum.add(quantities(pod.spec.overhead));
}

function terminated(pod: KubernetesPod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

const EFFECTS = new Set<string>(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/**
 * One node per Kubernetes node: allocatable from `status.allocatable`, allocated = requests of
 * its non-terminated pods, free ports = 1–65535 minus their host ports, plus labels, taints and
 * `spec.unschedulable`.
 */
export function snapshotFromKubernetes(
  nodes: readonly KubernetesNode[],
  pods: readonly KubernetesPod[],
): Snapshot {
  const byNode = new Map<string, KubernetesPod[]>();
  for (const pod of pods) {
    const name = pod.spec?.nodeName;
    if (name === undefined || name === '' || terminated(pod)) continue;
    let list = byNode.get(name);
    if (list === undefined) {
      list = [];
      byNode.set(name, list);
    }
    list.push(pod);
  }
  const inputs: SnapshotNodeInput[] = nodes.map((node) => {
    const name = node.metadata.name;
    let allocated = Resources.ZERO;
    const usedPorts: number[] = [];
    const tasks: RunningTask[] = [];
    for (const pod of byNode.get(name) ?? []) {
      const requests = podRequests(pod);
      allocated = allocated.add(requests);
      for (const c of pod.spec?.containers ?? [])
        for (const p of c.ports ?? []) if (p.hostPort) usedPorts.push(p.hostPort);
      const labels = pod.metadata.labels ?? {};
      const app = APP_LABELS.map((k) => labels[k]).find((v) => v !== undefined);
      const start = pod.status?.startTime === undefined ? Number.NaN : Date.parse(pod.status.startTime);
      const anti = antiAffinityOf(pod);
      tasks.push({
        id: `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`,
        ...(app === undefined ? {} : { app }),
        tenant: pod.metadata.namespace ?? 'default',
        labels,
        priority: pod.spec?.priority ?? 0,
        requests,
        ...(Number.isNaN(start) ? {} : { startTime: start }),
        ...(anti.length === 0 ? {} : { antiAffinity: anti }),
      });
    }
    const taints: Taint[] = (node.spec?.taints ?? [])
      .filter((t) => EFFECTS.has(t.effect))
      .map((t) => ({
        key: t.key,
        effect: t.effect as TaintEffect,
        ...(t.value === undefined ? {} : { value: t.value }),
      }));
    return {
      id: name,
      hostname: node.metadata.labels?.['kubernetes.io/hostname'] ?? name,
      labels: node.metadata.labels ?? {},
      taints,
      allocatable: quantities(node.status?.allocatable ?? node.status?.capacity),
      allocated,
      freePorts: usedPorts.length === 0 ? ALL_PORTS : ALL_PORTS.sub(PortRanges.fromPorts(new Set(usedPorts))),
      unschedulable: node.spec?.unschedulable === true,
      tasks,
    };
  });
  return createSnapshot(inputs);
}
