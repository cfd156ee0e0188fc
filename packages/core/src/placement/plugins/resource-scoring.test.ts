// Cases and expected scores from kube-scheduler's noderesources tests (least_allocated_test.go,
// most_allocated_test.go, requested_to_capacity_ratio_test.go, balanced_allocation_test.go).
// Upstream cpu quantities become millicpu here; the ratios, and so the scores, are the same.
import { describe, expect, it } from 'vitest';
import { Framework } from '../framework.ts';
import { defaultRegistry } from '../profiles.ts';
import type { JsonValue, PluginSetting } from '../registry.ts';
import { SeededRandom } from '../seeded-random.ts';
import { createSnapshot, type SnapshotNodeInput } from '../snapshot.ts';
import { createPlacementTask, type PlacementResourcesInput } from '../task.ts';
import { brokenLinear } from './resource-scoring.ts';

interface N {
  cpu: number;
  memory: number;
  ext?: Record<string, number>;
  /** Requests of tasks already on the node, summed. */
  used?: PlacementResourcesInput;
}

function node(id: string, n: N): SnapshotNodeInput {
  return {
    id,
    allocatable: { cpu: n.cpu, memory: n.memory, ...(n.ext === undefined ? {} : { extended: n.ext }) },
    ...(n.used === undefined ? {} : { allocated: n.used }),
  };
}

/** Scores of one score plugin for each node, through a framework with no filters. */
function scores(
  plugin: string,
  args: JsonValue | undefined,
  nodes: N[],
  request: PlacementResourcesInput,
): (number | undefined)[] {
  const setting: PluginSetting = args === undefined ? { name: plugin } : { name: plugin, args };
  const fw = Framework.build({ name: 't', plugins: [{ name: 'PrioritySort' }, setting] }, defaultRegistry());
  const snapshot = createSnapshot(nodes.map((n, i) => node(`node${i + 1}`, n)));
  const r = fw.runCycle(createPlacementTask({ id: 't', requests: request }), snapshot, {
    random: new SeededRandom(1),
    alternatives: nodes.length,
  });
  if (r.kind !== 'placed') throw new Error(r.explanation.message);
  const all = [r.explanation, ...r.explanation.alternatives];
  return snapshot.ids.map(
    (id) => all.find((s) => s.nodeId === id)?.scores.find((s) => s.plugin === plugin)?.score,
  );
}

const ext = 'example.com/foo';
const withExt = {
  resources: [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
    { name: ext, weight: 1 },
  ],
};

