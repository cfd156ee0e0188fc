/**
 * Cases derived from the Kubernetes HPA replica-calculator tests (pkg/controller/podautoscaler,
 * TestReplicaCalc*, TestGroupPods): same replica counts, requests, usage levels, readiness and
 * start times, same expected replicas and utilization. Upstream pods have two containers with the
 * same request and usage each; here a sample is the pod's total, so requests and usage are doubled
 * and the average usage matches upstream's "raw value".
 */
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../cluster/errors.ts';
import type { TaskState } from '../cluster/task-state.ts';
import {
  computeReplicaRecommendation,
  groupReplicas,
  type MetricRecommendation,
  type PodMetricSample,
  type ReplicaCalculatorOptions,
} from './replica-calculator.ts';

const NOW = 1_700_000_000_000;
/** The upstream tests' timings: 2 min cpu initialization period, 10 s initial readiness delay. */
const UPSTREAM: ReplicaCalculatorOptions = {
  cpuInitializationPeriodMs: 120_000,
  initialReadinessDelayMs: 10_000,
};
const CONTAINERS = 2;

type Start = 'hot' | 'cool' | 'old';

interface Case {
  current: number;
  /** Per-container cpu request in millicpu, one per pod. */
  requests: number[];
  /** Per-container usage; pods past the end of the list have no sample. */
  levels: number[];
  target: number;
  ready?: boolean[];
  start?: Start[];
  states?: TaskState[];
  resource?: 'cpu' | 'memory';
}

/** hot: started just now; cool: 3 min ago (past the initialization period); old: long ago. */
function startedAt(s: Start): number {
  return s === 'hot' ? NOW : s === 'cool' ? NOW - 180_000 : 0;
}

function samples(c: Case): PodMetricSample[] {
  const resource = c.resource ?? 'cpu';
  const n = Math.max(c.current, c.states?.length ?? 0);
  return Array.from({ length: n }, (_, i) => {
    const level = c.levels[i];
    return {
      taskId: `web-${i}`,
      state: c.states?.[i] ?? 'RUNNING',
      ready: c.ready?.[i] ?? true,
      startedAt: startedAt(c.start?.[i] ?? 'old'),
      // Upstream leaves the Ready condition's transition time and the metric timestamp at zero.
      readyChangedAt: 0,
      sampledAt: 0,
      windowMs: 60_000,
      requests: c.requests[i] === undefined ? {} : { [resource]: c.requests[i]! * CONTAINERS },
      ...(level === undefined ? {} : { usage: { [resource]: level * CONTAINERS } }),
    };
  });
}

function calc(c: Case, options: ReplicaCalculatorOptions = UPSTREAM): MetricRecommendation {
  return computeReplicaRecommendation({
    ...options,
    currentReplicas: c.current,
    target: { resource: c.resource ?? 'cpu', targetAverageUtilization: c.target },
    samples: samples(c),
    now: NOW,
  });
}

function ok(r: MetricRecommendation) {
  if (r.status !== 'ok') throw new Error(`expected a recommendation, got ${r.reason}: ${r.message}`);
  return r;
}

const ones = (n: number) => Array.from({ length: n }, () => 1000);

