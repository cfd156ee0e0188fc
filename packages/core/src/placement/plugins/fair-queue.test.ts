import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../cluster/errors.ts';
import { place } from '../place.ts';
import type { PlacementContext } from '../plugin.ts';
import { defaultRegistry } from '../profiles.ts';
import type { PlacementProfile } from '../registry.ts';
import { createSnapshot, type Snapshot, type SnapshotNodeInput } from '../snapshot.ts';
import { createPlacementTask, type PlacementTask } from '../task.ts';
import { fairQueueSort, placeFairly, tenantLedger } from './fair-queue.ts';
import { gangTasks } from './gang.ts';

const GB = 1024 ** 3;

function fair(tenants: Record<string, { weight?: number }> = {}, quota?: object): PlacementProfile {
  return {
    name: 'fair',
    plugins: [
      { name: 'FairQueueSort', args: { tenants } },
      { name: 'NodeUnschedulable' },
      { name: 'ResourcesFit' },
      ...(quota === undefined ? [] : [{ name: 'TenantQuota', args: { tenants: quota } as never }]),
      { name: 'LeastAllocated' },
    ],
  };
}

let seq = 0;
function tasks(tenant: string, n: number, cpu: number, memGB: number, priority = 0): PlacementTask[] {
  return Array.from({ length: n }, (_, i) =>
    createPlacementTask({
      id: `${tenant}-${i}`,
      tenant,
      priority,
      requests: { cpu: cpu * 1000, memory: memGB * GB },
      sequence: seq++,
    }),
  );
}

