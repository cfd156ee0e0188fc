import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortRanges } from '../resources/index.ts';
import type { MarathonConstraint } from '../spec/index.ts';
import { place } from './place.ts';
import { matchesNodeSelector, tolerated } from './selectors.ts';
import { createSnapshot, type SnapshotNodeInput } from './snapshot.ts';
import { createPlacementTask, type PlacementTask } from './task.ts';

const nodeArb = fc.record({
  cpu: fc.integer({ min: 0, max: 8000 }),
  memory: fc.integer({ min: 0, max: 16 }),
  gpus: fc.integer({ min: 0, max: 2 }),
  usedCpu: fc.integer({ min: 0, max: 4000 }),
  zone: fc.constantFrom('z1', 'z2', 'z3'),
  rack: fc.option(fc.constantFrom('r1', 'r2', 'r3', 'r4'), { nil: undefined }),
  tainted: fc.boolean(),
  cordoned: fc.boolean(),
  ports: fc.integer({ min: 0, max: 3 }),
});

const constraintArb: fc.Arbitrary<MarathonConstraint> = fc.oneof(
  fc.constant<MarathonConstraint>({ field: 'hostname', operator: 'UNIQUE' }),
  fc.constant<MarathonConstraint>({ field: 'rack', operator: 'UNIQUE' }),
  fc.constant<MarathonConstraint>({ field: 'rack', operator: 'GROUP_BY' }),
  fc
    .integer({ min: 1, max: 3 })
    .map((n): MarathonConstraint => ({ field: 'zone', operator: 'MAX_PER', value: String(n) })),
  fc.constant<MarathonConstraint>({ field: 'rack', operator: 'LIKE', value: 'r[12]' }),
  fc.constant<MarathonConstraint>({ field: 'rack', operator: 'UNLIKE', value: 'r1' }),
  fc.constant<MarathonConstraint>({ field: 'zone', operator: 'IS', value: 'z2' }),
  fc.constant<MarathonConstraint>({ field: 'zone', operator: 'CLUSTER' }),
);

const taskArb = fc.record({
  cpu: fc.integer({ min: 0, max: 3000 }),
  memory: fc.integer({ min: 0, max: 8 }),
  gpus: fc.integer({ min: 0, max: 1 }),
  ports: fc.integer({ min: 0, max: 2 }),
  priority: fc.integer({ min: 0, max: 2 }),
  app: fc.constantFrom('a', 'b'),
  zone: fc.option(fc.constantFrom('z1', 'z2'), { nil: undefined }),
  tolerates: fc.boolean(),
  constraints: fc.array(constraintArb, { maxLength: 2 }),
});

function build(nodes: NodeCase[], tasks: TaskCase[]) {
  const inputs: SnapshotNodeInput[] = nodes.map((n, i) => ({
    id: `n${i}`,
    hostname: `h${i % 4}`,
    labels: { zone: n.zone, ...(n.rack === undefined ? {} : { rack: n.rack }) },
    taints: n.tainted ? [{ key: 'dedicated', effect: 'NoSchedule' }] : [],
    unschedulable: n.cordoned,
    allocatable: { cpu: n.cpu, memory: n.memory, gpus: n.gpus },
    allocated: { cpu: Math.min(n.usedCpu, n.cpu) },
    freePorts: n.ports === 0 ? PortRanges.EMPTY : PortRanges.of({ begin: 30000, end: 30000 + n.ports - 1 }),
  }));
  const ts: PlacementTask[] = tasks.map((t, i) =>
    createPlacementTask({
      id: `t${i}`,
      app: t.app,
      sequence: i,
      priority: t.priority,
      requests: { cpu: t.cpu, memory: t.memory, gpus: t.gpus },
      ports: Array.from({ length: t.ports }, (_, k) => ({ name: `p${k}` })),
      nodeSelector: t.zone === undefined ? {} : { zone: t.zone },
      tolerations: t.tolerates ? [{ key: 'dedicated', operator: 'Exists' }] : [],
      constraints: t.constraints,
    }),
  );
  return { inputs, ts };
}

type NodeCase = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type TaskCase = typeof taskArb extends fc.Arbitrary<infer T> ? T : never;

