/**
 * The placement engine's view of a `ClusterAdapter` snapshot: what `berth plan`, the dashboard's
 * plan preview and any library user place against, whichever backend the snapshot came from.
 */
import type { ClusterSnapshot } from '../cluster/index.ts';
import type { Resources } from '../resources/index.ts';
import { createSnapshot, type RunningTask, type Snapshot, type SnapshotNodeInput } from './snapshot.ts';

function amounts(r: Resources): SnapshotNodeInput['allocatable'] {
  return { cpu: r.cpu, memory: r.memory, disk: r.disk, gpus: r.gpus, extended: r.extended };
}

/**
 * Build a placement snapshot from an adapter's `snapshot()`: every node with its allocatable and
 * allocated resources, free ports, labels and taints, and its running tasks (tenant, priority,
 * service). Nodes that are not ready take no new tasks, like cordoned ones.
 */
export function snapshotFromCluster(s: ClusterSnapshot): Snapshot {
  const byNode = new Map<string, RunningTask[]>();
  for (const a of s.allocations) {
    const list = byNode.get(a.nodeId) ?? [];
    list.push({
      id: a.taskId,
      ...(a.service === undefined ? {} : { app: a.service }),
      tenant: a.tenant,
      labels: a.service === undefined ? {} : { 'berth.dev/service': a.service },
      priority: a.priority,
    });
    byNode.set(a.nodeId, list);
  }
  return createSnapshot(
    s.nodes.map((n) => ({
      id: n.id,
      hostname: n.hostname,
      labels: n.labels,
      taints: n.taints,
      allocatable: amounts(n.allocatable),
      allocated: amounts(n.allocated),
      freePorts: n.allocatable.ports.sub(n.allocated.ports),
      unschedulable: n.unschedulable || !n.ready,
      tasks: byNode.get(n.id) ?? [],
    })),
  );
}