function count(placements: readonly { taskId: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of placements) {
    const t = p.taskId.slice(0, p.taskId.lastIndexOf('-'));
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}

/** The textbook progressive filling of the DRF paper, with weights, for comparison. */
function textbook(
  total: [number, number],
  demand: Record<string, [number, number]>,
  weights: Record<string, number>,
): Record<string, number> {
  const used: [number, number] = [0, 0];
  const alloc: Record<string, [number, number]> = {};
  const n: Record<string, number> = {};
  const blocked = new Set<string>();
  for (const t of Object.keys(demand)) {
    alloc[t] = [0, 0];
    n[t] = 0;
  }
  for (;;) {
    const open = Object.keys(demand).filter((t) => !blocked.has(t));
    if (open.length === 0) return n;
    const share = (t: string) =>
      Math.max(alloc[t]![0] / total[0], alloc[t]![1] / total[1]) / (weights[t] ?? 1);
    open.sort((a, b) => share(a) - share(b) || n[a]! - n[b]! || (a < b ? -1 : 1));
    const t = open[0]!;
    const d = demand[t]!;
    if (used[0] + d[0] > total[0] || used[1] + d[1] > total[1]) {
      blocked.add(t);
      continue;
    }
    used[0] += d[0];
    used[1] += d[1];
    alloc[t]![0] += d[0];
    alloc[t]![1] += d[1];
    n[t]!++;
  }
}

const paperNode = (): SnapshotNodeInput[] => [{ id: 'n', allocatable: { cpu: 9000, memory: 18 * GB } }];

describe.each([
  ['place', place],
  ['placeFairly (the compatibility alias)', placeFairly],
] as const)('FairQueueSort through %s (weighted DRF)', (_, placeFairly) => {
  it('reproduces the DRF paper: <9 cpu, 18 GB>, A <1 cpu, 4 GB>, B <3 cpu, 1 GB> → A runs 3, B runs 2', () => {
    const batch = [...tasks('B', 6, 3, 1), ...tasks('A', 6, 1, 4)];
    const { placements } = placeFairly(batch, createSnapshot(paperNode()), fair());
    expect(count(placements)).toEqual({ A: 3, B: 2 });
  });

  it('follows the weights: A of weight 3 runs 4 tasks and B 1 on the paper cluster', () => {
    const batch = [...tasks('A', 6, 1, 4), ...tasks('B', 6, 3, 1)];
    const { placements } = placeFairly(batch, createSnapshot(paperNode()), fair({ A: { weight: 3 } }));
    expect(count(placements)).toEqual({ A: 4, B: 1 });
  });

  it('agrees with textbook weighted progressive filling on random two-tenant workloads', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        ([ac, am], [bc, bm], wa, wb) => {
          const batch = [...tasks('A', 30, ac, am), ...tasks('B', 30, bc, bm)];
          const nodes = [{ id: 'n', allocatable: { cpu: 24_000, memory: 24 * GB } }];
          const got = count(
            placeFairly(batch, createSnapshot(nodes), fair({ A: { weight: wa }, B: { weight: wb } }))
              .placements,
          );
          const want = textbook([24, 24], { A: [ac, am], B: [bc, bm] }, { A: wa, B: wb });
          expect({ A: got.A ?? 0, B: got.B ?? 0 }).toEqual(want);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives four symmetric tenants with equal weights dominant shares with a Jain index ≥ 0.99', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => ({
      id: `n${i}`,
      allocatable: { cpu: 16_000, memory: 64 * GB },
    }));
    const batch = ['t1', 't2', 't3', 't4'].flatMap((t) => tasks(t, 200, 1, 2));
    const snapshot = createSnapshot(nodes);
    placeFairly(batch, snapshot, fair());
    const ledger = tenantLedger(snapshot);
    const total = ledger.total();
    const shares = ['t1', 't2', 't3', 't4'].map((t) => ledger.allocation(t).dominantShare(total));
    const jain = shares.reduce((a, b) => a + b) ** 2 / (4 * shares.reduce((a, b) => a + b * b, 0));
    expect(shares.every((s) => s > 0.2)).toBe(true);
    expect(jain).toBeGreaterThanOrEqual(0.99);
  });

  it('converges to shares 1:2 within 5% for weights 1:2 when both want everything', () => {
    const nodes = Array.from({ length: 10 }, (_, i) => ({
      id: `n${i}`,
      allocatable: { cpu: 32_000, memory: 64 * GB },
    }));
    const batch = [...tasks('light', 400, 1, 1), ...tasks('heavy', 400, 1, 1)];
    const snapshot = createSnapshot(nodes);
    placeFairly(batch, snapshot, fair({ heavy: { weight: 2 } }));
    const ledger = tenantLedger(snapshot);
    const total = ledger.total();
    const ratio =
      ledger.allocation('heavy').dominantShare(total) / ledger.allocation('light').dominantShare(total);
    expect(Math.abs(ratio - 2) / 2).toBeLessThanOrEqual(0.05);
  });

  it('counts what tenants already run: a tenant with a head start waits for the others', () => {
    const nodes: SnapshotNodeInput[] = [
      {
        id: 'n',
        allocatable: { cpu: 10_000, memory: 10 * GB },
        allocated: { cpu: 4000, memory: 4 * GB },
        tasks: [
          {
            id: 'old',
            tenant: 'A',
            labels: {},
            priority: 0,
            requests: { cpu: 4000, memory: 4 * GB, disk: 0, gpus: 0, extended: new Map() },
          },
        ],
      },
    ];
    const batch = [...tasks('A', 6, 1, 1), ...tasks('B', 6, 1, 1)];
    const { placements } = placeFairly(batch, createSnapshot(nodes), fair());
    expect(count(placements)).toEqual({ A: 1, B: 5 });
  });

  it('places higher priority first whatever the shares', () => {
    const batch = [...tasks('A', 5, 1, 4), ...tasks('B', 5, 3, 1, 100)];
    const { placements } = placeFairly(batch, createSnapshot(paperNode()), fair());
    expect(count(placements)).toEqual({ B: 3 });
  });

  it('refuses bad weights, naming the field', () => {
    try {
      place([], createSnapshot(paperNode()), fair({ A: { weight: 0 } }));
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'SPEC_INVALID')).toBe(true);
      expect((err as Error).message).toContain('profile.plugins[0].args.tenants.A.weight');
    }
  });
});

