/**
 * The indexed path against a straightforward reference: a per-task loop that asks every filter
 * about every node one by one, scores the feasible ones with `score`, normalises, sums, and picks
 * the best with the seeded tie-break — the scheduling cycle written as plainly as possible. The
 * property tests get a generous timeout: they take a few seconds, more on a loaded machine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortRanges } from '../resources/index.ts';
import type { MarathonConstraint } from '../spec/index.ts';
import { CycleState } from './cycle-state.ts';
import { Framework } from './framework.ts';
import { place } from './place.ts';
import type { PlacementContext } from './plugin.ts';
import { BUILT_IN_PROFILES, defaultRegistry } from './profiles.ts';
import type { PlacementProfile } from './registry.ts';
import { SeededRandom } from './seeded-random.ts';
import { createSnapshot, type Snapshot, type SnapshotNodeInput } from './snapshot.ts';
import { createPlacementTask, type PlacementTask } from './task.ts';

interface RefPlacement {
  readonly taskId: string;
  readonly nodeId: string;
  readonly score: number;
  readonly scores: readonly { plugin: string; score: number; weight: number }[];
  readonly feasibleNodes: number;
  readonly tiedNodes: number;
  readonly alternatives: readonly { nodeId: string; score: number }[];
}

/** The scheduling cycle, node by node, with no index and no fast path. */
function referencePlace(
  tasks: readonly PlacementTask[],
  snapshot: Snapshot,
  profile: PlacementProfile,
  seed: number,
): { placements: RefPlacement[]; unplaceable: string[] } {
  const fw = Framework.build(profile, defaultRegistry());
  const random = new SeededRandom(seed);
  const placements: RefPlacement[] = [];
  const unplaceable: string[] = [];
  for (const task of fw.sortTasks(tasks)) {
    const ctx: PlacementContext = { task, snapshot, state: new CycleState() };
    const skipped = new Set<string>();
    let rejected = false;
    for (const p of fw.preFilter) {
      const s = p.preFilter(ctx);
      if (s?.code === 'Skip') skipped.add(p.name);
      else if (s !== undefined && s.code !== 'Success') rejected = true;
    }
    const feasible: number[] = [];
    if (!rejected) {
      for (let node = 0; node < snapshot.size; node++) {
        const ok = fw.filter.every((f) => {
          if (skipped.has(f.name)) return true;
          const s = f.filter(ctx, node);
          return s === undefined || s.code === 'Success';
        });
        if (ok) feasible.push(node);
      }
    }
    if (feasible.length === 0) {
      unplaceable.push(task.id);
      continue;
    }
    const cand = Int32Array.from(feasible);
    const skippedScores = new Set<string>();
    for (const p of fw.preScore)
      if (p.preScore(ctx, cand, cand.length)?.code === 'Skip') skippedScores.add(p.name);
    const perPlugin = fw.score
      .filter((s) => !skippedScores.has(s.plugin.name))
      .map(({ plugin, weight }) => {
        const out = Float64Array.from(feasible, (node) => plugin.score(ctx, node));
        plugin.normalizeScore?.(ctx, cand, cand.length, out);
        return { plugin: plugin.name, weight, out: out.map((v) => (v >= 0 ? Math.min(v, 100) : 0)) };
      });
    const total = feasible.map((_, k) => perPlugin.reduce((sum, p) => sum + p.out[k]! * p.weight, 0));
    const best = Math.max(...total);
    const tied = feasible.filter((_, k) => total[k] === best);
    const node = tied.length === 1 ? tied[0]! : tied[random.nextInt(tied.length)]!;
    const k = feasible.indexOf(node);
    const alternatives = feasible
      .map((n, j) => ({ n, j }))
      .filter((x) => x.n !== node)
      .sort((a, b) => total[b.j]! - total[a.j]! || a.n - b.n)
      .slice(0, 3)
      .map((x) => ({ nodeId: snapshot.ids[x.n]!, score: total[x.j]! }));
    placements.push({
      taskId: task.id,
      nodeId: snapshot.ids[node]!,
      score: total[k]!,
      scores: perPlugin.map((p) => ({ plugin: p.plugin, score: p.out[k]!, weight: p.weight })),
      feasibleNodes: feasible.length,
      tiedNodes: tied.length,
      alternatives,
    });
    snapshot.assume(node, task);
  }
  return { placements, unplaceable };
}

