import { Resources } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { EngineNode } from '../engine/index.ts';
import { nodeCapacity, nodeLabels, nodeObject } from './node-object.ts';

const node = (over: Partial<EngineNode> = {}): EngineNode => ({
  id: 'gpu-1',
  hostname: 'gpu-1.lab',
  address: '127.0.0.1',
  labels: { 'kubernetes.io/hostname': 'gpu-1.lab', 'topology.kubernetes.io/zone': 'zone-b', team: 'ml' },
  attributes: {},
  taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
  zone: 'zone-b',
  capacity: Resources.of({
    cpu: 8500,
    memory: 16 * 2 ** 30,
    disk: 100 * 2 ** 30,
    gpus: 2,
    extended: { 'example.com/fpga': 1 },
  }),
  allocated: Resources.ZERO,
  free: Resources.ZERO,
  condition: 'ready',
  taskIds: [],
  ...over,
});

describe('node object', () => {
  it('reports every resource as Kubernetes quantities, with pods', () => {
    expect(nodeCapacity(node(), 110)).toEqual({
      cpu: '8500m',
      memory: '16Gi',
      'ephemeral-storage': '100Gi',
      'nvidia.com/gpu': '2',
      'example.com/fpga': '1',
      pods: '110',
    });
  });

  it('adds the well-known labels and keeps the engine labels', () => {
    expect(nodeLabels(node())).toMatchObject({
      'kubernetes.io/hostname': 'gpu-1.lab',
      'topology.kubernetes.io/zone': 'zone-b',
      'topology.kubernetes.io/region': 'devcluster',
      'node.kubernetes.io/instance-type': 'berth-8.5cpu-16gi',
      'berth.dev/virtual-kubelet': 'true',
      team: 'ml',
    });
  });

  it('builds a Node with taints, a Ready condition and the kubelet port', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const n = nodeObject(node(), { kubeletPort: 10250, maxPods: 50, now, ready: true });
    expect(n.metadata?.name).toBe('gpu-1');
    expect(n.spec?.taints).toEqual([{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
    expect(n.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(n.status?.allocatable).toEqual(n.status?.capacity);
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      lastHeartbeatTime: now,
    });
  });
});
