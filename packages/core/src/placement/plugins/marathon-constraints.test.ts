import { describe, expect, it } from 'vitest';
import type { MarathonConstraint } from '../../spec/index.ts';
import { place } from '../place.ts';
import { createSnapshot, type RunningTask, type SnapshotNodeInput } from '../snapshot.ts';
import { createPlacementTask, type PlacementTask } from '../task.ts';

function nodes(
  racks: (string | undefined)[],
  tasks: Record<number, RunningTask[]> = {},
): SnapshotNodeInput[] {
  return racks.map((rack, i) => ({
    id: `n${i}`,
    hostname: `host-${i}`,
    labels: rack === undefined ? {} : { rack },
    allocatable: { cpu: 100_000, memory: 1 << 30 },
    tasks: tasks[i] ?? [],
  }));
}

function tasks(count: number, constraints: MarathonConstraint[], app = 'web'): PlacementTask[] {
  return Array.from({ length: count }, (_, i) =>
    createPlacementTask({ id: `${app}-${i}`, app, requests: { cpu: 100 }, constraints, sequence: i }),
  );
}

const running = (app: string, id: string): RunningTask => ({ id, app, labels: {}, priority: 0 });

/** Where each task of the batch went, by node id (undefined = unplaceable). */
function run(ns: SnapshotNodeInput[], ts: PlacementTask[], seed = 1) {
  const r = place(ts, createSnapshot(ns), 'spread', { seed });
  const at = new Map(r.placements.map((p) => [p.taskId, p.nodeId]));
  return { at, result: r, rackOf: (id: string | undefined) => ns.find((n) => n.id === id)?.labels?.rack };
}

describe('MarathonConstraints', () => {
  it('UNIQUE hostname puts at most one task of the app on each host', () => {
    const { at, result } = run(nodes(['a', 'a', 'b']), tasks(4, [{ field: 'hostname', operator: 'UNIQUE' }]));
    expect(new Set(at.values()).size).toBe(3);
    expect(result.unplaceable.map((u) => u.taskId)).toEqual(['web-3']);
    expect(result.unplaceable[0]!.explanation.message).toBe(
      '0/3 nodes available: 3 constraint hostname:UNIQUE not satisfied',
    );
  });

  it('UNIQUE on an attribute counts running tasks of the same app only, and rejects nodes lacking it', () => {
    const ns = nodes(['a', 'b', undefined], { 0: [running('web', 'old-web')], 1: [running('db', 'db-0')] });
    const { at, result } = run(ns, tasks(2, [{ field: 'rack', operator: 'UNIQUE' }]));
    expect(at.get('web-0')).toBe('n1');
    expect(result.unplaceable.map((u) => u.taskId)).toEqual(['web-1']);
  });

  it('CLUSTER with a value keeps every task on that value', () => {
    const { at } = run(
      nodes(['a', 'b', 'b', 'c']),
      tasks(6, [{ field: 'rack', operator: 'CLUSTER', value: 'b' }]),
    );
    expect([...at.values()].every((n) => n === 'n1' || n === 'n2')).toBe(true);
    expect(at.size).toBe(6);
  });

  it('CLUSTER without a value follows the first task', () => {
    const ns = nodes(['a', 'b', 'b', 'c']);
    const { at, rackOf } = run(ns, tasks(5, [{ field: 'rack', operator: 'CLUSTER' }]));
    const racks = new Set([...at.values()].map(rackOf));
    expect(at.size).toBe(5);
    expect(racks.size).toBe(1);
  });

  it('GROUP_BY without a count spreads evenly over the values', () => {
    const ns = nodes(['a', 'a', 'a', 'b', 'c', 'c']);
    const { at, rackOf } = run(ns, tasks(9, [{ field: 'rack', operator: 'GROUP_BY' }]));
    const perRack = new Map<string, number>();
    for (const n of at.values()) perRack.set(rackOf(n)!, (perRack.get(rackOf(n)!) ?? 0) + 1);
    expect(Object.fromEntries(perRack)).toEqual({ a: 3, b: 3, c: 3 });
  });

  it('GROUP_BY with a count fills that many groups before reusing one, and never divides by zero', () => {
    const ns = nodes(['a', 'b', 'c'], { 0: [running('web', 'w-a')] });
    const { at, rackOf } = run(ns, tasks(2, [{ field: 'rack', operator: 'GROUP_BY', value: '3' }]));
    expect(new Set([...at.values()].map(rackOf))).toEqual(new Set(['b', 'c']));
    // Fewer values than the count: once every value is used, the group minimum cannot be reached.
    const two = run(nodes(['a', 'b']), tasks(3, [{ field: 'rack', operator: 'GROUP_BY', value: '3' }]));
    expect(two.result.placements).toHaveLength(2);
    expect(two.result.unplaceable[0]!.explanation.reasons).toEqual([
      { reason: 'constraint rack:GROUP_BY:3 not satisfied', count: 2 },
    ]);
  });

  it('LIKE and UNLIKE match the whole value; only UNLIKE accepts a node without the attribute', () => {
    const ns = nodes(['rack-1', 'rack-12', 'xrack-1', undefined]);
    const like = run(ns, tasks(8, [{ field: 'rack', operator: 'LIKE', value: 'rack-[0-9]' }]));
    expect(new Set(like.at.values())).toEqual(new Set(['n0']));
    const unlike = run(ns, tasks(8, [{ field: 'rack', operator: 'UNLIKE', value: 'rack-[0-9]+' }]));
    expect(new Set(unlike.at.values())).toEqual(new Set(['n2', 'n3']));
  });

  it('MAX_PER limits tasks per value, counting running ones', () => {
    const ns = nodes(['a', 'a', 'b'], { 2: [running('web', 'w-b')] });
    const { at, result, rackOf } = run(ns, tasks(5, [{ field: 'rack', operator: 'MAX_PER', value: '2' }]));
    const perRack = new Map<string, number>();
    for (const n of at.values()) perRack.set(rackOf(n)!, (perRack.get(rackOf(n)!) ?? 0) + 1);
    expect(Object.fromEntries(perRack)).toEqual({ a: 2, b: 1 });
    expect(result.unplaceable).toHaveLength(2);
  });

  it('IS requires the exact value; scalar attributes compare as numbers', () => {
    const ns = nodes(['1', '1.0', '2', undefined]);
    const { at } = run(ns, tasks(6, [{ field: 'rack', operator: 'IS', value: '1' }]));
    expect(new Set(at.values())).toEqual(new Set(['n0', 'n1']));
  });

  it('reads hostname from the node, not from its labels', () => {
    const ns = nodes(['a', 'b']);
    const { at } = run(ns, tasks(3, [{ field: 'hostname', operator: 'LIKE', value: 'host-1' }]));
    expect(new Set(at.values())).toEqual(new Set(['n1']));
  });

  it('rejects bad constraint values up front with the field path', () => {
    const bad = (c: MarathonConstraint) => () => createPlacementTask({ id: 't', constraints: [c] });
    expect(bad({ field: 'rack', operator: 'MAX_PER', value: '0' })).toThrow(
      /constraints\[0\]\.value: MAX_PER value must be a positive integer/,
    );
    expect(bad({ field: 'rack', operator: 'LIKE', value: '(' })).toThrow(
      /constraints\[0\]\.value: invalid regular expression/,
    );
    expect(bad({ field: 'rack', operator: 'GROUP_BY', value: 'x' })).toThrow(
      expect.objectContaining({ code: 'SPEC_INVALID' }),
    );
  });
});