const nodeArb = fc.record({
  cpu: fc.constantFrom(1000, 2000, 4000),
  memory: fc.constantFrom(4, 8),
  usedCpu: fc.constantFrom(0, 0, 0, 250, 500),
  zone: fc.constantFrom('z1', 'z2', 'z3'),
  disk: fc.constantFrom('ssd', 'hdd'),
  taint: fc.constantFrom('none', 'none', 'prefer', 'prefer2', 'dedicated'),
  cordoned: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
  ports: fc.integer({ min: 0, max: 3 }),
  foo: fc.constantFrom(0, 0, 2),
});

/** Few shapes, so tasks share indexes; some carry rules that force a scan. */
const taskArb = fc.record({
  cpu: fc.constantFrom(0, 250, 500, 1000),
  memory: fc.constantFrom(0, 1, 2),
  ports: fc.integer({ min: 0, max: 1 }),
  fixedPort: fc.option(fc.constantFrom(30000, 30001), { nil: undefined, freq: 4 }),
  foo: fc.constantFrom(0, 0, 0, 1),
  priority: fc.integer({ min: 0, max: 1 }),
  app: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  selector: fc.constantFrom('none', 'none', 'ssd', 'prefer-z1'),
  tolerates: fc.constantFrom('none', 'none', 'dedicated', 'prefer'),
  constraint: fc.option(
    fc.constantFrom<MarathonConstraint>(
      { field: 'hostname', operator: 'UNIQUE' },
      { field: 'zone', operator: 'GROUP_BY' },
    ),
    { nil: undefined, freq: 6 },
  ),
  antiZone: fc.integer({ min: 0, max: 11 }).map((x) => x === 0),
});

type TaskCase = typeof taskArb extends fc.Arbitrary<infer T> ? T : never;

const TAINTS = {
  none: [],
  prefer: [{ key: 'spot', effect: 'PreferNoSchedule' as const }],
  prefer2: [
    { key: 'spot', effect: 'PreferNoSchedule' as const },
    { key: 'old', effect: 'PreferNoSchedule' as const },
  ],
  dedicated: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' as const }],
};

interface NodeShape {
  readonly cpu: number;
  readonly memory: number;
  readonly usedCpu: number;
  readonly zone: string;
  readonly disk: string;
  readonly taint: keyof typeof TAINTS;
  readonly cordoned: boolean;
  readonly ports: number;
  readonly foo: number;
}

function nodesOf(cases: readonly NodeShape[]): SnapshotNodeInput[] {
  return cases.map((n, i) => ({
    id: `n${i}`,
    hostname: `h${i % 5}`,
    labels: { zone: n.zone, disk: n.disk },
    taints: TAINTS[n.taint],
    unschedulable: n.cordoned,
    allocatable: { cpu: n.cpu, memory: n.memory, extended: { 'example.com/foo': n.foo } },
    allocated: { cpu: Math.min(n.usedCpu, n.cpu) },
    freePorts: n.ports === 0 ? PortRanges.EMPTY : PortRanges.of({ begin: 30000, end: 30000 + n.ports - 1 }),
  }));
}

function tasksOf(cases: readonly TaskCase[]): PlacementTask[] {
  return cases.map((t, i) =>
    createPlacementTask({
      id: `t${i}`,
      app: t.app,
      labels: { app: t.app },
      sequence: i,
      priority: t.priority,
      requests: { cpu: t.cpu, memory: t.memory, extended: t.foo === 0 ? {} : { 'example.com/foo': t.foo } },
      ports: [
        ...(t.ports === 0 ? [] : [{ name: 'http' }]),
        ...(t.fixedPort === undefined ? [] : [{ name: 'admin', hostPort: t.fixedPort }]),
      ],
      nodeSelector: t.selector === 'ssd' ? { disk: 'ssd' } : {},
      ...(t.selector === 'prefer-z1'
        ? {
            nodeAffinity: {
              preferred: [
                {
                  weight: 5,
                  preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] },
                },
              ],
            },
          }
        : {}),
      tolerations:
        t.tolerates === 'dedicated'
          ? [{ key: 'dedicated', operator: 'Exists' }]
          : t.tolerates === 'prefer'
            ? [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }]
            : [],
      constraints: t.constraint === undefined ? [] : [t.constraint],
      taskAntiAffinity: t.antiZone
        ? [{ labelSelector: { matchLabels: { app: t.app }, matchExpressions: [] }, topologyKey: 'zone' }]
        : [],
    }),
  );
}

