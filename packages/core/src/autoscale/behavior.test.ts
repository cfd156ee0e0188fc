import { describe, expect, it } from 'vitest';
import { FakeClock } from '../cluster/clock.ts';
import { isBerthError } from '../cluster/errors.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from '../spec/defaults.ts';
import type { ScalingRules } from '../spec/types.ts';
import {
  type AutoscaleHistory,
  emptyAutoscaleHistory,
  normalizeWithBehavior,
  type ReplicaBounds,
  recordScaleEvent,
  replicasChangedInPeriod,
  scaleDownLimit,
  scaleUpLimit,
} from './behavior.ts';

const S = 1000;
const rules = (r: Partial<ScalingRules>): ScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  ...r,
});
const bounds = (
  min: number,
  max: number,
  scaleUp?: Partial<ScalingRules>,
  scaleDown?: Partial<ScalingRules>,
): ReplicaBounds => ({
  minReplicas: min,
  maxReplicas: max,
  behavior: {
    scaleUp: scaleUp === undefined ? DEFAULT_SCALE_UP : rules(scaleUp),
    scaleDown: scaleDown === undefined ? DEFAULT_SCALE_DOWN : rules(scaleDown),
  },
});
const history = (recs: [number, number][], events: [number, number][] = []): AutoscaleHistory => ({
  recommendations: recs.map(([at, replicas]) => ({ at, replicas })),
  scaleEvents: events.map(([at, change]) => ({ at, change })),
});

/**
 * Drives normalizeWithBehavior the way the controller does: one proposal per tick on a FakeClock,
 * a scale event recorded whenever the count changed.
 */
class Loop {
  readonly clock = new FakeClock(1_000_000);
  history = emptyAutoscaleHistory();
  current: number;
  readonly b: ReplicaBounds;
  constructor(current: number, b: ReplicaBounds) {
    this.current = current;
    this.b = b;
  }
  step(desired: number) {
    const n = normalizeWithBehavior(
      this.history,
      { currentReplicas: this.current, desiredReplicas: desired },
      this.b,
      this.clock.now(),
    );
    this.history = recordScaleEvent(n.history, this.current, n.replicas, this.clock.now());
    this.current = n.replicas;
    return n;
  }
}

describe('normalizeWithBehavior: stabilization windows', () => {
  it('caps a scale-up at the lowest recommendation of the scale-up window', () => {
    const now = 10_000 * S;
    const n = normalizeWithBehavior(
      history([
        [now - 120 * S, 8],
        [now - 240 * S, 7],
      ]),
      { currentReplicas: 5, desiredReplicas: 10 },
      bounds(1, 20, { stabilizationWindowSeconds: 300 }, { stabilizationWindowSeconds: 600 }),
      now,
    );
    expect([n.replicas, n.stabilization, n.limit]).toEqual([7, 'ScaleUpStabilized', 'DesiredWithinRange']);
  });

  it('holds a scale-down at the highest recommendation of the scale-down window', () => {
    const now = 10_000 * S;
    const n = normalizeWithBehavior(
      history([
        [now - 300 * S, 5],
        [now - 480 * S, 4],
      ]),
      { currentReplicas: 8, desiredReplicas: 3 },
      bounds(1, 20, { stabilizationWindowSeconds: 300 }, { stabilizationWindowSeconds: 600 }),
      now,
    );
    expect([n.replicas, n.stabilization]).toEqual([5, 'ScaleDownStabilized']);
  });

  it('keeps scaling down stabilized for the whole window, then allows it', () => {
    const loop = new Loop(10, bounds(1, 10));
    expect(loop.step(10).replicas).toBe(10);
    for (let t = 15; t < 300; t += 15) {
      loop.clock.advance(15 * S);
      const n = loop.step(2);
      expect([n.replicas, n.stabilization]).toEqual([10, 'ScaleDownStabilized']);
    }
    loop.clock.advance(15 * S); // 300 s after the last recommendation of 10
    const n = loop.step(2);
    expect([n.replicas, n.stabilization, n.limit]).toEqual([2, 'ReadyForNewScale', 'DesiredWithinRange']);
  });

  it('scales up at once with the default 0 s scale-up window', () => {
    const loop = new Loop(2, bounds(1, 10));
    loop.step(2);
    loop.clock.advance(15 * S);
    expect(loop.step(4).replicas).toBe(4);
  });

  it('drops recommendations older than both windows from the returned history', () => {
    const now = 10_000 * S;
    const n = normalizeWithBehavior(
      history([
        [now - 700 * S, 9],
        [now - 200 * S, 4],
      ]),
      { currentReplicas: 4, desiredReplicas: 4 },
      bounds(1, 20, { stabilizationWindowSeconds: 300 }, { stabilizationWindowSeconds: 600 }),
      now,
    );
    expect(n.history.recommendations).toEqual([
      { at: now - 200 * S, replicas: 4 },
      { at: now, replicas: 4 },
    ]);
  });
});

