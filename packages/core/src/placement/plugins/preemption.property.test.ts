import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortRanges } from '../../resources/index.ts';
import { place } from '../place.ts';
import type { PlacementProfile } from '../registry.ts';
import { createSnapshot, type RunningTask, type SnapshotNodeInput } from '../snapshot.ts';
import { createPlacementTask } from '../task.ts';
import { compareCandidates, moreImportant, type PreemptionCandidate } from './preemption.ts';

const NO_EXT = new Map<string, number>();
const OFFSET = 2 ** 31;

interface Shape {
  readonly cpu: number;
  readonly memory: number;
  readonly ports: number;
  readonly tasks: readonly { priority: number; cpu: number; memory: number; ports: number; start: number }[];
}

function nodesOf(shapes: readonly Shape[]): SnapshotNodeInput[] {
  let port = 20_000;
  return shapes.map((shape, i) => {
    const tasks: RunningTask[] = shape.tasks.map((t, k) => ({
      id: `t-${i}-${k}`,
      app: `app-${k % 3}`,
      labels: {},
      priority: t.priority,
      startTime: t.start,
      requests: { cpu: t.cpu, memory: t.memory, disk: 0, gpus: 0, extended: NO_EXT },
      ports: Array.from({ length: t.ports }, () => port++),
    }));
    const free =
      shape.ports === 0
        ? PortRanges.EMPTY
        : PortRanges.fromPorts(Array.from({ length: shape.ports }, () => port++));
    return {
      id: `n${i}`,
      allocatable: { cpu: shape.cpu, memory: shape.memory },
      allocated: {
        cpu: shape.tasks.reduce((s, t) => s + t.cpu, 0),
        memory: shape.tasks.reduce((s, t) => s + t.memory, 0),
      },
      freePorts: free,
      tasks,
    };
  });
}

/**
 * kube-scheduler's choice, computed the plain way: on every node evict every lower-priority task,
 * check the task fits, reprieve most important first while it still fits, then pick the best
 * candidate by the upstream order.
 */
function reference(
  nodes: readonly SnapshotNodeInput[],
  task: { priority: number; cpu: number; memory: number; ports: number },
): { node: string; victims: string[] } | undefined {
  let best: PreemptionCandidate | undefined;
  nodes.forEach((n, i) => {
    const all = n.tasks ?? [];
    const lower = all.filter((t) => t.priority < task.priority).sort(moreImportant);
    if (lower.length === 0) return;
    let cpu = Number(n.allocatable.cpu) - Number(n.allocated?.cpu ?? 0);
    let memory = Number(n.allocatable.memory) - Number(n.allocated?.memory ?? 0);
    let ports = n.freePorts?.size ?? 0;
    for (const t of lower) {
      cpu += t.requests!.cpu;
      memory += t.requests!.memory;
      ports += t.ports!.length;
    }
    const fits = () => cpu >= task.cpu && memory >= task.memory && ports >= task.ports;
    if (!fits()) return;
    const victims: RunningTask[] = [];
    for (const t of lower) {
      cpu -= t.requests!.cpu;
      memory -= t.requests!.memory;
      ports -= t.ports!.length;
      if (fits()) continue;
      cpu += t.requests!.cpu;
      memory += t.requests!.memory;
      ports += t.ports!.length;
      victims.push(t);
    }
    if (victims.length === 0) return;
    const highest = victims[0]!.priority;
    let earliest = Number.POSITIVE_INFINITY;
    for (const v of victims) if (v.priority === highest) earliest = Math.min(earliest, v.startTime!);
    const c: PreemptionCandidate = {
      node: i,
      victims,
      violations: 0,
      highest,
      sum: victims.reduce((s, v) => s + v.priority + OFFSET, 0),
      earliestHighest: earliest,
    };
    if (best === undefined || compareCandidates(c, best) < 0) best = c;
  });
  if (best === undefined) return undefined;
  const b: PreemptionCandidate = best;
  return { node: nodes[b.node]!.id, victims: b.victims.map((v) => v.id) };
}

const profile: PlacementProfile = {
  name: 'preempting',
  plugins: [{ name: 'PrioritySort' }, { name: 'ResourcesFit' }, { name: 'DefaultPreemption' }],
};

const runningTask = fc.record({
  priority: fc.constantFrom(-5, 0, 1, 3, 10, 50),
  cpu: fc.integer({ min: 0, max: 6 }).map((c) => c * 250),
  memory: fc.integer({ min: 0, max: 4 }).map((m) => m * 512),
  ports: fc.integer({ min: 0, max: 2 }),
  start: fc.integer({ min: 0, max: 5 }),
});
const shape = fc.record({
  cpu: fc.integer({ min: 1, max: 8 }).map((c) => c * 1000),
  memory: fc.integer({ min: 1, max: 8 }).map((m) => m * 1024),
  ports: fc.integer({ min: 0, max: 2 }),
  tasks: fc.array(runningTask, { maxLength: 8 }),
});

describe('DefaultPreemption against a brute-force reference', () => {
  it('nominates the same node and victims as checking every node the plain kube-scheduler way', () => {
    fc.assert(
      fc.property(
        fc.array(shape, { minLength: 1, maxLength: 12 }).map((shapes) =>
          // Keep every node within its allocatable: drop tasks that overflow it.
          shapes.map((s) => {
            let cpu = 0;
            let memory = 0;
            const tasks = s.tasks.filter((t) => {
              if (cpu + t.cpu > s.cpu || memory + t.memory > s.memory) return false;
              cpu += t.cpu;
              memory += t.memory;
              return true;
            });
            return { ...s, tasks };
          }),
        ),
        fc.record({
          priority: fc.constantFrom(1, 10, 50, 100),
          cpu: fc.integer({ min: 1, max: 16 }).map((c) => c * 500),
          memory: fc.integer({ min: 0, max: 8 }).map((m) => m * 1024),
          ports: fc.integer({ min: 0, max: 3 }),
        }),
        (shapes, want) => {
          const nodes = nodesOf(shapes);
          const task = createPlacementTask({
            id: 'urgent',
            priority: want.priority,
            requests: { cpu: want.cpu, memory: want.memory },
            ports: Array.from({ length: want.ports }, (_, k) => ({ name: `p${k}` })),
          });
          const result = place([task], createSnapshot(nodes), profile);
          if (result.placements.length === 1) return; // it fit without preemption
          const pf = result.unplaceable[0]!.explanation.postFilter;
          const expected = reference(nodes, want);
          if (expected === undefined) expect(pf?.nominatedNodeId).toBeUndefined();
          else expect({ node: pf?.nominatedNodeId, victims: pf?.victims }).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});
