import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../cluster/errors.ts';
import { PortRanges } from '../../resources/index.ts';
import { CycleState } from '../cycle-state.ts';
import { NodeStatuses } from '../framework.ts';
import { place, resolveFramework } from '../place.ts';
import type { PlacementContext } from '../plugin.ts';
import { defaultRegistry } from '../profiles.ts';
import type { PlacementProfile } from '../registry.ts';
import { createSnapshot, type RunningTask, type SnapshotNodeInput } from '../snapshot.ts';
import { unschedulable } from '../status.ts';
import { createPlacementTask, type PlacementTask } from '../task.ts';
import { bindPreemption, type DefaultPreemptionOptions, DefaultPreemptionPlugin } from './preemption.ts';

const NO_EXT = new Map<string, number>();

function running(id: string, priority: number, cpu: number, extra: Partial<RunningTask> = {}): RunningTask {
  return {
    id,
    app: id.replace(/-\d+$/, ''),
    labels: {},
    priority,
    requests: { cpu, memory: 0, disk: 0, gpus: 0, extended: NO_EXT },
    ...extra,
  };
}

/** A node of `cpu` millicpu, full with `tasks` (allocated = their requests). */
function node(
  id: string,
  cpu: number,
  tasks: RunningTask[],
  labels: Record<string, string> = {},
): SnapshotNodeInput {
  return {
    id,
    labels,
    allocatable: { cpu, memory: 1 << 30 },
    allocated: { cpu: tasks.reduce((s, t) => s + (t.requests?.cpu ?? 0), 0) },
    tasks,
  };
}

function profile(args: DefaultPreemptionOptions = {}): PlacementProfile {
  return {
    name: 'preempting',
    plugins: [
      { name: 'PrioritySort' },
      { name: 'NodeUnschedulable' },
      { name: 'TaintToleration' },
      { name: 'ResourcesFit' },
      { name: 'MarathonConstraints' },
      { name: 'LeastAllocated' },
      { name: 'DefaultPreemption', args: args as never },
    ],
  };
}

function preemptor(
  priority: number,
  cpu: number,
  extra: Partial<Parameters<typeof createPlacementTask>[0]> = {},
): PlacementTask {
  return createPlacementTask({ id: 'urgent', app: 'urgent', priority, requests: { cpu }, ...extra });
}

function outcome(nodes: SnapshotNodeInput[], task: PlacementTask, args: DefaultPreemptionOptions = {}) {
  const { placements, unplaceable } = place([task], createSnapshot(nodes), profile(args));
  expect(placements).toHaveLength(0);
  return unplaceable[0]!.explanation.postFilter;
}