describe('normalizeWithBehavior: policies', () => {
  it('limits a scale-up by a Percent policy and reports TooManyReplicas when maxReplicas is tighter', () => {
    const n = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 5, desiredReplicas: 15 },
      bounds(1, 10, { policies: [{ type: 'Percent', value: 200, periodSeconds: 60 }] }),
      0,
    );
    expect([n.replicas, n.limit]).toEqual([10, 'TooManyReplicas']);
  });

  it('limits a scale-down by a Percent policy', () => {
    const n = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 8, desiredReplicas: 2 },
      bounds(1, 10, undefined, { policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }),
      0,
    );
    expect([n.replicas, n.limit]).toEqual([4, 'ScaleDownLimit']);
  });

  it('adds at most `value` pods per period with a Pods policy, counting what the period already added', () => {
    const loop = new Loop(2, bounds(1, 50, { policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] }));
    expect([loop.step(20).replicas, loop.step(20).limit]).toEqual([6, 'ScaleUpLimit']);
    loop.clock.advance(30 * S);
    expect(loop.step(20).replicas).toBe(6); // still inside the 60 s period of the +4
    loop.clock.advance(30 * S); // exactly one period later: the +4 no longer counts
    expect(loop.step(20).replicas).toBe(10);
  });

  it('doubles at most once per period with a 100 % policy', () => {
    const loop = new Loop(
      3,
      bounds(1, 100, { policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }),
    );
    const seen = [loop.step(40).replicas];
    for (let i = 0; i < 4; i++) {
      loop.clock.advance(15 * S);
      seen.push(loop.step(40).replicas);
    }
    expect(seen).toEqual([6, 12, 24, 40, 40]);
  });

  it('uses the largest change with selectPolicy Max and the smallest with Min', () => {
    const policies = [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ] as const;
    const up = (selectPolicy: 'Max' | 'Min') =>
      normalizeWithBehavior(
        emptyAutoscaleHistory(),
        { currentReplicas: 10, desiredReplicas: 100 },
        bounds(1, 100, { selectPolicy, policies: [...policies] }),
        0,
      ).replicas;
    const down = (selectPolicy: 'Max' | 'Min') =>
      normalizeWithBehavior(
        emptyAutoscaleHistory(),
        { currentReplicas: 10, desiredReplicas: 1 },
        bounds(1, 100, undefined, {
          selectPolicy,
          policies: [
            { type: 'Percent', value: 50, periodSeconds: 15 },
            { type: 'Pods', value: 2, periodSeconds: 15 },
          ],
        }),
        0,
      ).replicas;
    expect([up('Max'), up('Min'), down('Max'), down('Min')]).toEqual([20, 14, 5, 8]);
  });

  it('never scales up with selectPolicy Disabled, but still scales down', () => {
    const b = bounds(1, 10, { selectPolicy: 'Disabled' });
    const up = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 3, desiredReplicas: 9 },
      b,
      0,
    );
    expect([up.replicas, up.limit]).toEqual([3, 'ScaleUpLimit']);
    const down = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 3, desiredReplicas: 1 },
      b,
      0,
    );
    expect(down.replicas).toBe(1);
  });

  it('never scales down with selectPolicy Disabled, but still scales up', () => {
    const b = bounds(1, 10, undefined, { selectPolicy: 'Disabled' });
    const down = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 6, desiredReplicas: 1 },
      b,
      0,
    );
    expect([down.replicas, down.limit]).toEqual([6, 'ScaleDownLimit']);
    expect(
      normalizeWithBehavior(emptyAutoscaleHistory(), { currentReplicas: 6, desiredReplicas: 8 }, b, 0)
        .replicas,
    ).toBe(8);
  });

  it('reports TooFewReplicas when minReplicas is tighter than the scale-down policy', () => {
    const n = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 4, desiredReplicas: 1 },
      bounds(3, 10, undefined, {}),
      0,
    );
    expect([n.replicas, n.limit]).toEqual([3, 'TooFewReplicas']);
  });

  it('counts replicas removed in the period when limiting a scale-up (period start = current − added + removed)', () => {
    const now = 100 * S;
    const events = [
      { at: now - 10 * S, change: -4 },
      { at: now - 5 * S, change: 2 },
    ];
    const r = rules({ policies: [{ type: 'Pods', value: 3, periodSeconds: 15 }] });
    expect(replicasChangedInPeriod(events, 'down', 15, now)).toBe(4);
    expect(scaleUpLimit(6, events, r, now)).toBe(6 - 2 + 4 + 3);
    expect(
      scaleDownLimit(6, events, rules({ policies: [{ type: 'Pods', value: 3, periodSeconds: 15 }] }), now),
    ).toBe(6 - 2 + 4 - 3);
  });

  it('rounds Percent scale-up limits up exactly (10 × 110 % is 11)', () => {
    expect(
      scaleUpLimit(10, [], rules({ policies: [{ type: 'Percent', value: 10, periodSeconds: 15 }] }), 0),
    ).toBe(11);
    expect(
      scaleUpLimit(1, [], rules({ policies: [{ type: 'Percent', value: 10, periodSeconds: 15 }] }), 0),
    ).toBe(2);
  });
});

