import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../cluster/errors.ts';
import { PortRanges } from '../resources/index.ts';
import {
  createSnapshot,
  EVICTABLE,
  EVICTABLE_FIELDS,
  type EvictableByLevel,
  moreImportant,
  type RunningTask,
  type Snapshot,
} from './snapshot.ts';
import { createPlacementTask } from './task.ts';

function running(id: string, priority: number, cpu: number, extra: Partial<RunningTask> = {}): RunningTask {
  return {
    id,
    app: 'web',
    labels: { app: 'web' },
    priority,
    requests: { cpu, memory: 1000, disk: 0, gpus: 0, extended: new Map([['fpga', 1]]) },
    ...extra,
  };
}

const guard = running('guard', 5, 300, {
  ports: [8080, 8081],
  antiAffinity: [
    { labelSelector: { matchLabels: { app: 'web' }, matchExpressions: [] }, topologyKey: 'hostname' },
  ],
});

function snapshot(): Snapshot {
  const tasks = [running('a', 10, 500, { ports: [9000] }), guard, running('b', 0, 200)];
  return createSnapshot([
    {
      id: 'n0',
      allocatable: { cpu: 4000, memory: 10_000, extended: { fpga: 4 } },
      allocated: { cpu: 1000, memory: 3000, extended: { fpga: 3 } },
      freePorts: PortRanges.parse('9001-9010'),
      tasks,
    },
    { id: 'n1', allocatable: { cpu: 4000, memory: 10_000 }, tasks: [running('c', 1, 100)] },
  ]);
}

/** Everything evict/restore may touch, in comparable form. */
function state(s: Snapshot) {
  const web = s.counter('app=web', (t) => t.labels.app === 'web');
  return {
    nodes: [0, 1].map((i) => ({
      ...s.node(i),
      freePorts: s.freePorts(i).toString(),
      tasks: [...s.tasks(i)],
    })),
    ports: [...s.freePortCount],
    holders: s.antiAffinityHolders.map((h) => [h.node, h.task.id]),
    web: [...web.perNode],
    webTotal: web.total,
  };
}

describe('Snapshot.evict / restore', () => {
  it('frees requests, extended resources, host ports, counters and anti-affinity of the evicted task', () => {
    const s = snapshot();
    s.counter('app=web', (t) => t.labels.app === 'web');
    const mark = s.changeMark;
    const e = s.evict(0, 'guard');
    expect(e).toEqual({ node: 0, task: guard, at: 1 });
    expect(s.cpu.used[0]).toBe(700);
    expect(s.memory.used[0]).toBe(2000);
    expect(s.resource('fpga')!.used[0]).toBe(2);
    expect(s.freePorts(0).toString()).toBe('8080-8081,9001-9010');
    expect(s.freePortCount[0]).toBe(12);
    expect(s.tasks(0).map((t) => t.id)).toEqual(['a', 'b']);
    expect(s.antiAffinityHolders).toEqual([]);
    expect(s.counter('app=web', () => false).perNode[0]).toBe(2);
    expect([...s.changedSince(mark)!]).toEqual([0]);
  });

  it('restores the exact state (same task object and position, ports, holders, counters) in reverse order', () => {
    const s = snapshot();
    const before = state(s);
    const evictions = ['a', 'guard', 'b'].map((id) => s.evict(0, id));
    expect(s.tasks(0)).toEqual([]);
    expect(s.freePorts(0).toString()).toBe('8080-8081,9000-9010');
    for (let i = evictions.length - 1; i >= 0; i--) s.restore(evictions[i]!);
    expect(state(s)).toEqual(before);
    expect(s.tasks(0)[1]).toBe(guard);
  });

  it('leaves clones alone: evicting on a clone keeps the original untouched', () => {
    const s = snapshot();
    const before = state(s);
    const copy = s.clone();
    copy.evict(0, 'guard');
    expect(state(s)).toEqual(before);
    expect(copy.antiAffinityHolders).toEqual([]);
  });

  it('refuses to evict a task the node does not run, changing nothing', () => {
    const s = snapshot();
    const before = state(s);
    expect(() => s.evict(1, 'guard')).toThrow(BerthError);
    expect(() => s.evict(0, 'nope')).toThrow(/task nope is not running on node n0/);
    expect(state(s)).toEqual(before);
  });
});

