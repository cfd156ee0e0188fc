import { describe, expect, it } from 'vitest';
import { CycleState } from '../cycle-state.ts';
import { place } from '../place.ts';
import type { PlacementContext } from '../plugin.ts';
import { createSnapshot, type RunningTask, type SnapshotNodeInput } from '../snapshot.ts';
import { snapshotFromKubernetes } from '../snapshot-kubernetes.ts';
import { createPlacementTask } from '../task.ts';
import { normalizeMinMax } from './normalize.ts';
import { TaskAffinity } from './task-affinity.ts';

const GI = 1024 ** 3;
const app = (name: string) => ({ matchLabels: { app: name }, matchExpressions: [] });

function running(id: string, labels: Record<string, string>, extra: Partial<RunningTask> = {}): RunningTask {
  return { id, labels, priority: 0, tenant: 'default', ...extra };
}

function node(id: string, zone: string | undefined, tasks: RunningTask[] = []): SnapshotNodeInput {
  return {
    id,
    labels: zone === undefined ? {} : { zone },
    allocatable: { cpu: 4000, memory: 8 * GI },
    tasks,
  };
}

describe('TaskAffinity', () => {
  // z1: a (2 web), b; z2: c (1 web, 1 batch); z3: d (3 batch); e has no zone.
  const nodes = [
    node('a', 'z1', [running('w1', { app: 'web' }), running('w2', { app: 'web' })]),
    node('b', 'z1'),
    node('c', 'z2', [running('w3', { app: 'web' }), running('b1', { app: 'batch' })]),
    node('d', 'z3', [
      running('b2', { app: 'batch' }),
      running('b3', { app: 'batch' }),
      running('b4', { app: 'batch' }),
    ]),
    node('e', undefined),
  ];
  const task = createPlacementTask({
    id: 'cache',
    labels: { app: 'cache' },
    requests: { cpu: 500, memory: GI },
    taskAffinity: [{ labelSelector: app('web'), topologyKey: 'zone', weight: 10 }],
    taskAntiAffinity: [{ labelSelector: app('batch'), topologyKey: 'zone', weight: 5 }],
  });

  it('scores preferred rules as Σ weight × matching tasks in the domain, scaled min–max to 0–100', () => {
    const snapshot = createSnapshot(nodes);
    const ctx: PlacementContext = { task, snapshot, state: new CycleState() };
    expect(TaskAffinity.preScore(ctx)).toBeUndefined();
    const raw = Float64Array.from([0, 1, 2, 3, 4], (i) => TaskAffinity.score(ctx, i));
    // z1: 10×2 web; z2: 10×1 web − 5×1 batch; z3: −5×3 batch; no zone: 0.
    expect([...raw]).toEqual([20, 20, 5, -15, 0]);
    normalizeMinMax(raw, raw.length);
    // span 35: (20+15)/35 → 100, (5+15)/35 → 57, 0, (0+15)/35 → 42.
    expect([...raw]).toEqual([100, 100, 57, 0, 42]);
  });

  it('steers placement with the kubernetes-default weight and reports the score in the explanation', () => {
    const r = place([task], createSnapshot(nodes), 'kubernetes-default', {
      seed: 4,
      explain: { alternatives: 4 },
    });
    const e = r.placements[0]!.explanation;
    expect(['a', 'b']).toContain(e.nodeId);
    const affinity = (scores: readonly { plugin: string; score: number }[]) =>
      scores.find((s) => s.plugin === 'TaskAffinity');
    expect(affinity(e.scores)).toEqual({ plugin: 'TaskAffinity', score: 100, weight: 2 });
    const others = Object.fromEntries(e.alternatives.map((x) => [x.nodeId, affinity(x.scores)?.score]));
    expect(others).toMatchObject({ c: 57, d: 0, e: 42 });
  });

  it('keeps a task out of the domains of placed tasks whose required anti-affinity selects it', () => {
    const guard = running(
      'guard',
      { app: 'db' },
      {
        antiAffinity: [{ labelSelector: app('web'), topologyKey: 'zone' }],
      },
    );
    const ns = [node('a', 'z1', [guard]), node('b', 'z1'), node('c', 'z2'), node('e', undefined)];
    const web = (id: string, tenant = 'default') =>
      createPlacementTask({ id, tenant, labels: { app: 'web' }, requests: { cpu: 3000 } });
    // Three web tasks, each needing most of a node: b is closed (same zone as the guard).
    const r = place([web('w0'), web('w1'), web('w2')], createSnapshot(ns), 'spread', {
      explain: { nodes: true },
    });
    expect(r.placements.map((p) => p.nodeId).sort()).toEqual(['c', 'e']);
    expect(r.unplaceable[0]!.explanation.message).toBe(
      '0/4 nodes available: 2 existing task anti-affinity not satisfied, 2 insufficient cpu',
    );
    // Another tenant's web tasks are not selected by the guard's rule (it names no tenants).
    const other = place(
      ['x0', 'x1', 'x2', 'x3'].map((id) => web(id, 'team-b')),
      createSnapshot(ns),
      'spread',
    );
    expect(other.placements.map((p) => p.nodeId).sort()).toEqual(['a', 'b', 'c', 'e']);
  });

  it('applies the anti-affinity of a task placed earlier in the same batch to later ones', () => {
    const ns = [node('a', 'z1'), node('b', 'z1'), node('c', 'z2')];
    const guard = createPlacementTask({
      id: 'guard',
      sequence: 0,
      labels: { app: 'db' },
      requests: { cpu: 100 },
      taskAntiAffinity: [{ labelSelector: app('web'), topologyKey: 'zone' }],
    });
    const webs = [1, 2, 3].map((i) =>
      createPlacementTask({ id: `web-${i}`, sequence: i, labels: { app: 'web' }, requests: { cpu: 100 } }),
    );
    const snap = createSnapshot(ns);
    const r = place([guard, ...webs], snap, 'spread', { seed: 2 });
    const zone = (id: string) => ns.find((n) => n.id === id)!.labels!.zone;
    const guardZone = zone(r.placements.find((p) => p.taskId === 'guard')!.nodeId);
    for (const p of r.placements) if (p.taskId !== 'guard') expect(zone(p.nodeId)).not.toBe(guardZone);
    // Undoing a placement (a failed permit, a what-if) takes its rules away again.
    expect(snap.antiAffinityHolders.map((h) => h.task.id)).toEqual(['guard']);
    const what = snap.assume(2, { ...guard, id: 'guard-2' });
    expect(snap.antiAffinityHolders).toHaveLength(2);
    snap.forget(what);
    expect(snap.antiAffinityHolders.map((h) => h.task.id)).toEqual(['guard']);
  });

  it('reads required pod anti-affinity of running pods from Kubernetes objects', () => {
    const snap = snapshotFromKubernetes(
      [
        {
          metadata: { name: 'n1', labels: { zone: 'z1' } },
          status: { allocatable: { cpu: '4', memory: '8Gi' } },
        },
        {
          metadata: { name: 'n2', labels: { zone: 'z2' } },
          status: { allocatable: { cpu: '4', memory: '8Gi' } },
        },
      ],
      [
        {
          metadata: { name: 'db-0', namespace: 'prod', labels: { app: 'db' } },
          spec: {
            nodeName: 'n1',
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone' },
                ],
              },
            },
          },
          status: { phase: 'Running' },
        },
      ],
    );
    expect(snap.antiAffinityHolders.map((h) => h.task.id)).toEqual(['prod/db-0']);
    const web = createPlacementTask({
      id: 'web',
      tenant: 'prod',
      labels: { app: 'web' },
      requests: { cpu: 100 },
    });
    expect(place([web], snap, 'binpack').placements[0]!.nodeId).toBe('n2');
  });
});