describe('normalizeWithBehavior without behavior (pre-v2 rules)', () => {
  const legacy = (min: number, max: number): ReplicaBounds => ({ minReplicas: min, maxReplicas: max });
  const now = 10_000 * S;

  it('scales up within limits', () => {
    const n = normalizeWithBehavior(
      history([[now, 4]]),
      { currentReplicas: 2, desiredReplicas: 4 },
      legacy(1, 10),
      now,
    );
    expect([n.replicas, n.stabilization, n.limit]).toEqual([4, 'ReadyForNewScale', 'DesiredWithinRange']);
  });

  it('stabilizes a scale-down over the 5 min window', () => {
    const n = normalizeWithBehavior(
      history([
        [now - 60 * S, 4],
        [now, 3],
      ]),
      { currentReplicas: 5, desiredReplicas: 3 },
      legacy(1, 10),
      now,
    );
    expect([n.replicas, n.stabilization]).toEqual([4, 'ScaleDownStabilized']);
  });

  it('keeps minReplicas (TooFewReplicas) and maxReplicas (TooManyReplicas)', () => {
    const low = normalizeWithBehavior(
      history([[now, 1]]),
      { currentReplicas: 2, desiredReplicas: 1 },
      legacy(2, 10),
      now,
    );
    const high = normalizeWithBehavior(
      history([[now, 12]]),
      { currentReplicas: 10, desiredReplicas: 12 },
      legacy(1, 10),
      now,
    );
    expect([low.replicas, low.limit, high.replicas, high.limit]).toEqual([
      2,
      'TooFewReplicas',
      10,
      'TooManyReplicas',
    ]);
  });

  it('scales up at most to max(2 × current, 4) (ScaleUpLimit)', () => {
    const n = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 3, desiredReplicas: 20 },
      legacy(1, 30),
      now,
    );
    const one = normalizeWithBehavior(
      emptyAutoscaleHistory(),
      { currentReplicas: 1, desiredReplicas: 20 },
      legacy(1, 30),
      now,
    );
    expect([n.replicas, n.limit, one.replicas]).toEqual([6, 'ScaleUpLimit', 4]);
  });
});

describe('normalizeWithBehavior input checks', () => {
  const fails = (f: () => unknown): string => {
    try {
      f();
      return 'no error';
    } catch (err) {
      return isBerthError(err) ? `${err.code} ${err.issues[0]?.path}` : String(err);
    }
  };

  it('rejects bounds and policies that make no sense, naming the field', () => {
    const p = { currentReplicas: 1, desiredReplicas: 2 };
    expect(
      fails(() => normalizeWithBehavior(emptyAutoscaleHistory(), p, { minReplicas: 5, maxReplicas: 2 }, 0)),
    ).toBe('SPEC_INVALID maxReplicas');
    expect(
      fails(() =>
        normalizeWithBehavior(
          emptyAutoscaleHistory(),
          p,
          bounds(1, 5, { policies: [{ type: 'Pods', value: 0, periodSeconds: 15 }] }),
          0,
        ),
      ),
    ).toBe('SPEC_INVALID behavior.scaleUp.policies[0].value');
    expect(
      fails(() =>
        normalizeWithBehavior(emptyAutoscaleHistory(), { ...p, desiredReplicas: 1.5 }, bounds(1, 5), 0),
      ),
    ).toBe('SPEC_INVALID desiredReplicas');
  });
});
