import { describe, expect, it } from 'vitest';
import { PortRanges } from '../resources/index.ts';
import { Framework } from './framework.ts';
import { place } from './place.ts';
import type { PermitPlugin, PostFilterPlugin } from './plugin.ts';
import { defaultRegistry } from './profiles.ts';
import { createSnapshot, type SnapshotNodeInput } from './snapshot.ts';
import { unschedulable } from './status.ts';
import { createPlacementTask } from './task.ts';

const GI = 1024 ** 3;

function node(id: string, extra: Partial<SnapshotNodeInput> = {}): SnapshotNodeInput {
  return { id, allocatable: { cpu: 4000, memory: 8 * GI }, ...extra };
}

describe('place', () => {
  it('explains an unplaceable task with counts per reason, most frequent first', () => {
    const ns = [
      ...Array.from({ length: 3 }, (_, i) =>
        node(`small-${i}`, { allocatable: { cpu: 500, memory: 8 * GI } }),
      ),
      ...Array.from({ length: 2 }, (_, i) =>
        node(`tainted-${i}`, { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      ),
    ];
    const r = place(
      [createPlacementTask({ id: 'big', requests: { cpu: 1000 } })],
      createSnapshot(ns),
      'spread',
      {
        explain: { nodes: true },
      },
    );
    const e = r.unplaceable[0]!.explanation;
    expect(e.message).toBe(
      '0/5 nodes available: 3 insufficient cpu, 2 untolerated taint dedicated=gpu:NoSchedule',
    );
    expect(e.reasons).toEqual([
      { reason: 'insufficient cpu', count: 3 },
      { reason: 'untolerated taint dedicated=gpu:NoSchedule', count: 2 },
    ]);
    expect(e.nodes?.find((n) => n.nodeId === 'small-0')).toEqual({
      nodeId: 'small-0',
      plugin: 'ResourcesFit',
      code: 'Unschedulable',
      reasons: ['insufficient cpu'],
    });
  });

  it('explains a placement with the chosen node, its plugin scores and the runners-up', () => {
    const ns = [node('a', { allocated: { cpu: 3000 } }), node('b'), node('c', { allocated: { cpu: 1000 } })];
    const r = place(
      [createPlacementTask({ id: 't', requests: { cpu: 1000, memory: GI } })],
      createSnapshot(ns),
      'spread',
    );
    const e = r.placements[0]!.explanation;
    expect(e.nodeId).toBe('b');
    expect(e.alternatives.map((a) => a.nodeId)).toEqual(['c', 'a']);
    const least = e.scores.find((s) => s.plugin === 'LeastAllocated')!;
    // cpu (4000-1000)*100/4000 = 75, memory (8-1)*100/8 = 87 → 81
    expect(least).toEqual({ plugin: 'LeastAllocated', score: 81, weight: 1 });
    expect(e.feasibleNodes).toBe(3);
  });

  it('sees earlier placements of the batch: spread alternates, binpack fills one node first', () => {
    const ns = [node('a'), node('b')];
    const ts = Array.from({ length: 4 }, (_, i) =>
      createPlacementTask({ id: `t${i}`, requests: { cpu: 1000 }, sequence: i }),
    );
    expect(place(ts, createSnapshot(ns), 'spread', { seed: 3 }).placements.map((p) => p.nodeId)).toSatisfy(
      (ids: string[]) => ids.filter((x) => x === 'a').length === 2,
    );
    const packed = place(ts, createSnapshot(ns), 'binpack', { seed: 3 }).placements.map((p) => p.nodeId);
    expect(new Set(packed).size).toBe(1);
  });

  it('assigns fixed and dynamic host ports and never hands one out twice', () => {
    const ns = [node('a', { freePorts: PortRanges.of({ begin: 31000, end: 31003 }) })];
    const mk = (id: string, seq: number) =>
      createPlacementTask({
        id,
        sequence: seq,
        ports: [{ name: 'http' }, { name: 'admin', hostPort: 31000 }],
      });
    const r = place([mk('t1', 0), mk('t2', 1)], createSnapshot(ns), 'spread');
    expect(r.placements[0]!.ports).toEqual([31001, 31000]);
    expect(r.unplaceable[0]!.explanation.reasons).toEqual([{ reason: 'host port 31000 not free', count: 1 }]);
    const dyn = Array.from({ length: 3 }, (_, i) =>
      createPlacementTask({ id: `d${i}`, sequence: i, ports: [{ name: 'a' }, { name: 'b' }] }),
    );
    const d = place(dyn, createSnapshot(ns), 'spread');
    expect(d.placements.map((p) => p.ports)).toEqual([
      [31000, 31001],
      [31002, 31003],
    ]);
    expect(d.unplaceable[0]!.explanation.message).toBe('0/1 nodes available: 1 insufficient ports');
  });

  it('honours node selectors, required and preferred node affinity, and cordoned nodes', () => {
    const ns = [
      node('a', { labels: { zone: 'z1', disk: 'ssd' } }),
      node('b', { labels: { zone: 'z2', disk: 'ssd' } }),
      node('c', { labels: { zone: 'z2', disk: 'hdd' }, unschedulable: true }),
    ];
    const t = createPlacementTask({
      id: 't',
      nodeSelector: { disk: 'ssd' },
      nodeAffinity: {
        required: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }],
        preferred: [
          { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] } },
        ],
      },
    });
    expect(place([t], createSnapshot(ns), 'spread').placements[0]!.nodeId).toBe('b');
    const r = place(
      [createPlacementTask({ id: 'u', nodeSelector: { disk: 'hdd' } })],
      createSnapshot(ns),
      'spread',
    );
    expect(r.unplaceable[0]!.explanation.message).toBe(
      '0/3 nodes available: 2 node selector/affinity not matched, 1 node is unschedulable',
    );
  });

  it('keeps tasks apart or together by labels and topology key', () => {
    const ns = [
      node('a', { labels: { zone: 'z1' } }),
      node('b', { labels: { zone: 'z1' } }),
      node('c', { labels: { zone: 'z2' } }),
    ];
    const sel = { matchLabels: { app: 'db' }, matchExpressions: [] };
    const db = (i: number) =>
      createPlacementTask({
        id: `db-${i}`,
        sequence: i,
        labels: { app: 'db' },
        taskAntiAffinity: [{ labelSelector: sel, topologyKey: 'zone' }],
      });
    const r = place([db(0), db(1), db(2)], createSnapshot(ns), 'spread');
    expect(r.placements).toHaveLength(2);
    expect(r.unplaceable[0]!.explanation.reasons).toEqual([
      { reason: 'task anti-affinity not satisfied', count: 3 },
    ]);
    const cache = (i: number) =>
      createPlacementTask({
        id: `cache-${i}`,
        sequence: 10 + i,
        taskAffinity: [{ labelSelector: sel, topologyKey: 'zone' }],
      });
    const snap = createSnapshot(ns);
    const placed = place([db(0), cache(0), cache(1)], snap, 'spread');
    const zoneOf = (id: string) => ns.find((n) => n.id === id)!.labels!.zone;
    const dbZone = zoneOf(placed.placements.find((p) => p.taskId === 'db-0')!.nodeId);
    for (const p of placed.placements) expect(zoneOf(p.nodeId)).toBe(dbZone);
  });

  it('places higher priority first and is deterministic for a seed', () => {
    const ns = Array.from({ length: 20 }, (_, i) => node(`n${i}`));
    const ts = Array.from({ length: 30 }, (_, i) =>
      createPlacementTask({ id: `t${i}`, sequence: i, priority: i % 3, requests: { cpu: 500 } }),
    );
    const a = place(ts, createSnapshot(ns), 'spread', { seed: 42 });
    const b = place(ts, createSnapshot(ns), 'spread', { seed: 42 });
    expect(a).toEqual(b);
    expect(a.placements.slice(0, 10).every((p) => Number(p.taskId.slice(1)) % 3 === 2)).toBe(true);
    const c = place(ts, createSnapshot(ns), 'spread', { seed: 43 });
    expect(c.placements.map((p) => p.nodeId)).not.toEqual(a.placements.map((p) => p.nodeId));
  });

  it('holds tasks at permit until a plugin allows them, and rejects the rest at the end of the batch', () => {
    // A tiny gang plugin: wait until every task of a group is reserved, then allow them all.
    const gang: PermitPlugin = {
      name: 'TinyGang',
      permit(ctx, _node, waiting) {
        const group = ctx.task.group;
        if (group === undefined) return undefined;
        const members = waiting.list().filter((w) => w.task.group === group);
        if (members.length + 1 < Number(group.split(':')[1]))
          return { code: 'Wait', reasons: ['waiting for the gang'] };
        for (const m of members) waiting.allow(m.task.id);
        return undefined;
      },
    };
    const registry = defaultRegistry().register('TinyGang', () => gang);
    const fw = Framework.build(
      { name: 'g', plugins: [{ name: 'PrioritySort' }, { name: 'ResourcesFit' }, { name: 'TinyGang' }] },
      registry,
    );
    const ns = [node('a')];
    const mk = (id: string, group: string, seq: number) =>
      createPlacementTask({ id, group, sequence: seq, requests: { cpu: 1000 } });
    const snap = createSnapshot(ns);
    const r = place(
      [mk('x0', 'x:2', 0), mk('y0', 'y:3', 1), mk('x1', 'x:2', 2), mk('y1', 'y:3', 3)],
      snap,
      fw,
    );
    expect(r.placements.map((p) => p.taskId)).toEqual(['x0', 'x1']);
    expect(r.unplaceable.map((u) => u.taskId)).toEqual(['y0', 'y1']);
    expect(r.unplaceable[0]!.explanation.status?.reasons).toEqual(['permit wait not resolved in this batch']);
    expect(snap.cpu.used[0]).toBe(2000);
  });

  it('asks post-filter plugins (preemption) when nothing fits', () => {
    const seen: number[] = [];
    const preempt: PostFilterPlugin = {
      name: 'FakePreemption',
      postFilter(_ctx, statuses) {
        seen.push(statuses.size);
        return { status: { code: 'Success', reasons: [] }, nominatedNodeId: 'a', victims: ['old'] };
      },
    };
    const registry = defaultRegistry().register('FakePreemption', () => preempt);
    const profile = {
      name: 'p',
      plugins: [{ name: 'PrioritySort' }, { name: 'ResourcesFit' }, { name: 'FakePreemption' }],
    };
    const r = place(
      [createPlacementTask({ id: 't', requests: { cpu: 9000 } })],
      createSnapshot([node('a')]),
      profile,
      { registry },
    );
    expect(seen).toEqual([1]);
    expect(r.unplaceable[0]!.explanation.postFilter).toMatchObject({
      plugin: 'FakePreemption',
      nominatedNodeId: 'a',
      victims: ['old'],
    });
    expect(r.unplaceable[0]!.explanation.message).toBe(
      '0/1 nodes available: 1 insufficient cpu; FakePreemption nominated a',
    );
  });

  it('runs user plugins and skips a filter whose pre-filter says Skip', () => {
    let filtered = 0;
    const odd = {
      name: 'OddOnly',
      preFilter: (ctx: { task: { labels: Readonly<Record<string, string>> } }) =>
        ctx.task.labels.any === 'yes' ? { code: 'Skip' as const, reasons: [] } : undefined,
      filter: (_ctx: unknown, n: number) => {
        filtered++;
        return n % 2 === 1 ? undefined : unschedulable('even node');
      },
    };
    const registry = defaultRegistry().register('OddOnly', () => odd);
    const profile = {
      name: 'p',
      plugins: [{ name: 'PrioritySort' }, { name: 'OddOnly' }, { name: 'LeastAllocated' }],
    };
    const ns = [node('n0'), node('n1'), node('n2')];
    expect(
      place([createPlacementTask({ id: 't' })], createSnapshot(ns), profile, { registry }).placements[0]!
        .nodeId,
    ).toBe('n1');
    filtered = 0;
    place([createPlacementTask({ id: 'u', labels: { any: 'yes' } })], createSnapshot(ns), profile, {
      registry,
    });
    expect(filtered).toBe(0);
  });

  it('samples nodes like percentageOfNodesToScore when asked, and visits all by default', () => {
    const ns = Array.from({ length: 1000 }, (_, i) => node(`n${i}`));
    const t = createPlacementTask({ id: 't', requests: { cpu: 100 } });
    const all = place([t], createSnapshot(ns), 'spread').placements[0]!.explanation;
    expect(all.evaluatedNodes).toBe(1000);
    const profile = {
      name: 's',
      plugins: [{ name: 'PrioritySort' }, { name: 'ResourcesFit' }, { name: 'LeastAllocated' }],
      percentageOfNodesToScore: 10,
    };
    const some = place([t], createSnapshot(ns), profile).placements[0]!.explanation;
    expect(some.feasibleNodes).toBe(100);
    expect(some.evaluatedNodes).toBeLessThan(1000);
  });

  it('rejects a bad profile listing every problem, and duplicate task ids', () => {
    const bad = { name: 'bad', plugins: [{ name: 'Nope' }, { name: 'LeastAllocated', weight: 0 }] };
    expect(() => place([], createSnapshot([]), bad)).toThrow(
      /profile\.plugins\[0\]\.name: unknown plugin "Nope".*profile\.plugins\[1\]\.weight/,
    );
    expect(() => place([], createSnapshot([]), { name: 'x', plugins: [{ name: 'LeastAllocated' }] })).toThrow(
      /exactly one queue-sort plugin/,
    );
    const t = createPlacementTask({ id: 'same' });
    expect(() => place([t, t], createSnapshot([node('a')]), 'spread')).toThrow(/task id same appears twice/);
  });
});