describe('Snapshot.priorityTotals', () => {
  const sums = (s: Snapshot, node: number) => {
    const t = s.priorityTotals(node);
    return { priorities: [...t.priorities], cpu: [...t.cpu], memory: [...t.memory], ports: [...t.ports] };
  };

  it('sorts the tasks by priority, lowest first, with running sums of requests and host ports', () => {
    expect(sums(snapshot(), 0)).toEqual({
      priorities: [0, 5, 10],
      cpu: [0, 200, 500, 1000],
      memory: [0, 1000, 2000, 3000],
      ports: [0, 0, 2, 3],
    });
  });

  it('follows assume, forget, evict and restore, and is cached until the node changes', () => {
    const s = snapshot();
    const first = s.priorityTotals(0);
    expect(s.priorityTotals(0)).toBe(first);
    const a = s.assume(
      0,
      createPlacementTask({ id: 'new', priority: 7, requests: { cpu: 50 }, ports: [{ name: 'p' }] }),
    );
    expect(sums(s, 0)).toEqual({
      priorities: [0, 5, 7, 10],
      cpu: [0, 200, 500, 550, 1050],
      memory: [0, 1000, 2000, 2000, 3000],
      ports: [0, 0, 2, 3, 4],
    });
    const e = s.evict(0, 'guard');
    expect(sums(s, 0)).toEqual({
      priorities: [0, 7, 10],
      cpu: [0, 200, 250, 750],
      memory: [0, 1000, 1000, 2000],
      ports: [0, 0, 1, 2],
    });
    s.restore(e);
    s.forget(a);
    expect(sums(s, 0)).toEqual(sums(snapshot(), 0));
    expect(s.priorityTotals(0)).not.toBe(first);
    // Another node's totals were never rebuilt.
    const other = s.priorityTotals(1);
    s.evict(0, 'b');
    expect(s.priorityTotals(1)).toBe(other);
  });

  it('keeps a clone and its original apart although they share the cache', () => {
    const s = snapshot();
    const before = sums(s, 0);
    const copy = s.clone();
    copy.evict(0, 'a');
    expect(sums(copy, 0).priorities).toEqual([0, 5]);
    expect(sums(s, 0)).toEqual(before);
    expect(sums(copy, 0).priorities).toEqual([0, 5]);
  });
});

describe('Snapshot.priorityTotals order', () => {
  it('lists the tasks least important first, so walking back gives the reprieve order', () => {
    const s = createSnapshot([
      {
        id: 'n',
        allocatable: { cpu: 4000 },
        tasks: [
          running('old', 5, 100, { startTime: 1 }),
          running('new', 5, 100, { startTime: 9 }),
          running('unknown', 5, 100),
          running('low', 0, 100, { startTime: 3 }),
          running('high', 9, 100, { startTime: 7 }),
        ],
      },
    ]);
    const ids = s.priorityTotals(0).tasks.map((t) => t.id);
    expect(ids).toEqual(['low', 'unknown', 'new', 'old', 'high']);
    expect([...s.priorityTotals(0).tasks].reverse()).toEqual([...s.tasks(0)].sort(moreImportant));
  });
});