describe('DefaultPreemption', () => {
  it('nominates the node whose highest victim has the lowest priority', () => {
    const pf = outcome(
      [node('a', 2000, [running('x-0', 10, 2000)]), node('b', 2000, [running('y-0', 5, 2000)])],
      preemptor(100, 1000),
    );
    expect(pf).toMatchObject({
      plugin: 'DefaultPreemption',
      code: 'Success',
      nominatedNodeId: 'b',
      victims: ['y-0'],
    });
    expect(pf!.reasons[0]).toBe('preempt 1 lower-priority task on b: y-0');
  });

  it('then the smallest sum of victim priorities', () => {
    const pf = outcome(
      [
        node('a', 2000, [running('x-0', 5, 1000), running('x-1', 5, 1000)]),
        node('b', 2000, [running('y-0', 5, 1000), running('y-1', 4, 1000)]),
      ],
      preemptor(100, 2000),
    );
    expect(pf).toMatchObject({ nominatedNodeId: 'b', victims: ['y-0', 'y-1'] });
  });

  it('then the fewest victims (sums tie only with the 2^31 offset upstream adds)', () => {
    const pf = outcome(
      [
        node('a', 2000, [running('x-0', 0, 1000), running('x-1', -(2 ** 31), 1000)]),
        node('b', 2000, [running('y-0', 0, 2000)]),
      ],
      preemptor(100, 2000),
    );
    expect(pf).toMatchObject({ nominatedNodeId: 'b', victims: ['y-0'] });
  });

  it('then the latest start among the highest-priority victims', () => {
    const pf = outcome(
      [
        node('a', 2000, [running('x-0', 5, 2000, { startTime: 1000 })]),
        node('b', 2000, [running('y-0', 5, 2000, { startTime: 2000 })]),
        node('c', 2000, [running('z-0', 5, 2000, { startTime: 1500 })]),
      ],
      preemptor(100, 1000),
    );
    expect(pf).toMatchObject({ nominatedNodeId: 'b', victims: ['y-0'] });
  });

  it('reprieves the most important victims first and evicts only what is needed', () => {
    const pf = outcome(
      [node('a', 4000, [running('hi-0', 50, 1000), running('mid-0', 20, 1000), running('lo-0', 1, 2000)])],
      preemptor(100, 2000),
    );
    expect(pf).toMatchObject({ nominatedNodeId: 'a', victims: ['lo-0'] });
  });

  it('never evicts tasks of equal or higher priority, and says so', () => {
    const pf = outcome(
      [node('a', 2000, [running('peer-0', 100, 2000)]), node('b', 2000, [running('boss-0', 500, 2000)])],
      preemptor(100, 1000),
    );
    // The post-filter's refusal is kept in the explanation (no nominated node, no victims).
    expect(pf).toEqual({
      plugin: 'DefaultPreemption',
      code: 'Unschedulable',
      reasons: ['no victims: 2 nodes run no task of priority below 100'],
    });
    const plugin = new DefaultPreemptionPlugin();
    const snapshot = createSnapshot([node('a', 2000, [running('peer-0', 100, 2000)])]);
    const r = plugin.postFilter({ task: preemptor(100, 1000), snapshot, state: new CycleState() }, new Map());
    expect(r.status.code).toBe('Unschedulable');
    expect(r.status.reasons).toEqual(['no victims: 1 node run no task of priority below 100']);
  });

  it('explains when even evicting every lower-priority task would not free enough', () => {
    const plugin = new DefaultPreemptionPlugin();
    const snapshot = createSnapshot([
      node('a', 4000, [running('boss-0', 500, 3000), running('lo-0', 0, 1000)]),
    ]);
    const r = plugin.postFilter({ task: preemptor(100, 2000), snapshot, state: new CycleState() }, new Map());
    expect(r.status.reasons).toEqual([
      'no victims: 1 node would still lack resources after evicting every lower-priority task',
    ]);
  });

  it('re-runs every filter on the what-if: a node the task may not use is not nominated', () => {
    const task = preemptor(100, 1000, { constraints: [{ field: 'hostname', operator: 'UNIQUE' }] });
    const nodes = [
      node('a', 2000, [running('urgent-9', 200, 1000), running('x-0', 1, 1000)]),
      node('b', 2000, [running('y-0', 50, 2000)]),
    ];
    const pf = outcome(nodes, task);
    expect(pf).toMatchObject({ nominatedNodeId: 'b', victims: ['y-0'] });
  });

  it('honours a disruption budget: it picks a worse node rather than break it', () => {
    const nodes = [
      node('a', 2000, [running('web-0', 1, 2000)]),
      node('b', 2000, [running('api-0', 50, 2000)]),
    ];
    expect(outcome(nodes, preemptor(100, 1000))).toMatchObject({ nominatedNodeId: 'a' });
    const budgets = { web: { maxUnavailable: 1, unavailable: 1 } };
    expect(outcome(nodes, preemptor(100, 1000), { disruptionBudgets: budgets })).toMatchObject({
      nominatedNodeId: 'b',
      victims: ['api-0'],
    });
  });

  it('reports a budget that blocks every node, and breaks it only in prefer mode', () => {
    const nodes = [node('a', 2000, [running('web-0', 1, 2000)])];
    const budgets = { web: { maxUnavailable: 0 } };
    const plugin = new DefaultPreemptionPlugin({ disruptionBudgets: budgets });
    const r = plugin.postFilter(
      { task: preemptor(100, 1000), snapshot: createSnapshot(nodes), state: new CycleState() },
      new Map(),
    );
    expect(r.status.reasons).toEqual(['no victims: evictions would break the disruption budget of web']);
    expect(
      outcome(nodes, preemptor(100, 1000), { disruptionBudgets: budgets, budgetMode: 'prefer' }),
    ).toMatchObject({
      nominatedNodeId: 'a',
      victims: ['web-0'],
    });
  });

  it('counts victims nominated earlier in the batch against the budget and never nominates them twice', () => {
    const nodes = [
      node('a', 2000, [running('web-0', 1, 2000)]),
      node('b', 2000, [running('web-1', 1, 2000)]),
      node('c', 2000, [running('api-0', 2, 2000)]),
    ];
    const tasks = [1, 2, 3].map((i) =>
      createPlacementTask({ id: `u${i}`, priority: 100, requests: { cpu: 2000 }, sequence: i }),
    );
    const { unplaceable } = place(
      tasks,
      createSnapshot(nodes),
      profile({ disruptionBudgets: { web: { maxUnavailable: 1 } } }),
    );
    const picks = unplaceable.map((u) => u.explanation.postFilter?.victims ?? []);
    expect(picks).toEqual([['web-0'], ['api-0'], []]);
  });

  it('leaves the snapshot as it was (the what-ifs put every evicted task back in place)', () => {
    const snapshot = createSnapshot([node('a', 2000, [running('x-0', 1, 1000), running('y-0', 1, 1000)])]);
    place([preemptor(100, 2000)], snapshot, profile());
    expect(snapshot.tasks(0).map((t) => t.id)).toEqual(['x-0', 'y-0']);
    expect(snapshot.cpu.used[0]).toBe(2000);
  });

  it('re-runs the filters of its own profile, custom ones included, without binding', () => {
    const registry = defaultRegistry().register('AvoidA', () => ({
      name: 'AvoidA',
      filter: (ctx: PlacementContext, n: number) =>
        ctx.snapshot.ids[n] === 'a' ? unschedulable('node a is draining') : undefined,
    }));
    const withCustom: PlacementProfile = {
      ...profile(),
      plugins: [...profile().plugins.slice(0, 4), { name: 'AvoidA' }, ...profile().plugins.slice(4)],
    };
    const nodes = [node('a', 2000, [running('x-0', 1, 2000)]), node('b', 2000, [running('y-0', 50, 2000)])];
    // The registry hands DefaultPreemption the framework, so AvoidA is re-run in the what-ifs.
    const own = resolveFramework(withCustom, registry);
    const r1 = place([preemptor(100, 1000)], createSnapshot(nodes), own);
    expect(r1.unplaceable[0]!.explanation.postFilter?.nominatedNodeId).toBe('b');
    const bound = bindPreemption(resolveFramework(withCustom, registry));
    const r2 = place([preemptor(100, 1000)], createSnapshot(nodes), bound);
    expect(r2.unplaceable[0]!.explanation.postFilter?.nominatedNodeId).toBe('b');
  });

  it('evicts the lower-priority holder of a fixed host port the task needs, and only it', () => {
    const nodes = [
      {
        ...node('a', 4000, [running('web-0', 1, 500, { ports: [8080] }), running('big-0', 0, 500)]),
        freePorts: PortRanges.parse('9000-9001'),
      },
    ];
    const task = preemptor(100, 1000, { ports: [{ name: 'http', hostPort: 8080 }] });
    expect(outcome(nodes, task)).toMatchObject({ nominatedNodeId: 'a', victims: ['web-0'] });
  });

  it('finds the one node that can give a fixed host port behind 150 cheaper nodes that cannot', () => {
    // The busy nodes have a free port, but not 8080, and no task that may go holds it: they must
    // not be proposed (each would fail its what-if and use up the search's verification cap).
    const busy = Array.from({ length: 150 }, (_, i) => ({
      ...node(`busy-${i}`, 1000, [running(`low-${i}`, 0, 1000)]),
      freePorts: PortRanges.parse('9000'),
    }));
    const holder = node('holder', 1000, [running('web-0', 5, 1000, { ports: [8080] })]);
    const task = preemptor(100, 1000, { ports: [{ name: 'http', hostPort: 8080 }] });
    expect(outcome([...busy, holder], task)).toMatchObject({ nominatedNodeId: 'holder', victims: ['web-0'] });
  });

  it('frees dynamic host ports by eviction when the node has too few left', () => {
    const nodes = [
      { ...node('a', 4000, [running('x-0', 5, 100, { ports: [9000, 9001] }), running('y-0', 1, 100)]) },
      {
        ...node('b', 4000, [running('z-0', 3, 100, { ports: [9100] })]),
        freePorts: PortRanges.parse('9200'),
      },
    ];
    const task = preemptor(100, 1000, { ports: [{ name: 'a' }, { name: 'b' }] });
    // b needs only z-0 (priority 3) to go; a would need x-0 (priority 5).
    expect(outcome(nodes, task)).toMatchObject({ nominatedNodeId: 'b', victims: ['z-0'] });
  });

  it('reads the failed cycle statuses by node index and by id (NodeStatuses)', () => {
    const snapshot = createSnapshot([node('a', 1000, []), node('b', 1000, [])]);
    const statuses = new NodeStatuses(snapshot);
    statuses.set(1, unschedulable('too small'));
    statuses.set(1, unschedulable('still too small'));
    expect(statuses.size).toBe(1);
    expect(statuses.at(1)?.reasons).toEqual(['still too small']);
    expect(statuses.get('b')).toBe(statuses.at(1));
    expect(statuses.has('a')).toBe(false);
    expect(statuses.get('nope')).toBeUndefined();
    expect([...statuses.keys()]).toEqual(['b']);
    expect(new Map(statuses).get('b')?.reasons).toEqual(['still too small']);
  });

  it('refuses bad args with the field and the fix', () => {
    try {
      resolveFramework(profile({ disruptionBudgets: { web: { maxUnavailable: -1 } } }));
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'SPEC_INVALID')).toBe(true);
      expect((err as Error).message).toContain('disruptionBudgets.web.maxUnavailable must be an integer ≥ 0');
    }
  });
});
