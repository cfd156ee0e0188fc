/** Conversions from the adapter contract's objects to the dashboard's JSON shapes. */
import {
  type BerthDocument,
  type ClusterEvent,
  type ClusterNode,
  type ClusterSnapshot,
  type Explanation,
  type PlacementResult,
  type PlacementTask,
  PortRanges,
  placementTaskFromSpec,
  Resources,
  replicaTaskId,
  type TaskStatus,
} from '@berth/core';
import {
  type ContextOverview,
  type EventView,
  type ExplanationView,
  type NodeRow,
  type PlanView,
  RESOURCE_NAMES,
  type ResourceAmounts,
  type ResourceName,
  TASK_STATE_NAMES,
  type TaskRow,
  type TaskStateName,
  type TenantShare,
} from '../shared/api.ts';

export function amounts(r: Resources): ResourceAmounts {
  return { cpu: r.cpu, memory: r.memory, disk: r.disk, gpus: r.gpus };
}

export function nodeRow(n: ClusterNode): NodeRow {
  const a = n.allocatable;
  const u = n.allocated;
  return [
    n.id,
    n.hostname,
    n.ready ? 1 : 0,
    n.unschedulable ? 1 : 0,
    a.cpu,
    u.cpu,
    a.memory,
    u.memory,
    a.disk,
    u.disk,
    a.gpus,
    u.gpus,
  ];
}

export function taskRow(s: TaskStatus): TaskRow {
  return [
    s.taskId,
    s.state,
    s.nodeId ?? '',
    s.service ?? '',
    s.reason ?? '',
    s.message ?? '',
    s.timestamps.updated,
  ];
}

export function eventView(context: string, e: ClusterEvent): EventView {
  return {
    context,
    seq: e.seq,
    at: e.at,
    level: e.level,
    kind: e.kind,
    message: e.message,
    ...(e.taskId === undefined ? {} : { taskId: e.taskId }),
    ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }),
    ...(e.service === undefined ? {} : { service: e.service }),
    ...(e.state === undefined ? {} : { state: e.state }),
  };
}

export function emptyStateCounts(): Record<TaskStateName, number> {
  return Object.fromEntries(TASK_STATE_NAMES.map((s) => [s, 0])) as Record<TaskStateName, number>;
}

/** Capacity, allocation, task counts and each tenant's dominant share (DRF) of one context. */
export function overview(
  name: string,
  backend: string,
  snap: ClusterSnapshot,
  tasks: Iterable<TaskStatus>,
): ContextOverview {
  let capacity = Resources.ZERO;
  let allocated = Resources.ZERO;
  let ready = 0;
  let unschedulable = 0;
  for (const n of snap.nodes) {
    capacity = capacity.add(n.allocatable.withPorts(PortRanges.EMPTY));
    allocated = allocated.add(n.allocated.withPorts(PortRanges.EMPTY));
    if (n.ready) ready++;
    if (n.unschedulable) unschedulable++;
  }
  const byTenant = new Map<string, { sum: Resources; tasks: number }>();
  for (const a of snap.allocations) {
    const t = byTenant.get(a.tenant) ?? { sum: Resources.ZERO, tasks: 0 };
    t.sum = t.sum.add(a.resources.withPorts(PortRanges.EMPTY));
    t.tasks++;
    byTenant.set(a.tenant, t);
  }
  const tenants: TenantShare[] = [...byTenant]
    .map(([tenant, t]) => {
      const share = t.sum.dominantShare(capacity);
      const dominant = RESOURCE_NAMES.reduce<{ r: ResourceName | ''; v: number }>(
        (best, r) => {
          const v = capacity[r] > 0 ? t.sum[r] / capacity[r] : 0;
          return v > best.v ? { r, v } : best;
        },
        { r: '', v: 0 },
      );
      return {
        tenant,
        dominantShare: share,
        dominantResource: dominant.r,
        allocated: amounts(t.sum),
        tasks: t.tasks,
      };
    })
    .sort((a, b) => b.dominantShare - a.dominantShare || (a.tenant < b.tenant ? -1 : 1));
  const tasksByState = emptyStateCounts();
  for (const s of tasks) tasksByState[s.state]++;
  return {
    name,
    backend,
    takenAt: snap.takenAt,
    nodes: { total: snap.nodes.length, ready, unschedulable },
    capacity: amounts(capacity),
    allocated: amounts(allocated),
    tasksByState,
    tenants,
  };
}

/** The task ids a document launches: its name for a Task, `name-0…` for replicas. */
export function documentTaskIds(doc: BerthDocument): string[] {
  if (doc.kind === 'Task') return [doc.metadata.name];
  const n = doc.kind === 'Service' ? doc.spec.replicas : doc.spec.parallelism;
  return Array.from({ length: n }, (_, i) => replicaTaskId(doc.metadata.name, i));
}

export function placementTasks(documents: readonly BerthDocument[]): PlacementTask[] {
  const tasks: PlacementTask[] = [];
  for (const doc of documents) {
    const spec = doc.kind === 'Task' ? doc.spec : doc.spec.template;
    const group = doc.kind === 'Job' && doc.spec.gang ? `job/${doc.metadata.name}` : undefined;
    for (const id of documentTaskIds(doc)) {
      const labels = {
        'berth.dev/task-id': id,
        ...(doc.kind === 'Service' ? { 'berth.dev/service': doc.metadata.name } : {}),
      };
      tasks.push(
        placementTaskFromSpec(spec, id, labels, {
          sequence: tasks.length,
          ...(group === undefined ? {} : { group }),
        }),
      );
    }
  }
  return tasks;
}

export function planView(profile: string, tasks: number, nodes: number, r: PlacementResult): PlanView {
  return {
    profile,
    tasks,
    nodes,
    placements: r.placements.map((p) => ({
      taskId: p.taskId,
      nodeId: p.nodeId,
      hostname: p.hostname,
      score: p.explanation.score,
      message: p.explanation.message,
    })),
    unplaceable: r.unplaceable.map((u) => ({
      taskId: u.taskId,
      reasons: u.explanation.reasons.map((x) => ({ reason: x.reason, count: x.count })),
      message: u.explanation.message,
    })),
  };
}

export function explanationView(e: Explanation): ExplanationView {
  if (e.kind === 'placed') {
    return {
      kind: 'placed',
      source: 'plan',
      nodeId: e.nodeId,
      score: e.score,
      scores: e.scores.map((s) => ({ plugin: s.plugin, score: s.score, weight: s.weight })),
      alternatives: e.alternatives.map((a) => ({ nodeId: a.nodeId, score: a.score })),
      feasibleNodes: e.feasibleNodes,
      totalNodes: e.totalNodes,
      message: e.message,
    };
  }
  return {
    kind: 'unplaceable',
    source: 'plan',
    totalNodes: e.totalNodes,
    reasons: e.reasons.map((x) => ({ reason: x.reason, count: x.count })),
    message: e.message,
  };
}