describe('Snapshot.evictableByLevel', () => {
  /** The figures of one node below `levels[k]` (all tasks past the last), recounted. */
  function recount(s: Snapshot, node: number, levels: Float64Array, k: number) {
    const limit = k < levels.length ? levels[k]! : Number.POSITIVE_INFINITY;
    const below = s.tasks(node).filter((t) => t.priority < limit);
    const at = s.tasks(node).filter((t) => k > 0 && t.priority === levels[k - 1]);
    const max = (f: (t: RunningTask) => number) => Math.max(0, ...below.map(f));
    return {
      cpu: below.reduce((x, t) => x + (t.requests?.cpu ?? 0), 0),
      ports: below.reduce((x, t) => x + (t.ports?.length ?? 0), 0),
      count: below.length,
      maxCpu: max((t) => t.requests?.cpu ?? 0),
      maxPorts: max((t) => t.ports?.length ?? 0),
      latestStart: Math.max(
        -Infinity,
        ...at.filter((t) => t.startTime !== undefined).map((t) => t.startTime!),
      ),
    };
  }
  function read(t: EvictableByLevel, node: number, k: number) {
    const c = (f: number) => t.columns[k * EVICTABLE_FIELDS + f]![node]!;
    return {
      cpu: c(EVICTABLE.cpu),
      ports: c(EVICTABLE.ports),
      count: c(EVICTABLE.count),
      maxCpu: c(EVICTABLE.maxCpu),
      maxPorts: c(EVICTABLE.maxPorts),
      latestStart: c(EVICTABLE.latestStart),
    };
  }

  function expectRecount(s: Snapshot) {
    const t = s.evictableByLevel()!;
    // Every priority in use is a level (a level no task has any more may stay).
    for (const p of [0, 1, 2].flatMap((n) => s.tasks(n).map((x) => x.priority)))
      expect([...t.levels]).toContain(p);
    for (let node = 0; node < 3; node++)
      for (let k = 0; k <= t.levels.length; k++)
        expect(read(t, node, k)).toEqual(recount(s, node, t.levels, k));
  }

  it('equals a recount after any assume, forget, evict and restore, on a snapshot and its clones', () => {
    const op = fc.record({
      kind: fc.constantFrom('assume', 'forget', 'evict', 'restore', 'clone'),
      node: fc.integer({ min: 0, max: 2 }),
      priority: fc.constantFrom(0, 5, 10, 20),
      cpu: fc.integer({ min: 0, max: 4 }).map((c) => c * 100),
      start: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const base = createSnapshot(
          [0, 1, 2].map((i) => ({
            id: `n${i}`,
            allocatable: { cpu: 100_000 },
            tasks: [running(`r${i}`, 5, 100, { startTime: i, ports: [7000 + i] })],
          })),
        );
        let s = base;
        const assumed: ReturnType<Snapshot['assume']>[] = [];
        const evicted: ReturnType<Snapshot['evict']>[] = [];
        ops.forEach((o, i) => {
          if (o.kind === 'assume') {
            const t = createPlacementTask({ id: `t${i}`, priority: o.priority, requests: { cpu: o.cpu } });
            assumed.push(s.assume(o.node, t, o.start));
          } else if (o.kind === 'forget' && assumed.length > 0) {
            // An assumed task evicted since is not there to forget (until it is restored).
            const last = assumed.at(-1)!;
            if (s.tasks(last.node).some((t) => t.id === last.task.id)) s.forget(assumed.pop()!);
          } else if (o.kind === 'evict' && s.tasks(o.node).length > 0)
            evicted.push(s.evict(o.node, s.tasks(o.node)[0]!.id));
          else if (o.kind === 'restore' && evicted.length > 0) s.restore(evicted.pop()!);
          else if (o.kind === 'clone') {
            // The original is read (sharing the cache) before work goes on on the copy.
            expect(s.evictableByLevel()).toBeDefined();
            s = s.clone();
            assumed.length = 0;
            evicted.length = 0;
          }
          expectRecount(s);
        });
        // The base snapshot, untouched by the clones' changes, still reads its own figures.
        expectRecount(base);
      }),
      { numRuns: 100 },
    );
  });

  it('is off (undefined) once more than 64 priorities are in use', () => {
    const tasks = Array.from({ length: 65 }, (_, k) => running(`p${k}`, k, 1));
    expect(
      createSnapshot([{ id: 'n', allocatable: { cpu: 1000 }, tasks }]).evictableByLevel(),
    ).toBeUndefined();
    const fine = createSnapshot([{ id: 'n', allocatable: { cpu: 1000 }, tasks: tasks.slice(1) }]);
    expect(fine.evictableByLevel()?.levels).toHaveLength(64);
  });
});