describe('FairQueueSort in a plain place batch', () => {
  it('placeFairly still refuses a profile whose queue sort is not FairQueueSort', () => {
    expect(() => placeFairly([], createSnapshot(paperNode()), 'spread')).toThrow(/FairQueueSort/);
  });

  it('picks the next task after every reservation: the DRF paper order, step by step', () => {
    const batch = [...tasks('A', 6, 1, 4), ...tasks('B', 6, 3, 1)];
    const { placements } = place(batch, createSnapshot(paperNode()), fair());
    // A (0 = 0, A's name first), B, A, B, A: then neither fits.
    expect(placements.map((p) => p.taskId)).toEqual(['A-0', 'B-0', 'A-1', 'B-1', 'A-2']);
  });

  it("takes a rolled-back gang out of its tenant's share again", () => {
    const profile: PlacementProfile = {
      name: 'fair-gangs',
      plugins: [
        { name: 'FairQueueSort' },
        { name: 'ResourcesFit' },
        { name: 'LeastAllocated' },
        { name: 'Gang' },
      ],
    };
    const nodes = [{ id: 'n', allocatable: { cpu: 4000, memory: 16 * GB } }];
    // A's gang of 5 (1 cpu each) cannot fit in 4 cpu: its 4 reserved members are rolled back,
    // so A's share is 0 again and A's next task ties with B's — A wins the tie by name.
    const gang = gangTasks(tasks('A', 5, 1, 1), 'train');
    const single = tasks('A', 1, 1, 1).map((t) => ({ ...t, id: 'A-solo' }));
    const b = tasks('B', 2, 1, 1);
    const { placements } = place([...gang, ...single, ...b], createSnapshot(nodes), profile);
    expect(placements.map((p) => p.taskId)).toEqual(['A-solo', 'B-0', 'B-1']);
  });

  it('keeps a gang together in the order, as one unit at its first arrival', () => {
    const profile: PlacementProfile = {
      name: 'fair-gangs',
      plugins: [
        { name: 'FairQueueSort' },
        { name: 'ResourcesFit' },
        { name: 'LeastAllocated' },
        { name: 'Gang' },
      ],
    };
    const nodes = [{ id: 'n', allocatable: { cpu: 16_000, memory: 64 * GB } }];
    const gang = gangTasks(tasks('A', 3, 1, 1), 'train');
    const b = tasks('B', 3, 1, 1);
    const { placements } = place([...gang, ...b], createSnapshot(nodes), profile);
    expect(placements.map((p) => p.taskId)).toEqual(['A-0', 'A-1', 'A-2', 'B-0', 'B-1', 'B-2']);
  });
});

