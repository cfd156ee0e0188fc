import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot } from '../cluster/index.ts';
import { PortRanges, Resources } from '../resources/index.ts';
import { snapshotFromCluster } from './snapshot-cluster.ts';

const GiB = 1024 ** 3;

const cluster: ClusterSnapshot = {
  backend: 'mesos',
  takenAt: 1_700_000_000_000,
  nodes: [
    {
      id: 'agent-1',
      hostname: 'node-1',
      labels: { rack: 'r1' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
      allocatable: Resources.of({
        cpu: 4000,
        memory: 8 * GiB,
        ports: PortRanges.of({ begin: 31000, end: 31009 }),
      }),
      allocated: Resources.of({
        cpu: 1500,
        memory: 2 * GiB,
        ports: PortRanges.of({ begin: 31000, end: 31001 }),
      }),
      ready: true,
      unschedulable: false,
    },
    {
      id: 'agent-2',
      hostname: 'node-2',
      labels: {},
      taints: [],
      allocatable: Resources.of({ cpu: 2000, memory: 4 * GiB }),
      allocated: Resources.ZERO,
      ready: false,
      unschedulable: false,
    },
  ],
  allocations: [
    {
      taskId: 'web-0',
      nodeId: 'agent-1',
      tenant: 'shop',
      priority: 100,
      resources: Resources.of({ cpu: 1500, memory: 2 * GiB }),
      service: 'web',
    },
  ],
};

describe('snapshotFromCluster', () => {
  it("carries each node's resources, free ports, labels, taints and running tasks", () => {
    const snap = snapshotFromCluster(cluster);
    const i = snap.indexOf('agent-1');
    expect(snap.labels(i)).toEqual({ rack: 'r1' });
    expect(snap.taints(i)).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(snap.freePorts(i).toString()).toBe('31002-31009');
    expect(snap.tasks(i)).toEqual([
      { id: 'web-0', app: 'web', tenant: 'shop', labels: { 'berth.dev/service': 'web' }, priority: 100 },
    ]);
  });

  it('takes no new tasks on a node that is not ready, as on a cordoned one', () => {
    const snap = snapshotFromCluster(cluster);
    expect(snap.node(snap.indexOf('agent-2')).unschedulable).toBe(true);
    expect(snap.node(snap.indexOf('agent-1')).unschedulable).toBe(false);
    expect(snap.node(snap.indexOf('agent-1')).allocated.cpu).toBe(1500);
  });
});