const scenario = fc.record({
  nodes: fc.array(nodeArb, { minLength: 1, maxLength: 12 }),
  tasks: fc.array(taskArb, { maxLength: 25 }),
  profile: fc.constantFrom('spread', 'binpack', 'balanced', 'kubernetes-default' as const),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe('place (properties)', () => {
  it('never over-commits a node in any resource, nor hands out a port twice', () => {
    fc.assert(
      fc.property(scenario, ({ nodes, tasks, profile, seed }) => {
        const { inputs, ts } = build(nodes, tasks);
        const snap = createSnapshot(inputs);
        const r = place(ts, snap, profile, { seed });
        const byId = new Map(ts.map((t) => [t.id, t]));
        inputs.forEach((n, i) => {
          const mine = r.placements.filter((p) => p.nodeId === n.id).map((p) => byId.get(p.taskId)!);
          const sum = (f: (t: PlacementTask) => number) => mine.reduce((s, t) => s + f(t), 0);
          expect((n.allocated?.cpu ?? 0) + sum((t) => t.requests.cpu)).toBeLessThanOrEqual(
            Math.max(n.allocatable.cpu ?? 0, n.allocated?.cpu ?? 0),
          );
          expect(sum((t) => t.requests.memory)).toBeLessThanOrEqual(n.allocatable.memory ?? 0);
          expect(sum((t) => t.requests.gpus)).toBeLessThanOrEqual(n.allocatable.gpus ?? 0);
          expect(snap.cpu.used[i]).toBe((n.allocated?.cpu ?? 0) + sum((t) => t.requests.cpu));
          const ports = r.placements.filter((p) => p.nodeId === n.id).flatMap((p) => p.ports);
          expect(new Set(ports).size).toBe(ports.length);
          for (const p of ports) expect(n.freePorts!.contains(p)).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('never violates a filter: selectors, taints, cordons and Marathon constraints hold', () => {
    fc.assert(
      fc.property(scenario, ({ nodes, tasks, profile, seed }) => {
        const { inputs, ts } = build(nodes, tasks);
        const r = place(ts, createSnapshot(inputs), profile, { seed });
        const nodeOf = new Map(inputs.map((n) => [n.id, n]));
        const byId = new Map(ts.map((t) => [t.id, t]));
        const placedSoFar: { task: PlacementTask; node: SnapshotNodeInput }[] = [];
        for (const p of r.placements) {
          const task = byId.get(p.taskId)!;
          const node = nodeOf.get(p.nodeId)!;
          expect(matchesNodeSelector(node.labels!, task.nodeSelector)).toBe(true);
          for (const taint of node.taints ?? []) expect(tolerated(task.tolerations, taint)).toBe(true);
          expect(node.unschedulable).toBe(false);
          const same = placedSoFar.filter((x) => x.task.app === task.app);
          const value = (n: SnapshotNodeInput, field: string) =>
            field === 'hostname' ? n.hostname : n.labels?.[field];
          for (const c of task.constraints) {
            const v = value(node, c.field);
            const peers = same.map((x) => value(x.node, c.field));
            if (c.operator === 'UNLIKE') {
              if (v !== undefined) expect(c.regex!.test(v)).toBe(false);
              continue;
            }
            expect(v).toBeDefined();
            if (c.operator === 'UNIQUE') expect(peers).not.toContain(v);
            if (c.operator === 'MAX_PER') expect(peers.filter((x) => x === v).length).toBeLessThan(c.count!);
            if (c.operator === 'LIKE') expect(c.regex!.test(v!)).toBe(true);
            if (c.operator === 'IS') expect(v).toBe(c.value);
            if (c.operator === 'CLUSTER' && peers.some((x) => x !== undefined)) expect(peers).toContain(v);
          }
          placedSoFar.push({ task, node });
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same output for the same input and seed', () => {
    fc.assert(
      fc.property(scenario, ({ nodes, tasks, profile, seed }) => {
        const { inputs, ts } = build(nodes, tasks);
        const a = place(ts, createSnapshot(inputs), profile, { seed, explain: { nodes: true } });
        const b = place(ts, createSnapshot(inputs), profile, { seed, explain: { nodes: true } });
        expect(b).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });
});