const PROFILES: readonly PlacementProfile[] = [
  BUILT_IN_PROFILES.spread,
  BUILT_IN_PROFILES.binpack,
  BUILT_IN_PROFILES.balanced,
  BUILT_IN_PROFILES['kubernetes-default'],
  {
    name: 'shape',
    plugins: [
      { name: 'PrioritySort' },
      { name: 'NodeUnschedulable' },
      { name: 'TaintToleration', weight: 2 },
      { name: 'NodeAffinity', weight: 3 },
      { name: 'ResourcesFit' },
      { name: 'TaskAffinity' },
      { name: 'MarathonConstraints' },
      {
        name: 'RequestedToCapacityRatio',
        args: {
          shape: [
            { utilization: 0, score: 10 },
            { utilization: 60, score: 2 },
            { utilization: 100, score: 5 },
          ],
        },
      },
    ],
  },
];

const scenario = fc.record({
  nodes: fc.oneof(
    fc.array(nodeArb, { minLength: 1, maxLength: 10, size: 'max' }),
    fc.array(nodeArb, { minLength: 20, maxLength: 50, size: 'max' }),
  ),
  tasks: fc.array(taskArb, { maxLength: 60, size: 'max' }),
  profile: fc.constantFrom(...PROFILES),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe('place (indexed path)', () => {
  it('places like the node-by-node reference: same nodes, scores, ties, feasible counts and runners-up', () => {
    fc.assert(
      fc.property(scenario, ({ nodes, tasks, profile, seed }) => {
        const inputs = nodesOf(nodes);
        const ts = tasksOf(tasks);
        const ref = referencePlace(ts, createSnapshot(inputs), profile, seed);
        const got = place(ts, createSnapshot(inputs), profile, { seed });
        expect(got.unplaceable.map((u) => u.taskId)).toEqual(ref.unplaceable);
        expect(
          got.placements.map((p) => ({
            taskId: p.taskId,
            nodeId: p.nodeId,
            score: p.explanation.score,
            scores: p.explanation.scores,
            feasibleNodes: p.explanation.feasibleNodes,
            tiedNodes: p.explanation.tiedNodes,
            alternatives: p.explanation.alternatives.map((a) => ({ nodeId: a.nodeId, score: a.score })),
          })),
        ).toEqual(ref.placements);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('gives exactly the result of a full scan, explanations included', () => {
    fc.assert(
      fc.property(scenario, ({ nodes, tasks, profile, seed }) => {
        const inputs = nodesOf(nodes);
        const ts = tasksOf(tasks);
        const explain = { alternatives: 4, nodes: true };
        const scanned = place(ts, createSnapshot(inputs), profile, { seed, explain, indexed: false });
        const indexed = place(ts, createSnapshot(inputs), profile, { seed, explain });
        expect(indexed).toEqual(scanned);
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('keeps indexes of one framework current across batches, forgets and outside changes', () => {
    const inputs = nodesOf(
      Array.from({ length: 30 }, (_, i) => ({
        cpu: 4000,
        memory: 8,
        usedCpu: (i * 37) % 1000,
        zone: `z${i % 3}`,
        disk: i % 2 === 0 ? 'ssd' : 'hdd',
        taint: i % 7 === 0 ? ('prefer' as const) : ('none' as const),
        cordoned: false,
        ports: 2,
        foo: 0,
      })),
    );
    const fw = Framework.build(BUILT_IN_PROFILES.spread, defaultRegistry());
    const indexed = createSnapshot(inputs);
    const scanned = createSnapshot(inputs);
    const batch = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) =>
        createPlacementTask({ id: `t${from + i}`, requests: { cpu: 500, memory: 1 }, sequence: from + i }),
      );
    for (let round = 0; round < 4; round++) {
      const ts = batch(12, round * 12);
      const a = place(ts, indexed, fw, { seed: round });
      const b = place(ts, scanned, BUILT_IN_PROFILES.spread, { seed: round, indexed: false });
      expect(a).toEqual(b);
      // Change a node behind the engine's back, as a preemption what-if would, and say so.
      const node = round * 5;
      indexed.cpu.used[node]! += 2500;
      indexed.touch(node);
      scanned.cpu.used[node]! += 2500;
    }
    // A what-if on the same snapshot: assume then forget leaves the indexes consistent.
    const extra = batch(1, 200)[0]!;
    indexed.forget(indexed.assume(3, extra));
    scanned.forget(scanned.assume(3, extra));
    expect(place(batch(20, 300), indexed, fw, { seed: 2 })).toEqual(
      place(batch(20, 300), scanned, BUILT_IN_PROFILES.spread, { seed: 2, indexed: false }),
    );
  });

  it('follows a normalisation maximum down when the nodes holding it fill up', () => {
    const inputs: SnapshotNodeInput[] = [
      { id: 'a', labels: { name: 'a' }, allocatable: { cpu: 1000 }, taints: TAINTS.prefer2 },
      {
        id: 'b',
        labels: { name: 'b' },
        allocatable: { cpu: 2000 },
        allocated: { cpu: 1000 },
        taints: TAINTS.prefer,
      },
      { id: 'c', labels: { name: 'c' }, allocatable: { cpu: 1000 } },
      // Enough other nodes that the index updates only the changed ones.
      ...Array.from({ length: 12 }, (_, i) => ({
        id: `cordoned-${i}`,
        allocatable: { cpu: 8000 },
        unschedulable: true,
      })),
    ];
    const ts = [
      createPlacementTask({ id: 'first', requests: { cpu: 1000 }, sequence: 0 }),
      createPlacementTask({
        id: 'fills-a',
        requests: { cpu: 1000 },
        nodeSelector: { name: 'a' },
        sequence: 1,
      }),
      createPlacementTask({ id: 'last', requests: { cpu: 1000 }, sequence: 2 }),
    ];
    const indexed = place(ts, createSnapshot(inputs), 'spread');
    expect(indexed.placements.map((p) => p.nodeId)).toEqual(['c', 'a', 'b']);
    // b's one PreferNoSchedule taint is now the most of any feasible node: the worst, 0.
    expect(indexed.placements[2]!.explanation.scores).toContainEqual({
      plugin: 'TaintToleration',
      score: 0,
      weight: 1,
    });
    expect(indexed).toEqual(place(ts, createSnapshot(inputs), 'spread', { indexed: false }));
  });

  it('scans every node when a pre-score plugin has no shape key, so it sees the candidates', () => {
    const seen: number[] = [];
    const registry = defaultRegistry().register('CountCandidates', () => ({
      name: 'CountCandidates',
      preScore(_ctx: PlacementContext, _cand: Int32Array, count: number) {
        seen.push(count);
        return undefined;
      },
    }));
    const profile: PlacementProfile = {
      name: 'counting',
      plugins: [...BUILT_IN_PROFILES.spread.plugins, { name: 'CountCandidates' }],
    };
    const inputs = nodesOf(
      Array.from({ length: 6 }, (_, i) => ({
        cpu: 4000,
        memory: 8,
        usedCpu: 0,
        zone: 'z1',
        disk: 'ssd',
        taint: i < 2 ? ('dedicated' as const) : ('none' as const),
        cordoned: false,
        ports: 1,
        foo: 0,
      })),
    );
    const ts = [0, 1].map((i) => createPlacementTask({ id: `t${i}`, requests: { cpu: 100 }, sequence: i }));
    place(ts, createSnapshot(inputs), profile, { registry });
    expect(seen).toEqual([4, 4]);
  });
});
