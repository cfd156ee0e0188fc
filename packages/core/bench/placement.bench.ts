/**
 * The placement engine on a realistic batch: 10,000 pending tasks (mixed sizes; 20% with node
 * selectors, affinity, tolerations or Marathon constraints) on 5,000 heterogeneous nodes (10%
 * tainted), with the `spread` and `binpack` profiles, exhaustively (no sampling). The baseline,
 * measured in the same run, is a raw exhaustive scan over typed arrays with only a cpu/memory fit
 * check and a least-allocated score, keeping the best node. Also 500, 1,000 and 20,000 nodes.
 */
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import {
  createPlacementTask,
  createSnapshot,
  type PlacementTask,
  PortRanges,
  place,
  SeededRandom,
  type SnapshotNodeInput,
} from '../src/index.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;
const TASKS = 10_000;

function makeNodes(n: number, seed: number): SnapshotNodeInput[] {
  const rnd = new SeededRandom(seed);
  const shapes = [
    { cpu: 4000, memory: 16 * GI },
    { cpu: 8000, memory: 32 * GI },
    { cpu: 16000, memory: 64 * GI },
    { cpu: 32000, memory: 128 * GI },
    { cpu: 16000, memory: 256 * GI },
    { cpu: 64000, memory: 256 * GI },
  ];
  const ports = PortRanges.of({ begin: 31000, end: 32000 });
  return Array.from({ length: n }, (_, i) => {
    const shape = shapes[rnd.nextInt(shapes.length)]!;
    const used = rnd.nextInt(40) / 100;
    const tainted = i % 10 === 3;
    return {
      id: `node-${i}`,
      hostname: `host-${i}.example`,
      labels: {
        zone: `zone-${i % 5}`,
        rack: `rack-${i % 200}`,
        'node-type': shape.memory >= 256 * GI ? 'highmem' : 'general',
        disk: i % 3 === 0 ? 'ssd' : 'hdd',
      },
      taints: tainted
        ? [
            i % 30 === 3
              ? { key: 'spot', effect: 'PreferNoSchedule' as const }
              : { key: 'dedicated', value: 'batch', effect: 'NoSchedule' as const },
          ]
        : [],
      allocatable: { cpu: shape.cpu, memory: shape.memory, disk: 500 * GI },
      allocated: { cpu: Math.floor(shape.cpu * used), memory: Math.floor(shape.memory * used) },
      freePorts: ports,
    };
  });
}

function makeTasks(seed: number): PlacementTask[] {
  const rnd = new SeededRandom(seed);
  const cpus = [100, 250, 500, 1000, 2000];
  const mems = [128 * MI, 256 * MI, 512 * MI, GI, 2 * GI, 4 * GI];
  const tasks: PlacementTask[] = [];
  for (let i = 0; i < TASKS; i++) {
    const app = `app-${i % 250}`;
    const base = {
      id: `task-${i}`,
      app,
      labels: { app },
      priority: rnd.nextInt(3) * 100,
      requests: { cpu: cpus[rnd.nextInt(cpus.length)]!, memory: mems[rnd.nextInt(mems.length)]! },
      ports: i % 4 === 0 ? [{ name: 'http' }] : [],
      sequence: i,
    };
    const kind = i % 20; // 4 of 20 = 20% carry selectors or constraints
    if (kind === 0) tasks.push(createPlacementTask({ ...base, nodeSelector: { disk: 'ssd' } }));
    else if (kind === 5)
      tasks.push(
        createPlacementTask({
          ...base,
          nodeAffinity: {
            required: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['zone-1', 'zone-2'] }] }],
          },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
        }),
      );
    else if (kind === 10)
      tasks.push(createPlacementTask({ ...base, constraints: [{ field: 'rack', operator: 'GROUP_BY' }] }));
    else if (kind === 15)
      tasks.push(
        createPlacementTask({
          ...base,
          constraints: [
            { field: 'hostname', operator: 'UNIQUE' },
            { field: 'zone', operator: 'MAX_PER', value: '20' },
          ],
        }),
      );
    else tasks.push(createPlacementTask(base));
  }
  return tasks;
}

/** The baseline: every node visited, cpu/memory fit, least-allocated score, best kept. */
function baseline(nodes: readonly SnapshotNodeInput[], tasks: readonly PlacementTask[]): number {
  const n = nodes.length;
  const ca = new Float64Array(n);
  const cu = new Float64Array(n);
  const ma = new Float64Array(n);
  const mu = new Float64Array(n);
  nodes.forEach((x, i) => {
    ca[i] = x.allocatable.cpu ?? 0;
    cu[i] = x.allocated?.cpu ?? 0;
    ma[i] = x.allocatable.memory ?? 0;
    mu[i] = x.allocated?.memory ?? 0;
  });
  let placed = 0;
  for (const t of tasks) {
    const rc = t.requests.cpu;
    const rm = t.requests.memory;
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < n; i++) {
      const c = ca[i]!;
      const m = ma[i]!;
      const uc = cu[i]! + rc;
      const um = mu[i]! + rm;
      if (uc > c || um > m) continue;
      const s = Math.floor((Math.floor(((c - uc) * 100) / c) + Math.floor(((m - um) * 100) / m)) / 2);
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    if (best >= 0) {
      cu[best]! += rc;
      mu[best]! += rm;
      placed++;
    }
  }
  return placed;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function best(runs: number, fn: () => number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) min = Math.min(min, fn());
  return min;
}

const suite: BenchSuite = {
  name: 'core-placement',
  description: 'placement engine throughput vs a raw typed-array scan',
  async run() {
    const rows: BenchRow[] = [];
    const tasks = makeTasks(7);
    for (const size of [500, 1_000, 5_000, 20_000]) {
      const nodes = makeNodes(size, 11);
      const runs = size >= 20_000 ? 1 : 3;
      // Warm up both paths once.
      baseline(nodes, tasks.slice(0, 500));
      place(tasks.slice(0, 500), createSnapshot(nodes), 'spread', { seed: 1 });
      const base = best(runs, () => time(() => baseline(nodes, tasks)));
      const label = size.toLocaleString('en-US');
      rows.push({
        suite: suite.name,
        name: `baseline raw scan, ${label} nodes`,
        value: TASKS / base,
        unit: 'tasks/s',
      });
      for (const profile of ['spread', 'binpack'] as const) {
        let placed = 0;
        const secs = best(runs, () => {
          const snapshot = createSnapshot(nodes);
          return time(() => {
            placed = place(tasks, snapshot, profile, { seed: 1 }).placements.length;
          });
        });
        const headline = size === 5_000;
        rows.push({
          suite: suite.name,
          name: `${profile}, ${label} nodes (${placed.toLocaleString('en-US')} placed)`,
          value: TASKS / secs,
          unit: 'tasks/s',
          ratio: base / secs,
          baseline: `raw scan, ${label} nodes`,
          ...(headline ? { goal: '≥ 10,000/s, ≥ 0.25×' } : {}),
        });
      }
    }
    return rows;
  },
};
export default suite;