describe('FairQueueSort lanes', () => {
  it('give the order of comparing every task left, for any mix of tenants, priorities and gangs', () => {
    const lanesOff = defaultRegistry().replace('FairQueueSort', (args) => {
      const inner = fairQueueSort(args);
      // Everything but `lane`: place compares every task left after each reservation.
      return {
        name: inner.name,
        dynamic: true,
        less: (a: PlacementTask, b: PlacementTask) => inner.less(a, b),
        beginBatch: (t: readonly PlacementTask[], s: Snapshot) => inner.beginBatch(t, s),
        reserve: (ctx: PlacementContext) => inner.reserve(ctx),
        unreserve: (ctx: PlacementContext) => inner.unreserve(ctx),
      };
    });
    const profile: PlacementProfile = {
      name: 'fair-gangs',
      plugins: [
        { name: 'FairQueueSort', args: { tenants: { a: { weight: 2 } } } },
        { name: 'ResourcesFit' },
        { name: 'LeastAllocated' },
        { name: 'Gang' },
      ],
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tenant: fc.constantFrom('a', 'b', 'c'),
            priority: fc.constantFrom(0, 5),
            cpu: fc.integer({ min: 1, max: 4 }),
            memory: fc.integer({ min: 1, max: 4 }),
            size: fc.integer({ min: 1, max: 3 }),
            gang: fc.boolean(),
          }),
          { maxLength: 12 },
        ),
        (jobs) => {
          let sequence = 0;
          const batch = jobs.flatMap((j, k) => {
            const ts = Array.from({ length: j.size }, (_, i) =>
              createPlacementTask({
                id: `j${k}-${i}`,
                tenant: j.tenant,
                priority: j.priority,
                requests: { cpu: j.cpu * 1000, memory: j.memory * GB },
                sequence: sequence++,
              }),
            );
            return j.gang ? gangTasks(ts, `j${k}`) : ts;
          });
          const nodes = [0, 1].map((i) => ({ id: `n${i}`, allocatable: { cpu: 8000, memory: 8 * GB } }));
          const ids = (r: { placements: readonly { taskId: string; nodeId: string }[] }) =>
            r.placements.map((p) => `${p.taskId}@${p.nodeId}`);
          expect(ids(place(batch, createSnapshot(nodes), profile))).toEqual(
            ids(place(batch, createSnapshot(nodes), profile, { registry: lanesOff })),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('TenantQuota', () => {
  const nodes = (): SnapshotNodeInput[] =>
    Array.from({ length: 4 }, (_, i) => ({ id: `n${i}`, allocatable: { cpu: 4000, memory: 16 * GB } }));

  it('never lets a tenant exceed its limit, and says which limit was reached', () => {
    const batch = tasks('analytics', 12, 1, 1);
    const { placements, unplaceable } = place(
      batch,
      createSnapshot(nodes()),
      fair({}, { analytics: { limit: { cpu: '8' } } }),
    );
    expect(placements).toHaveLength(8);
    expect(unplaceable).toHaveLength(4);
    expect(unplaceable[0]!.explanation.message).toContain('tenant analytics quota limit cpu 8 reached');
  });

  it('holds headroom for an unmet guarantee: other tenants are refused, the holder is not', () => {
    const snapshot = createSnapshot(nodes());
    const profile = fair({}, { analytics: { guarantee: { cpu: '6' } } });
    const first = place(tasks('batch', 16, 1, 1), snapshot, profile);
    expect(first.placements).toHaveLength(10);
    expect(first.unplaceable[0]!.explanation.message).toContain(
      'cpu 6 held for the guarantee of tenant analytics (free 6, task needs 1)',
    );
    const second = place(tasks('analytics', 8, 1, 1), snapshot, profile);
    expect(second.placements).toHaveLength(6);
    expect(tenantLedger(snapshot).unallocated().cpu).toBe(0);
  });

  it('refuses a guarantee above the limit and bad quantities, listing every problem', () => {
    const registry = defaultRegistry();
    try {
      place(
        [],
        createSnapshot(nodes()),
        fair({}, { a: { guarantee: { cpu: '4' }, limit: { cpu: '2', memory: 'lots' } } }),
        {
          registry,
        },
      );
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'SPEC_INVALID')).toBe(true);
      const paths = (err as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths).toEqual([
        'profile.plugins[3].args.tenants.a.limit.memory',
        'profile.plugins[3].args.tenants.a.guarantee.cpu',
      ]);
    }
  });

  it('keeps the ledger equal to a recount after any sequence of placements and rollbacks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 3 })), { maxLength: 30 }),
        (ops) => {
          const snapshot = createSnapshot(nodes());
          const ledger = tenantLedger(snapshot);
          ops.forEach(([tenant, cpu], i) => {
            const t = createPlacementTask({ id: `t${i}`, tenant, requests: { cpu: cpu * 100 } });
            const a = snapshot.assume(i % 4, t);
            if (i % 3 === 2) snapshot.forget(a);
            ledger.refresh();
          });
          const recount = new Map<string, number>();
          for (let n = 0; n < 4; n++)
            for (const t of snapshot.tasks(n))
              recount.set(t.tenant!, (recount.get(t.tenant!) ?? 0) + t.requests!.cpu);
          for (const tenant of ['a', 'b', 'c'])
            expect(ledger.allocation(tenant).cpu).toBe(recount.get(tenant) ?? 0);
          expect(ledger.unallocated().cpu).toBe(16_000 - [...recount.values()].reduce((x, y) => x + y, 0));
        },
      ),
      { numRuns: 50 },
    );
  });
});
