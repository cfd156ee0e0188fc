import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyAutoscaleHistory, recordScaleEvent } from './behavior.ts';
import { type AutoscalePolicy, decideScale } from './decide.ts';
import type { PodMetricSample } from './replica-calculator.ts';

const NOW = 1_700_000_000_000;
const policy: AutoscalePolicy = {
  minReplicas: 1,
  maxReplicas: 10,
  metrics: [{ resource: 'cpu', targetAverageUtilization: 50 }],
};

/** `n` long-running ready replicas requesting 1 cpu and using `cpu` millicpu each (memory 50 % of 1 GiB). */
function replicas(n: number, cpu: number, extra: Partial<PodMetricSample> = {}): PodMetricSample[] {
  return Array.from({ length: n }, (_, i) => ({
    taskId: `web-${i}`,
    state: 'RUNNING',
    ready: true,
    startedAt: NOW - 3_600_000,
    requests: { cpu: 1000, memory: 1 << 30 },
    usage: { cpu, memory: 1 << 29 },
    ...extra,
  }));
}

describe('decideScale', () => {
  it('records every input next to the outputs, ready to emit as an event', () => {
    const samples = replicas(2, 1000);
    const d = decideScale({
      service: 'web',
      currentReplicas: 2,
      policy,
      samples,
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect(d).toMatchObject({
      service: 'web',
      at: NOW,
      currentReplicas: 2,
      desiredReplicas: 4,
      rescale: true,
      reason: 'DesiredWithinRange',
      recommendedReplicas: 4,
      recommendedBy: 'cpu',
      inputs: { policy, samples, history: emptyAutoscaleHistory() },
    });
    expect(d.metrics[0]).toMatchObject({ status: 'ok', utilization: 100, replicas: 4 });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('takes the highest recommendation over several metrics', () => {
    const d = decideScale({
      currentReplicas: 2,
      policy: {
        ...policy,
        metrics: [
          { resource: 'cpu', targetAverageUtilization: 50 },
          { resource: 'memory', targetAverageUtilization: 10 },
        ],
      },
      samples: replicas(2, 500),
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.recommendedReplicas, d.recommendedBy, d.desiredReplicas]).toEqual([10, 'memory', 4]);
    expect(d.reason).toBe('ScaleUpLimit');
  });

  it('defaults to a cpu target of 80 % when the policy lists no metric', () => {
    const d = decideScale({
      currentReplicas: 2,
      policy: { ...policy, metrics: [] },
      samples: replicas(2, 1600),
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect(d.metrics[0]).toMatchObject({ resource: 'cpu', targetAverageUtilization: 80, replicas: 4 });
  });

  it('does not scale down right after the autoscaler starts: the current count seeds the scale-down window', () => {
    const d = decideScale({
      currentReplicas: 6,
      policy: { ...policy, behavior: {} },
      samples: replicas(6, 100),
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.recommendedReplicas, d.desiredReplicas, d.reason]).toEqual([2, 6, 'ScaleDownStabilized']);
  });

  it('moves a count outside [min, max] to the nearest bound without reading metrics', () => {
    const above = decideScale({
      currentReplicas: 12,
      policy,
      samples: [],
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    const below = decideScale({
      currentReplicas: 0,
      policy: { ...policy, minReplicas: 0 },
      samples: [],
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    const belowMin = decideScale({
      currentReplicas: 1,
      policy: { ...policy, minReplicas: 3 },
      samples: [],
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([above.desiredReplicas, above.reason]).toEqual([10, 'AboveMaxReplicas']);
    expect([belowMin.desiredReplicas, belowMin.reason]).toEqual([3, 'BelowMinReplicas']);
    expect(below.reason).toBe('MetricsUnavailable');
  });

  it('leaves a service scaled to zero by hand alone', () => {
    const d = decideScale({
      currentReplicas: 0,
      policy,
      samples: [],
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.desiredReplicas, d.rescale, d.reason]).toEqual([0, false, 'ScalingDisabled']);
  });

  it('keeps the count when no metric is available, and says why', () => {
    const d = decideScale({
      currentReplicas: 3,
      policy,
      samples: replicas(3, 0, { usage: {} }),
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.desiredReplicas, d.rescale, d.reason]).toEqual([3, false, 'MetricsUnavailable']);
    expect(d.message).toContain('no cpu samples');
    expect(d.history).toEqual(emptyAutoscaleHistory());
  });

  it('does not scale down on the metrics it has while another metric is unavailable', () => {
    const samples = replicas(4, 100).map((s) => ({ ...s, usage: { cpu: 100 } }));
    const d = decideScale({
      currentReplicas: 4,
      policy: {
        ...policy,
        metrics: [
          { resource: 'cpu', targetAverageUtilization: 50 },
          { resource: 'memory', targetAverageUtilization: 50 },
        ],
      },
      samples,
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.recommendedReplicas, d.desiredReplicas, d.reason]).toEqual([1, 4, 'MetricsUnavailable']);
  });

  it('still scales up on the metrics it has while another metric is unavailable', () => {
    const samples = replicas(2, 1000).map((s) => ({ ...s, usage: { cpu: 1000 } }));
    const d = decideScale({
      currentReplicas: 2,
      policy: {
        ...policy,
        metrics: [
          { resource: 'cpu', targetAverageUtilization: 50 },
          { resource: 'memory', targetAverageUtilization: 50 },
        ],
      },
      samples,
      history: emptyAutoscaleHistory(),
      now: NOW,
    });
    expect([d.desiredReplicas, d.rescale]).toEqual([4, true]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const rulesArb = fc.record({
  stabilizationWindowSeconds: fc.integer({ min: 0, max: 600 }),
  selectPolicy: fc.constantFrom('Max', 'Min', 'Disabled') as fc.Arbitrary<'Max' | 'Min' | 'Disabled'>,
  policies: fc.array(
    fc.record({
      type: fc.constantFrom('Pods', 'Percent') as fc.Arbitrary<'Pods' | 'Percent'>,
      value: fc.integer({ min: 1, max: 300 }),
      periodSeconds: fc.integer({ min: 1, max: 120 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

const policyArb = fc
  .record({
    min: fc.integer({ min: 1, max: 20 }),
    span: fc.integer({ min: 0, max: 30 }),
    target: fc.integer({ min: 1, max: 200 }),
    behavior: fc.option(fc.record({ scaleUp: rulesArb, scaleDown: rulesArb }), { nil: undefined }),
  })
  .map(
    ({ min, span, target, behavior }): AutoscalePolicy => ({
      minReplicas: min,
      maxReplicas: min + span,
      metrics: [{ resource: 'cpu', targetAverageUtilization: target }],
      ...(behavior === undefined ? {} : { behavior }),
    }),
  );

const sampleArb = fc.record({
  state: fc.constantFrom('RUNNING', 'RUNNING', 'RUNNING', 'PENDING', 'KILLING', 'FAILED') as fc.Arbitrary<
    PodMetricSample['state']
  >,
  ready: fc.boolean(),
  ageSeconds: fc.integer({ min: 0, max: 3600 }),
  request: fc.integer({ min: 1, max: 4000 }),
  usage: fc.option(fc.integer({ min: 0, max: 16_000 }), { nil: undefined }),
});

const samplesArb = fc.array(sampleArb, { maxLength: 30 }).map((xs) =>
  xs.map(
    (x, i): PodMetricSample => ({
      taskId: `t-${i}`,
      state: x.state,
      ready: x.ready,
      startedAt: NOW - x.ageSeconds * 1000,
      requests: { cpu: x.request },
      ...(x.usage === undefined ? {} : { usage: { cpu: x.usage } }),
    }),
  ),
);

/** A series of decisions 15 s apart, fed back their own history as the controller does. */
function run(policy: AutoscalePolicy, start: number, series: PodMetricSample[][]) {
  let current = start;
  let history = emptyAutoscaleHistory();
  const out = [];
  for (let i = 0; i < series.length; i++) {
    const now = NOW + i * 15_000;
    const d = decideScale({ currentReplicas: current, policy, samples: series[i]!, history, now });
    out.push(d);
    history = d.rescale ? recordScaleEvent(d.history, current, d.desiredReplicas, now) : d.history;
    current = d.desiredReplicas;
  }
  return out;
}

describe('decideScale properties', () => {
  it('always lands within [minReplicas, maxReplicas] once the count was inside', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 60 }),
        fc.array(samplesArb, { minLength: 1, maxLength: 8 }),
        (p, start, series) => {
          for (const d of run(p, start, series)) {
            expect(d.desiredReplicas).toBeGreaterThanOrEqual(p.minReplicas);
            expect(d.desiredReplicas).toBeLessThanOrEqual(p.maxReplicas);
          }
        },
      ),
    );
  });

  it('never changes the count while utilization is within the tolerance of the target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 10, max: 200 }),
        fc.integer({ min: -10, max: 10 }),
        fc.option(fc.record({ scaleUp: rulesArb, scaleDown: rulesArb }), { nil: undefined }),
        (n, target, offsetPercentOfTarget, behavior) => {
          // Utilization within ±10 % of the target (ratio within the 0.1 tolerance).
          const utilization = Math.floor((target * (100 + offsetPercentOfTarget)) / 100);
          fc.pre(Math.abs(1 - utilization / target) <= 0.1);
          const p: AutoscalePolicy = {
            minReplicas: 1,
            maxReplicas: 40,
            metrics: [{ resource: 'cpu', targetAverageUtilization: target }],
            ...(behavior === undefined ? {} : { behavior }),
          };
          const d = decideScale({
            currentReplicas: n,
            policy: p,
            samples: replicas(n, utilization * 10),
            history: emptyAutoscaleHistory(),
            now: NOW,
          });
          expect(d.desiredReplicas).toBe(n);
          expect(d.rescale).toBe(false);
        },
      ),
    );
  });

  it('never moves in a direction whose selectPolicy is Disabled', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.constantFrom('scaleUp', 'scaleDown') as fc.Arbitrary<'scaleUp' | 'scaleDown'>,
        rulesArb,
        fc.integer({ min: 1, max: 60 }),
        fc.array(samplesArb, { minLength: 1, maxLength: 8 }),
        (p, side, other, start, series) => {
          const behavior = {
            scaleUp: other,
            scaleDown: other,
            ...p.behavior,
            [side]: { ...other, selectPolicy: 'Disabled' as const },
          };
          const policyWithDisabled = { ...p, behavior };
          const clampedStart = Math.min(Math.max(start, p.minReplicas), p.maxReplicas);
          for (const d of run(policyWithDisabled, clampedStart, series)) {
            if (side === 'scaleUp') expect(d.desiredReplicas).toBeLessThanOrEqual(d.currentReplicas);
            else expect(d.desiredReplicas).toBeGreaterThanOrEqual(d.currentReplicas);
          }
        },
      ),
    );
  });

  it('is a pure function: the same input gives the same decision', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 30 }), samplesArb, (p, start, samples) => {
        const input = {
          currentReplicas: start,
          policy: p,
          samples,
          history: emptyAutoscaleHistory(),
          now: NOW,
        };
        expect(decideScale(input)).toEqual(decideScale(input));
      }),
    );
  });
});