describe('LeastAllocated', () => {
  it('scores the unused share of differently sized nodes', () => {
    expect(
      scores(
        'LeastAllocated',
        undefined,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([37, 50]);
  });
  it('adds what running tasks already requested', () => {
    const nodes = [
      { cpu: 10000, memory: 20000, used: { cpu: 3000 } },
      { cpu: 10000, memory: 20000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('LeastAllocated', undefined, nodes, { cpu: 3000, memory: 5000 })).toEqual([57, 45]);
    nodes[1] = { cpu: 10000, memory: 50000, used: { cpu: 3000, memory: 5000 } };
    expect(scores('LeastAllocated', undefined, nodes, { cpu: 3000, memory: 5000 })).toEqual([57, 60]);
  });
  it('gives 0 for a resource whose request exceeds the capacity', () => {
    const nodes = [
      { cpu: 4000, memory: 10000, used: { cpu: 3000 } },
      { cpu: 4000, memory: 10000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('LeastAllocated', undefined, nodes, { cpu: 3000 })).toEqual([50, 25]);
  });
  it('weights resources', () => {
    const args = {
      resources: [
        { name: 'memory', weight: 2 },
        { name: 'cpu', weight: 1 },
      ],
    };
    expect(
      scores(
        'LeastAllocated',
        args,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([41, 50]);
  });
  it('bypasses extended resources the task does not request and honours those it does', () => {
    const nodes = [
      { cpu: 6000, memory: 10000 },
      { cpu: 6000, memory: 10000, ext: { [ext]: 4 } },
    ];
    expect(scores('LeastAllocated', withExt, nodes, { cpu: 3000, memory: 5000 })).toEqual([50, 50]);
    const both = [
      { cpu: 6000, memory: 10000, ext: { [ext]: 4 } },
      { cpu: 6000, memory: 10000, ext: { [ext]: 10 } },
    ];
    expect(
      scores('LeastAllocated', withExt, both, { cpu: 3000, memory: 5000, extended: { [ext]: 2 } }),
    ).toEqual([50, 60]);
  });
  it('leaves out a resource the node does not have', () => {
    const args = {
      resources: [
        { name: ext, weight: 2 },
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    };
    const nodes = [
      { cpu: 6000, memory: 10000 },
      { cpu: 6000, memory: 10000, ext: { [ext]: 4 } },
    ];
    expect(scores('LeastAllocated', args, nodes, { cpu: 3000, memory: 4000 })).toEqual([55, 55]);
  });
});

describe('MostAllocated', () => {
  it('scores the used share of differently sized nodes', () => {
    expect(
      scores(
        'MostAllocated',
        undefined,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([62, 50]);
  });
  it('counts what running tasks already requested', () => {
    const nodes = [
      { cpu: 10000, memory: 20000, used: { cpu: 6000 } },
      { cpu: 10000, memory: 20000, used: { cpu: 6000, memory: 5000 } },
    ];
    expect(scores('MostAllocated', undefined, nodes, {})).toEqual([30, 42]);
    const half = [
      { cpu: 10000, memory: 20000, used: { cpu: 3000 } },
      { cpu: 10000, memory: 20000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('MostAllocated', undefined, half, { cpu: 3000, memory: 5000 })).toEqual([42, 55]);
  });
  it('scores a request equal to the capacity as full', () => {
    expect(
      scores(
        'MostAllocated',
        undefined,
        [
          { cpu: 5000, memory: 10000 },
          { cpu: 10000, memory: 9000 },
        ],
        { cpu: 5000, memory: 9000 },
      ),
    ).toEqual([95, 75]);
  });
  it('weights resources and honours requested extended resources', () => {
    const args = {
      resources: [
        { name: 'memory', weight: 2 },
        { name: 'cpu', weight: 1 },
      ],
    };
    expect(
      scores(
        'MostAllocated',
        args,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([58, 50]);
    const both = [
      { cpu: 6000, memory: 10000, ext: { [ext]: 4 } },
      { cpu: 6000, memory: 10000, ext: { [ext]: 10 } },
    ];
    expect(
      scores('MostAllocated', withExt, both, { cpu: 3000, memory: 5000, extended: { [ext]: 2 } }),
    ).toEqual([50, 40]);
    const args2 = {
      resources: [
        { name: ext, weight: 2 },
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    };
    expect(
      scores(
        'MostAllocated',
        args2,
        [
          { cpu: 6000, memory: 10000 },
          { cpu: 6000, memory: 10000, ext: { [ext]: 4 } },
        ],
        { cpu: 3000, memory: 4000 },
      ),
    ).toEqual([45, 45]);
  });
});

describe('RequestedToCapacityRatio', () => {
  const leastShape = {
    shape: [
      { utilization: 0, score: 10 },
      { utilization: 100, score: 0 },
    ],
  };
  it('behaves like least-allocated with a falling shape, rounding the weighted mean', () => {
    expect(
      scores(
        'RequestedToCapacityRatio',
        leastShape,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 4000, memory: 10000 },
        ],
        {},
      ),
    ).toEqual([100, 100]);
    expect(
      scores(
        'RequestedToCapacityRatio',
        leastShape,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([38, 50]);
    const used = [
      { cpu: 4000, memory: 10000, used: { cpu: 3000, memory: 5000 } },
      { cpu: 6000, memory: 10000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('RequestedToCapacityRatio', leastShape, used, {})).toEqual([38, 50]);
  });
  it('bin-packs one extended resource', () => {
    const args = {
      resources: [{ name: 'intel.com/foo', weight: 1 }],
      shape: [
        { utilization: 0, score: 0 },
        { utilization: 100, score: 1 },
      ],
    };
    const mi = 1024 * 1024;
    const nodes: N[] = [
      { cpu: 4000, memory: 10000 * mi, ext: { 'intel.com/foo': 8 } },
      { cpu: 4000, memory: 10000 * mi, ext: { 'intel.com/foo': 4 } },
    ];
    expect(scores('RequestedToCapacityRatio', args, nodes, {})).toEqual([0, 0]);
    expect(scores('RequestedToCapacityRatio', args, nodes, { extended: { 'intel.com/foo': 2 } })).toEqual([
      2, 5,
    ]);
    expect(scores('RequestedToCapacityRatio', args, nodes, { extended: { 'intel.com/foo': 4 } })).toEqual([
      5, 10,
    ]);
    nodes[1] = { ...nodes[1]!, used: { extended: { 'intel.com/foo': 2 } } };
    expect(scores('RequestedToCapacityRatio', args, nodes, { extended: { 'intel.com/foo': 2 } })).toEqual([
      2, 10,
    ]);
  });
  it('bin-packs two weighted extended resources', () => {
    const args = {
      resources: [
        { name: 'intel.com/foo', weight: 3 },
        { name: 'intel.com/bar', weight: 5 },
      ],
      shape: [
        { utilization: 0, score: 0 },
        { utilization: 100, score: 1 },
      ],
    };
    const nodes = [
      { cpu: 4000, memory: 10000, ext: { 'intel.com/foo': 8, 'intel.com/bar': 4 } },
      { cpu: 4000, memory: 10000, ext: { 'intel.com/foo': 4, 'intel.com/bar': 8 } },
    ];
    expect(
      scores('RequestedToCapacityRatio', args, nodes, {
        extended: { 'intel.com/foo': 2, 'intel.com/bar': 2 },
      }),
    ).toEqual([4, 3]);
  });
  it('interpolates the shape like BuildBrokenLinearFunction', () => {
    const a = [
      { utilization: 10, score: 1 },
      { utilization: 90, score: 9 },
    ];
    const cases: [number, number][] = [
      [-10, 1],
      [0, 1],
      [9, 1],
      [10, 1],
      [15, 1],
      [19, 1],
      [20, 2],
      [89, 8],
      [90, 9],
      [99, 9],
      [100, 9],
      [110, 9],
    ];
    for (const [p, want] of cases) expect(brokenLinear(a, p)).toBe(want);
    const b = [
      { utilization: 0, score: 2 },
      { utilization: 40, score: 10 },
      { utilization: 100, score: 0 },
    ];
    const cases2: [number, number][] = [
      [-10, 2],
      [0, 2],
      [20, 6],
      [30, 8],
      [40, 10],
      [70, 5],
      [100, 0],
      [110, 0],
    ];
    for (const [p, want] of cases2) expect(brokenLinear(b, p)).toBe(want);
  });
});

describe('BalancedAllocation', () => {
  it('scores (1 - std of the fractions) × 100', () => {
    expect(
      scores(
        'BalancedAllocation',
        undefined,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 6000, memory: 10000 },
        ],
        { cpu: 3000, memory: 5000 },
      ),
    ).toEqual([87, 100]);
    const used = [
      { cpu: 10000, memory: 20000, used: { cpu: 3000 } },
      { cpu: 10000, memory: 20000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('BalancedAllocation', undefined, used, { cpu: 3000, memory: 5000 })).toEqual([82, 95]);
    used[1] = { cpu: 10000, memory: 50000, used: { cpu: 3000, memory: 5000 } };
    expect(scores('BalancedAllocation', undefined, used, { cpu: 3000, memory: 5000 })).toEqual([82, 80]);
  });
  it('caps fractions at 1 when requests reach the capacity', () => {
    const nodes = [
      { cpu: 6000, memory: 10000, used: { cpu: 3000 } },
      { cpu: 6000, memory: 10000, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('BalancedAllocation', undefined, nodes, { cpu: 3000 })).toEqual([50, 75]);
  });
  it('uses the population standard deviation over three resources', () => {
    const gpu = 'nvidia.com/gpu';
    const args = {
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: gpu, weight: 1 },
      ],
    };
    const nodes = [
      {
        cpu: 3500,
        memory: 40000,
        ext: { [gpu]: 8 },
        used: { cpu: 3000, memory: 5000, extended: { [gpu]: 3 } },
      },
      { cpu: 3500, memory: 40000, ext: { [gpu]: 8 }, used: { cpu: 3000, memory: 5000 } },
    ];
    expect(scores('BalancedAllocation', args, nodes, { extended: { [gpu]: 1 } })).toEqual([70, 65]);
    const fresh = [
      { cpu: 3500, memory: 40000, ext: { [gpu]: 8 } },
      { cpu: 3500, memory: 40000 },
    ];
    expect(scores('BalancedAllocation', args, fresh, { cpu: 3000, memory: 5000 })).toEqual([63, 63]);
  });
  it('is skipped for a task that requests nothing', () => {
    expect(
      scores(
        'BalancedAllocation',
        undefined,
        [
          { cpu: 4000, memory: 10000 },
          { cpu: 4000, memory: 10000 },
        ],
        {},
      ),
    ).toEqual([undefined, undefined]);
  });
});

describe('resource score args', () => {
  it('rejects weights outside 1–100 and bad shapes with the field path', () => {
    const build = (setting: PluginSetting) => () =>
      Framework.build({ name: 't', plugins: [{ name: 'PrioritySort' }, setting] }, defaultRegistry());
    expect(
      build({
        name: 'LeastAllocated',
        args: {
          resources: [
            { name: 'memory', weight: -1 },
            { name: 'cpu', weight: 1 },
          ],
        },
      }),
    ).toThrow(/profile\.plugins\[1\]\.args\.resources\[0\]\.weight/);
    expect(build({ name: 'MostAllocated', args: { resources: [{ name: 'cpu', weight: 101 }] } })).toThrow(
      /weight must be an integer from 1 to 100/,
    );
    expect(
      build({
        name: 'RequestedToCapacityRatio',
        args: {
          shape: [
            { utilization: 50, score: 1 },
            { utilization: 40, score: 2 },
          ],
        },
      }),
    ).toThrow(/shape\[1\]\.utilization: utilization must increase strictly/);
    expect(
      build({ name: 'RequestedToCapacityRatio', args: { shape: [{ utilization: 0, score: 11 }] } }),
    ).toThrow(/score: must be an integer from 0 to 10/);
  });
});
