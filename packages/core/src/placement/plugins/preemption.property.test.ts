import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortRanges } from '../../resources/index.ts';
import { place } from '../place.ts';
import type { PlacementProfile } from '../registry.ts';
import { createSnapshot, type RunningTask, type SnapshotNodeInput } from '../snapshot.ts';
import { createPlacementTask } from '../task.ts';
import { type ReferenceChoice, referencePreemption } from './__tests__/preemption-reference.ts';

const NO_EXT = new Map<string, number>();

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

/** The shared brute-force reference (every node, no pruning) for one urgent task. */
function reference(
  nodes: readonly SnapshotNodeInput[],
  task: { priority: number; cpu: number; memory: number; ports: number },
  budgets: Readonly<Record<string, number>> = {},
  nominated: ReadonlySet<string> = new Set(),
): ReferenceChoice | undefined {
  const disruptionBudgets = Object.fromEntries(
    Object.entries(budgets).map(([app, maxUnavailable]) => [app, { maxUnavailable }]),
  );
  return referencePreemption(nodes, urgent('urgent', task), { budgets: disruptionBudgets, nominated });
}

function profile(budgets: Readonly<Record<string, number>> = {}): PlacementProfile {
  const disruptionBudgets = Object.fromEntries(
    Object.entries(budgets).map(([app, maxUnavailable]) => [app, { maxUnavailable }]),
  );
  return {
    name: 'preempting',
    plugins: [
      { name: 'PrioritySort' },
      { name: 'ResourcesFit' },
      { name: 'DefaultPreemption', args: { disruptionBudgets } },
    ],
  };
}

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
          const result = place([task], createSnapshot(nodes), profile());
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

/** Running tasks of fitting sizes on up to 12 nodes (every node within its allocatable). */
const cluster = fc.array(shape, { minLength: 1, maxLength: 12 }).map((shapes) =>
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
);
const wanted = fc.record({
  priority: fc.constantFrom(1, 10, 50, 100),
  cpu: fc.integer({ min: 1, max: 16 }).map((c) => c * 500),
  memory: fc.integer({ min: 0, max: 8 }).map((m) => m * 1024),
  ports: fc.integer({ min: 0, max: 3 }),
});
const budgetsOf = fc.record(
  { 'app-0': fc.integer({ min: 0, max: 2 }), 'app-1': fc.integer({ min: 0, max: 2 }) },
  { requiredKeys: [] },
);

function urgent(id: string, want: { priority: number; cpu: number; memory: number; ports: number }) {
  return createPlacementTask({
    id,
    priority: want.priority,
    requests: { cpu: want.cpu, memory: want.memory },
    ports: Array.from({ length: want.ports }, (_, k) => ({ name: `p${k}` })),
  });
}

describe('DefaultPreemption against the brute-force reference, with budgets and batches', () => {
  it('honours disruption budgets exactly as the reference does', () => {
    fc.assert(
      fc.property(cluster, wanted, budgetsOf, (shapes, want, budgets) => {
        const nodes = nodesOf(shapes);
        const result = place([urgent('urgent', want)], createSnapshot(nodes), profile(budgets));
        if (result.placements.length === 1) return;
        const pf = result.unplaceable[0]!.explanation.postFilter;
        const expected = reference(nodes, want, budgets);
        if (expected === undefined) expect(pf?.nominatedNodeId).toBeUndefined();
        else expect({ node: pf?.nominatedNodeId, victims: pf?.victims }).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads per-task totals when the cluster runs more priority levels than it tracks by level', () => {
    // A node with 70 distinct priorities (no room, no requests) turns the level rows off.
    const levels: RunningTask[] = Array.from({ length: 70 }, (_, k) => ({
      id: `level-${k}`,
      labels: {},
      priority: 1000 + k,
      requests: { cpu: 0, memory: 0, disk: 0, gpus: 0, extended: NO_EXT },
    }));
    const crowded: SnapshotNodeInput = { id: 'crowded', allocatable: { cpu: 0, memory: 0 }, tasks: levels };
    fc.assert(
      fc.property(cluster, wanted, (shapes, want) => {
        const nodes = [...nodesOf(shapes), crowded];
        const snapshot = createSnapshot(nodes);
        const result = place([urgent('urgent', want)], snapshot, profile());
        expect(snapshot.evictableByLevel()).toBeUndefined();
        if (result.placements.length === 1) return;
        const pf = result.unplaceable[0]!.explanation.postFilter;
        const expected = reference(nodes, want);
        if (expected === undefined) expect(pf?.nominatedNodeId).toBeUndefined();
        else expect({ node: pf?.nominatedNodeId, victims: pf?.victims }).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves out the victims nominated for earlier tasks of the batch, as the reference does', () => {
    fc.assert(
      fc.property(cluster, wanted, wanted, budgetsOf, (shapes, first, second, budgets) => {
        const nodes = nodesOf(shapes);
        const a = createPlacementTask({ ...urgent('urgent-a', first), sequence: 0 });
        const b = createPlacementTask({ ...urgent('urgent-b', second), sequence: 1 });
        const both = place([a, b], createSnapshot(nodes), profile(budgets));
        const byId = new Map(both.unplaceable.map((u) => [u.taskId, u.explanation.postFilter]));
        // Replay in queue order (priority, then arrival): each search leaves out what the ones
        // before it nominated.
        const queue: [string, typeof first][] = [
          ['urgent-a', first],
          ['urgent-b', second],
        ];
        if (second.priority > first.priority) queue.reverse();
        const nominated = new Set<string>();
        for (const [id, want] of queue) {
          if (!byId.has(id)) return; // it fit somewhere: the snapshot changed, stop comparing
          const expected = reference(nodes, want, budgets, nominated);
          const pf = byId.get(id);
          if (expected === undefined) expect(pf?.nominatedNodeId).toBeUndefined();
          else {
            expect({ node: pf?.nominatedNodeId, victims: pf?.victims }).toEqual(expected);
            for (const v of expected.victims) nominated.add(v);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
