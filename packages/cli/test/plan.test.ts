import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BERTH_ERROR_CODES } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { HUGE_TASK, harness, WEB_SERVICE } from './cli-harness.ts';

interface PlanJson {
  kind: string;
  profile: string;
  placements: {
    taskId: string;
    nodeId: string;
    scores: { plugin: string; score: number; weight: number }[];
  }[];
  unplaceable: { taskId: string; reasons: { reason: string; count: number }[]; message: string }[];
}

describe('berth plan', () => {
  it('shows each placement with its per-plugin scores, and unplaceable tasks with reason counts', async () => {
    await using h = await harness();
    const spec = await h.file('all.yaml', `${WEB_SERVICE}---\n${HUGE_TASK}`);
    const r = await h.run(['plan', '-f', spec]);
    expect(r.code).toBe(BERTH_ERROR_CODES.UNSCHEDULABLE.exitCode);
    expect(r.out.split('\n')[0]).toMatch(/^TASK\s+NODE\s+SCORE\s+BREAKDOWN \/ REASONS$/);
    expect(r.out).toMatch(/\nweb-0\s+node-\d\s+\d+\s+TaintToleration=100 LeastAllocated=\d+\n/);
    expect(r.out).toMatch(/\nhuge\s+<none>\s+-\s+0\/3 nodes available: 3 insufficient cpu\n/);
    expect(r.err).toMatch(
      /^profile spread, seed 0, 3 nodes \(live snapshot\): 2 placed, 1 unplaceable\nerror: 1 of 3 tasks cannot be placed\n/,
    );
    // Nothing was launched: plan only reads the snapshot.
    expect(h.cluster.all()).toEqual([]);
  });

  it('prints a stable JSON plan', async () => {
    await using h = await harness();
    const r = await h.run([
      'plan',
      '-f',
      await h.file('web.yaml', WEB_SERVICE),
      '-o',
      'json',
      '--profile',
      'binpack',
    ]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as PlanJson;
    expect(plan).toMatchObject({
      apiVersion: 'berth.dev/v1',
      kind: 'Plan',
      profile: 'binpack',
      seed: 0,
      unplaceable: [],
    });
    expect(plan.placements.map((p) => p.taskId)).toEqual(['web-0', 'web-1']);
    // binpack puts both replicas on the same node; its score names MostAllocated.
    expect(plan.placements[0]!.nodeId).toBe(plan.placements[1]!.nodeId);
    expect(plan.placements[1]!.scores.map((s) => s.plugin)).toContain('MostAllocated');
  });

  it('compares profiles offline on one saved snapshot, identically to the live cluster', async () => {
    await using h = await harness();
    const spec = await h.file('web.yaml', WEB_SERVICE.replace('replicas: 2', 'replicas: 3'));
    // Load the cluster unevenly, then save its snapshot.
    await h.run([
      'run',
      '-f',
      await h.file(
        'busy.yaml',
        WEB_SERVICE.replace('name: web', 'name: busy').replace('replicas: 2', 'replicas: 1'),
      ),
    ]);
    const saved = (await h.run(['get', 'snapshot', '-o', 'json'])).out;
    const snapshotFile = join(h.dir, 'snapshot.json');
    await writeFile(snapshotFile, saved);
    const live = JSON.parse((await h.run(['plan', '-f', spec, '-o', 'json', '--seed', '7'])).out) as PlanJson;
    const offline = JSON.parse(
      (await h.run(['plan', '-f', spec, '-o', 'json', '--seed', '7', '--snapshot', snapshotFile])).out,
    ) as PlanJson;
    expect(offline.placements).toEqual(live.placements);
    const spread = offline.placements.map((p) => p.nodeId);
    const binpack = (
      JSON.parse(
        (await h.run(['plan', '-f', spec, '-o', 'json', '--profile', 'binpack', '--snapshot', snapshotFile]))
          .out,
      ) as PlanJson
    ).placements.map((p) => p.nodeId);
    expect(new Set(spread).size).toBeGreaterThan(1);
    expect(new Set(binpack).size).toBe(1);
  });

  it('rejects an unknown profile, a bad seed and a broken snapshot with the field named', async () => {
    await using h = await harness();
    const spec = await h.file('web.yaml', WEB_SERVICE);
    const profile = await h.run(['plan', '-f', spec, '--profile', 'fastest']);
    expect(profile.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(profile.err).toMatch(
      /--profile: unknown profile "fastest"\nhint: Use one of spread, binpack, balanced/,
    );
    expect((await h.run(['plan', '-f', spec, '--seed', 'x'])).err).toMatch(/--seed: must be an integer/);
    const bad = await h.file(
      'snap.json',
      JSON.stringify({
        kind: 'ClusterSnapshot',
        nodes: [{ id: 'a', allocatable: { cpu: 'lots' } }, { hostname: 'x' }],
      }),
    );
    const snap = await h.run(['plan', '-f', spec, '--snapshot', bad]);
    expect(snap.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(snap.err).toMatch(/snap\.json: nodes\[0\]\.allocatable: /);
    expect(snap.err).toMatch(/snap\.json: nodes\[1\]\.id: every node needs a string id/);
    expect(h.adaptersCreated()).toBe(0);
  });
});
