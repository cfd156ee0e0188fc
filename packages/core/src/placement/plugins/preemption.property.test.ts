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
 * kube-scheduler's choice, computed the plain way: on every node evict every lower-priority task
 * (but those nominated before), check the task fits, reprieve most important first while it still
 * fits — tasks whose eviction breaks their service's budget first — then pick the best candidate
 * by the upstream order, leaving out (strict budgets) any that breaks a budget.
 */
function reference(
  nodes: readonly SnapshotNodeInput[],
  task: { priority: number; cpu: number; memory: number; ports: number },
  budgets: Readonly<Record<string, number>> = {},
  nominated: ReadonlySet<string> = new Set(),
): { node: string; victims: string[] } | undefined {
  const down = new Map<string, number>();
  for (const n of nodes)
    for (const t of n.tasks ?? [])
      if (nominated.has(t.id) && t.app !== undefined) down.set(t.app, (down.get(t.app) ?? 0) + 1);
  let best: PreemptionCandidate | undefined;
  nodes.forEach((n, i) => {
    const all = n.tasks ?? [];
    const eligible = all
      .filter((t) => t.priority < task.priority && !nominated.has(t.id))
      .sort(moreImportant);
    if (eligible.length === 0) return;
    const left = new Map<string, number>();
    const breaks = new Set<RunningTask>();
    for (const t of eligible) {
      const max = t.app === undefined ? undefined : budgets[t.app];
      if (max === undefined) continue;
      const k = (left.get(t.app!) ?? max - (down.get(t.app!) ?? 0)) - 1;
      left.set(t.app!, k);
      if (k < 0) breaks.add(t);
    }
    const lower = [...eligible.filter((t) => breaks.has(t)), ...eligible.filter((t) => !breaks.has(t))];
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
    if (victims.some((v) => breaks.has(v))) return;
    victims.sort(moreImportant);
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