describe('computeReplicaRecommendation (upstream replica-calculator cases)', () => {
  it('scales up to ceil(ready × utilization / target)', () => {
    const r = ok(calc({ current: 3, requests: ones(3), levels: [300, 500, 700], target: 30 }));
    expect([r.replicas, r.utilization, r.averageUsage, r.basis]).toEqual([
      5,
      50,
      CONTAINERS * 500,
      'ScaledByRatio',
    ]);
  });

  it('scales up less when an unready replica is counted at 0 %', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [300, 500, 700],
        target: 30,
        ready: [false, true, true],
      }),
    );
    expect([r.replicas, r.utilization, r.averageUsage]).toEqual([4, 60, CONTAINERS * 600]);
    expect(r.groups.unready).toEqual(['web-0']);
  });

  it('scales up less when a replica is still in its cpu initialization period', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [300, 500, 700],
        target: 30,
        start: ['hot', 'cool', 'cool'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([4, 60]);
  });

  it('does not scale up when counting unready replicas at 0 % would reverse the direction', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [400, 500, 700],
        target: 30,
        ready: [true, false, false],
      }),
    );
    expect([r.replicas, r.utilization, r.basis]).toEqual([3, 40, 'DirectionReversed']);
  });

  it('does not scale up on samples of replicas still in their cpu initialization period', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [400, 500, 700],
        target: 30,
        ready: [true, false, false],
        start: ['cool', 'hot', 'hot'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([3, 40]);
  });

  it('ignores failed replicas when scaling up', () => {
    const r = ok(
      calc({
        current: 2,
        requests: ones(4),
        levels: [500, 700],
        target: 30,
        ready: [true, true, false, false],
        states: ['RUNNING', 'RUNNING', 'FAILED', 'FAILED'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([4, 60]);
    expect(r.groups.ignored).toEqual(['web-2', 'web-3']);
  });

  it('ignores replicas being killed when scaling up', () => {
    const r = ok(
      calc({
        current: 2,
        requests: ones(4),
        levels: [500, 700],
        target: 30,
        ready: [true, true, false, false],
        states: ['RUNNING', 'RUNNING', 'KILLING', 'KILLING'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([4, 60]);
  });

  it('scales down to ceil(ready × utilization / target)', () => {
    const r = ok(calc({ current: 5, requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50 }));
    expect([r.replicas, r.utilization, r.averageUsage]).toEqual([3, 28, CONTAINERS * 280]);
  });

  it('leaves unready replicas out of a scale-down', () => {
    const r = ok(
      calc({
        current: 5,
        requests: ones(5),
        levels: [100, 300, 500, 250, 250],
        target: 50,
        ready: [true, true, true, false, false],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([2, 30]);
  });

  it('leaves replicas that are not placed yet out of a scale-down', () => {
    const r = ok(
      calc({
        current: 5,
        requests: ones(5),
        levels: [100],
        target: 50,
        ready: [true, false, false, false, false],
        states: ['RUNNING', 'PENDING', 'PENDING', 'PENDING', 'PENDING'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([1, 10]);
  });

  it('leaves replicas in their cpu initialization period out of a scale-down', () => {
    const r = ok(
      calc({
        current: 5,
        requests: ones(5),
        levels: [100, 300, 500, 250, 250],
        target: 50,
        start: ['cool', 'cool', 'cool', 'hot', 'hot'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([2, 30]);
  });

  it('ignores failed replicas when scaling down', () => {
    const r = ok(
      calc({
        current: 5,
        requests: ones(7),
        levels: [100, 300, 500, 250, 250],
        target: 50,
        ready: [true, true, true, true, true, false, false],
        states: ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'FAILED', 'FAILED'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([3, 28]);
  });

  it('ignores replicas being killed when scaling down', () => {
    const r = ok(
      calc({
        current: 5,
        requests: ones(7),
        levels: [100, 300, 500, 250, 250],
        target: 50,
        ready: [true, true, true, true, true, false, false],
        states: ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'KILLING', 'KILLING'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([3, 28]);
  });

  it('keeps the count when utilization is within the 0.1 tolerance', () => {
    const r = ok(calc({ current: 3, requests: [900, 1000, 1100], levels: [1010, 1030, 1020], target: 100 }));
    expect([r.replicas, r.utilization, r.averageUsage, r.basis]).toEqual([
      3,
      102,
      CONTAINERS * 1020,
      'WithinTolerance',
    ]);
  });

  it('counts replicas without a sample at 100 % of their request on a scale-down', () => {
    const r = ok(calc({ current: 4, requests: ones(4), levels: [400, 95], target: 100 }));
    expect([r.replicas, r.utilization, r.averageUsage, r.basis]).toEqual([
      3,
      24,
      495,
      'ScaledConservatively',
    ]);
    expect(r.groups.missing).toEqual(['web-2', 'web-3']);
  });

  it('reports no samples as unavailable instead of guessing', () => {
    const r = calc({ current: 4, requests: ones(4), levels: [], target: 100 });
    expect(r.status).toBe('unavailable');
    expect(r.status === 'unavailable' && r.reason).toBe('NoMetrics');
  });

  it('reports a replica without a cpu request as unavailable, naming the field to set', () => {
    const r = calc({ current: 1, requests: [], levels: [200], target: 100 });
    expect(r.status === 'unavailable' && r.reason).toBe('MissingRequest');
    expect(r.status === 'unavailable' && r.message).toContain('template.resources.requests.cpu');
  });

  it('keeps the count when the only sample is exactly on target and another is missing', () => {
    const r = ok(calc({ current: 2, requests: ones(2), levels: [1000], target: 100 }));
    expect([r.replicas, r.utilization]).toEqual([2, 100]);
  });

  it('keeps the count when a missing sample counted at 0 % brings a scale-up inside the tolerance', () => {
    const r = ok(calc({ current: 2, requests: ones(2), levels: [1900], target: 100 }));
    expect([r.replicas, r.utilization, r.adjustedUsageRatio]).toEqual([2, 190, 0.95]);
  });

  it('keeps the count when a missing sample counted at 100 % leaves nothing to remove', () => {
    const r = ok(calc({ current: 2, requests: ones(2), levels: [600], target: 100 }));
    expect([r.replicas, r.utilization]).toEqual([2, 60]);
  });

  it('does not scale down when filling in a missing sample at 100 % would reverse the direction', () => {
    const r = ok(
      calc({ current: 3, requests: ones(3), levels: [100, 450], target: 50, ready: [false, true, true] }),
    );
    expect([r.replicas, r.utilization, r.basis]).toEqual([3, 45, 'DirectionReversed']);
  });

  it('does not scale down on a hot replica plus a missing sample', () => {
    const r = ok(
      calc({ current: 3, requests: ones(3), levels: [100, 450], target: 50, start: ['hot', 'cool', 'cool'] }),
    );
    expect([r.replicas, r.utilization]).toEqual([3, 45]);
  });

  it('scales up with unready and missing replicas both counted at 0 %', () => {
    const r = ok(
      calc({ current: 3, requests: ones(3), levels: [100, 2000], target: 50, ready: [false, true, true] }),
    );
    expect([r.replicas, r.utilization, r.averageUsage]).toEqual([4, 200, CONTAINERS * 2000]);
  });

  it('scales up with a hot replica and a missing one both counted at 0 %', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [100, 2000],
        target: 50,
        ready: [false, true, true],
        start: ['hot', 'cool', 'cool'],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([4, 200]);
  });

  it('scales down with an unready replica left out and a missing one at 100 %', () => {
    const r = ok(
      calc({
        current: 4,
        requests: ones(4),
        levels: [100, 100, 100],
        target: 50,
        ready: [false, true, true, true],
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([3, 10]);
  });

  it('does not scale up during a rolling update with a surge replica missing its sample', () => {
    const r = ok(
      calc({
        current: 2,
        requests: ones(3),
        levels: [100, 100],
        target: 50,
        states: ['RUNNING', 'RUNNING', 'RUNNING'],
      }),
    );
    expect([r.replicas, r.utilization, r.basis]).toEqual([2, 10, 'DirectionReversed']);
  });

  it('scales down by the minimal step once the ratio just leaves the tolerance, and not just inside it', () => {
    // Upstream's back-calculated case: 10 pods using 150m of ~300m each, target set so that the
    // ratio lands just outside (then just inside) the 0.1 tolerance.
    const used = 10 * 150;
    const requested = 2 * used;
    const requestedToUsed = Math.trunc(requested / used);
    const perPod = requested / 10;
    const requests = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0].map((d) => (perPod + d) / CONTAINERS);
    const levels = Array.from({ length: 10 }, () => used / 10 / CONTAINERS);
    const outside = Math.abs(1 / (requestedToUsed * (1 - 0.1))) + 0.01;
    const expected = Math.ceil((used / (requested * outside)) * 10);
    const r = ok(calc({ current: 10, requests, levels, target: Math.trunc(outside * 100) }));
    expect([r.replicas, r.utilization]).toEqual([expected, 50]);
    expect(expected).toBe(9);

    const inside = Math.abs(1 / (requestedToUsed * (1 - 0.1))) + 0.004;
    const r2 = ok(calc({ current: 10, requests, levels, target: Math.trunc(inside * 100) }));
    expect([r2.replicas, r2.basis]).toEqual([10, 'WithinTolerance']);
  });

  it('uses memory samples regardless of readiness and start time', () => {
    const r = ok(
      calc({
        current: 3,
        requests: ones(3),
        levels: [300, 500, 700],
        target: 30,
        ready: [false, true, true],
        start: ['hot', 'hot', 'hot'],
        resource: 'memory',
      }),
    );
    expect([r.replicas, r.utilization]).toEqual([5, 50]);
  });

  it('reports a service with only ended replicas as having none to measure', () => {
    const r = calc({
      current: 2,
      requests: ones(2),
      levels: [500, 500],
      target: 50,
      states: ['FAILED', 'KILLED'],
    });
    expect(r.status === 'unavailable' && r.reason).toBe('NoReplicas');
  });
});

describe('groupReplicas (upstream groupPods cases)', () => {
  const base = { taskId: 'p', state: 'RUNNING', requests: { cpu: 1000 } } as const;
  const group = (s: PodMetricSample, resource: 'cpu' | 'memory' = 'cpu') =>
    groupReplicas([s], resource, NOW, UPSTREAM);

  it('counts a replica with a memory sample whatever its readiness', () => {
    expect(group({ ...base, ready: false, usage: { memory: 1 } }, 'memory').ready).toEqual(['p']);
  });

  it('leaves out a cpu sample of a replica with no known start time', () => {
    expect(group({ ...base, ready: true, usage: { cpu: 1 } }).unready).toEqual(['p']);
  });

  it('counts a ready replica with a sample taken a full window after it turned ready, during initialization', () => {
    const s = {
      ...base,
      ready: true,
      startedAt: NOW - 60_000,
      readyChangedAt: NOW - 30_000,
      sampledAt: NOW,
      windowMs: 30_000,
    };
    expect(group({ ...s, usage: { cpu: 1 } }).ready).toEqual(['p']);
  });

  it('leaves out a ready replica whose sample window began before it turned ready, during initialization', () => {
    const s = {
      ...base,
      ready: true,
      startedAt: NOW - 60_000,
      readyChangedAt: NOW - 30_000,
      sampledAt: NOW,
      windowMs: 60_000,
    };
    expect(group({ ...s, usage: { cpu: 1 } }).unready).toEqual(['p']);
  });

  it('leaves out an unready replica during initialization', () => {
    const s = { ...base, ready: false, startedAt: NOW - 100_000, readyChangedAt: NOW - 94_000 };
    expect(group({ ...s, usage: { cpu: 1 } }).unready).toEqual(['p']);
  });

  it('counts a ready replica after initialization even with an old sample', () => {
    const s = {
      ...base,
      ready: true,
      startedAt: NOW - 180_000,
      readyChangedAt: NOW - 180_000,
      sampledAt: NOW - 120_000,
      windowMs: 60_000,
    };
    expect(group({ ...s, usage: { cpu: 1 } }).ready).toEqual(['p']);
  });

  it('counts an unready replica that was ready after its start, past initialization', () => {
    const s = { ...base, ready: false, startedAt: NOW - 600_000, readyChangedAt: NOW - 540_000 };
    expect(group({ ...s, usage: { cpu: 1 } }).ready).toEqual(['p']);
  });

  it('leaves out a replica that turned unready within the initial readiness delay and never became ready', () => {
    const s = { ...base, ready: false, startedAt: NOW - 600_000, readyChangedAt: NOW - 595_000 };
    expect(group({ ...s, usage: { cpu: 1 } }).unready).toEqual(['p']);
  });

  it('puts a running replica without a sample in missing and a pending one in unready', () => {
    const g = groupReplicas(
      [
        { ...base, taskId: 'a', ready: true, startedAt: NOW - 180_000 },
        { ...base, taskId: 'b', state: 'PENDING', ready: false },
        { ...base, taskId: 'c', ready: true, startedAt: NOW - 180_000, usage: { cpu: 1 } },
      ],
      'cpu',
      NOW,
      UPSTREAM,
    );
    expect(g).toEqual({ ready: ['c'], unready: ['b'], missing: ['a'], ignored: [] });
  });
});

describe('computeReplicaRecommendation input checks', () => {
  const input = {
    currentReplicas: 1,
    target: { resource: 'cpu', targetAverageUtilization: 50 },
    samples: [{ taskId: 'a', state: 'RUNNING', ready: true, requests: { cpu: 100 }, usage: { cpu: 50 } }],
    now: NOW,
  } as const;
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return isBerthError(err) ? `${err.code} ${err.issues[0]?.path}` : String(err);
    }
    return 'no error';
  };

  it('rejects malformed input with SPEC_INVALID naming the field', () => {
    expect(code(() => computeReplicaRecommendation({ ...input, currentReplicas: -1 }))).toBe(
      'SPEC_INVALID currentReplicas',
    );
    expect(
      code(() =>
        computeReplicaRecommendation({ ...input, target: { resource: 'cpu', targetAverageUtilization: 0 } }),
      ),
    ).toBe('SPEC_INVALID target.targetAverageUtilization');
    expect(code(() => computeReplicaRecommendation({ ...input, tolerance: 2 }))).toBe(
      'SPEC_INVALID tolerance',
    );
    expect(
      code(() => computeReplicaRecommendation({ ...input, samples: [input.samples[0], input.samples[0]] })),
    ).toBe('SPEC_INVALID samples[1].taskId');
    expect(
      code(() =>
        computeReplicaRecommendation({ ...input, samples: [{ ...input.samples[0], usage: { cpu: 0.5 } }] }),
      ),
    ).toBe('SPEC_INVALID samples[0].usage.cpu');
  });

  it('accepts a well-formed input', () => {
    expect(code(() => computeReplicaRecommendation(input))).toBe('no error');
  });
});
