/**
 * The saved form of a cluster snapshot (`berth get snapshot -o json`), which `berth plan --snapshot`
 * reads back so placement policies can be compared offline on the same cluster state:
 *
 * ```yaml
 * apiVersion: berth.dev/v1
 * kind: ClusterSnapshot
 * backend: mesos
 * takenAt: 1730000000000          # epoch ms
 * nodes:
 *   - { id: node-1, hostname: 10.0.0.1, labels: {}, taints: [], ready: true, unschedulable: false,
 *       allocatable: { cpu: "4", memory: 8Gi, ports: 31000-31999 }, allocated: { cpu: 500m } }
 * allocations:
 *   - { taskId: web-0, nodeId: node-1, tenant: default, priority: 0, service: web, resources: { cpu: 500m } }
 * ```
 * Resources use Kubernetes quantities, as `Resources.toJSON()` prints them.
 */
import {
  type Allocation,
  BerthError,
  type BerthErrorIssue,
  type ClusterNode,
  type ClusterSnapshot,
  type NodeTaint,
  Resources,
  type Snapshot,
  snapshotFromCluster,
} from '@berth/core';

export interface SnapshotDocument {
  readonly apiVersion: 'berth.dev/v1';
  readonly kind: 'ClusterSnapshot';
  readonly backend: string;
  readonly takenAt: number;
  readonly nodes: readonly Record<string, unknown>[];
  readonly allocations: readonly Record<string, unknown>[];
}

export function snapshotDocument(s: ClusterSnapshot): SnapshotDocument {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'ClusterSnapshot',
    backend: s.backend,
    takenAt: s.takenAt,
    nodes: s.nodes.map((n) => ({
      id: n.id,
      hostname: n.hostname,
      labels: { ...n.labels },
      taints: n.taints.map((t) => ({ ...t })),
      ready: n.ready,
      unschedulable: n.unschedulable,
      allocatable: n.allocatable.toJSON(),
      allocated: n.allocated.toJSON(),
    })),
    allocations: s.allocations.map((a) => ({
      taskId: a.taskId,
      nodeId: a.nodeId,
      tenant: a.tenant,
      priority: a.priority,
      ...(a.service === undefined ? {} : { service: a.service }),
      resources: a.resources.toJSON(),
    })),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown, path: string, issues: BerthErrorIssue[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    issues.push({ path, message: 'must be a mapping of strings' });
    return {};
  }
  return v as Record<string, string>;
}

function resources(v: unknown, path: string, issues: BerthErrorIssue[]): Resources {
  if (v === undefined) return Resources.ZERO;
  if (!isRecord(v)) {
    issues.push({ path, message: 'must be a mapping of quantities like { cpu: "4", memory: 8Gi }' });
    return Resources.ZERO;
  }
  try {
    return Resources.fromQuantities(v as Record<string, string>);
  } catch (err) {
    issues.push({
      path,
      message: err instanceof Error ? err.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '') : String(err),
    });
    return Resources.ZERO;
  }
}

/** Reads a saved snapshot; one SPEC_INVALID lists every problem with its path. */
export function parseSnapshotDocument(raw: unknown, source: string): ClusterSnapshot {
  const issues: BerthErrorIssue[] = [];
  if (!isRecord(raw) || raw.kind !== 'ClusterSnapshot') {
    throw new BerthError('SPEC_INVALID', `${source} is not a berth snapshot (kind: ClusterSnapshot)`, {
      component: 'cli',
      hint: 'Save one with berth get snapshot -o json > snapshot.json.',
    });
  }
  const nodes: ClusterNode[] = [];
  const rawNodes = Array.isArray(raw.nodes) ? raw.nodes : [];
  if (!Array.isArray(raw.nodes)) issues.push({ path: 'nodes', message: 'must be a list of nodes' });
  const ids = new Set<string>();
  rawNodes.forEach((n: unknown, i: number) => {
    const p = `nodes[${i}]`;
    if (!isRecord(n) || typeof n.id !== 'string' || n.id === '') {
      issues.push({ path: `${p}.id`, message: 'every node needs a string id' });
      return;
    }
    if (ids.has(n.id)) issues.push({ path: `${p}.id`, message: `duplicate node id ${n.id}` });
    ids.add(n.id);
    const taints: NodeTaint[] = [];
    if (n.taints !== undefined && !Array.isArray(n.taints))
      issues.push({ path: `${p}.taints`, message: 'must be a list' });
    (Array.isArray(n.taints) ? n.taints : []).forEach((t: unknown, j: number) => {
      if (
        !isRecord(t) ||
        typeof t.key !== 'string' ||
        !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect as string)
      )
        issues.push({
          path: `${p}.taints[${j}]`,
          message: 'needs key and effect NoSchedule, PreferNoSchedule or NoExecute',
        });
      else
        taints.push({
          key: t.key,
          effect: t.effect as NodeTaint['effect'],
          ...(typeof t.value === 'string' ? { value: t.value } : {}),
        });
    });
    nodes.push({
      id: n.id,
      hostname: typeof n.hostname === 'string' ? n.hostname : n.id,
      labels: strings(n.labels, `${p}.labels`, issues),
      taints,
      allocatable: resources(n.allocatable, `${p}.allocatable`, issues),
      allocated: resources(n.allocated, `${p}.allocated`, issues),
      ready: n.ready !== false,
      unschedulable: n.unschedulable === true,
    });
  });
  const allocations: Allocation[] = [];
  const rawAllocs = raw.allocations === undefined ? [] : raw.allocations;
  if (!Array.isArray(rawAllocs)) issues.push({ path: 'allocations', message: 'must be a list' });
  (Array.isArray(rawAllocs) ? rawAllocs : []).forEach((a: unknown, i: number) => {
    const p = `allocations[${i}]`;
    if (!isRecord(a) || typeof a.taskId !== 'string' || typeof a.nodeId !== 'string') {
      issues.push({ path: p, message: 'needs taskId and nodeId' });
      return;
    }
    if (!ids.has(a.nodeId)) issues.push({ path: `${p}.nodeId`, message: `no node ${a.nodeId} in nodes` });
    allocations.push({
      taskId: a.taskId,
      nodeId: a.nodeId,
      tenant: typeof a.tenant === 'string' ? a.tenant : 'default',
      priority: typeof a.priority === 'number' ? a.priority : 0,
      resources: resources(a.resources, `${p}.resources`, issues),
      ...(typeof a.service === 'string' ? { service: a.service } : {}),
    });
  });
  if (issues.length > 0) {
    throw new BerthError('SPEC_INVALID', `invalid snapshot ${source}`, {
      component: 'cli',
      issues: issues.map((x) => ({ ...x, path: `${source}: ${x.path}` })),
      hint: 'Fix the listed fields, or save a fresh one with berth get snapshot -o json.',
    });
  }
  return {
    backend: typeof raw.backend === 'string' ? raw.backend : 'unknown',
    takenAt: typeof raw.takenAt === 'number' ? raw.takenAt : 0,
    nodes,
    allocations,
  };
}

/** The placement engine's view of an adapter's snapshot (core's `snapshotFromCluster`). */
export const toPlacementSnapshot: (s: ClusterSnapshot) => Snapshot = snapshotFromCluster;
