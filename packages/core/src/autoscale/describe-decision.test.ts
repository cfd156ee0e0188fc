import { describe, expect, it } from 'vitest';
import { emptyAutoscaleHistory } from './behavior.ts';
import { type AutoscalePolicy, decideScale } from './decide.ts';
import { describeScaleDecision, scaleDecisionDetails } from './describe-decision.ts';

const NOW = 1_700_000_000_000;
const policy: AutoscalePolicy = {
  minReplicas: 1,
  maxReplicas: 3,
  metrics: [
    { resource: 'cpu', targetAverageUtilization: 50 },
    { resource: 'memory', targetAverageUtilization: 80 },
  ],
};

const decide = (cpu: number) =>
  decideScale({
    service: 'web',
    currentReplicas: 1,
    policy,
    samples: [
      {
        taskId: 'web-0',
        state: 'RUNNING',
        ready: true,
        startedAt: NOW - 3_600_000,
        requests: { cpu: 100 },
        usage: { cpu },
      },
    ],
    history: emptyAutoscaleHistory(),
    now: NOW,
  });

describe('scaleDecisionDetails / describeScaleDecision', () => {
  it('records the replica counts, the bounds and each metric against its target as plain JSON', () => {
    const d = decide(200);
    const details = scaleDecisionDetails(d, true);
    expect(details).toMatchObject({
      currentReplicas: 1,
      desiredReplicas: 3,
      scaled: true,
      reason: 'TooManyReplicas',
      minReplicas: 1,
      maxReplicas: 3,
      recommendedReplicas: 4,
      recommendedBy: 'cpu',
      samples: 1,
    });
    expect(details.metrics).toEqual([
      expect.objectContaining({
        resource: 'cpu',
        status: 'ok',
        utilization: 200,
        targetAverageUtilization: 50,
        averageUsage: 200,
        replicas: 4,
        ready: 1,
        missing: 0,
      }),
      expect.objectContaining({
        resource: 'memory',
        status: 'unavailable',
        unavailableReason: 'MissingRequest',
        targetAverageUtilization: 80,
      }),
    ]);
    expect(JSON.parse(JSON.stringify(details))).toEqual(details);
  });

  it('says what changed and why in one line, and marks a change that was not written', () => {
    expect(describeScaleDecision('web', decide(200), true)).toMatch(
      /^autoscale web: 1 → 3 replicas \(reason TooManyReplicas, recommended 4, .*cpu 200% of request \(target 50%\) → 4 \[ready 1, unready 0, missing 0\]; memory unavailable: MissingRequest/,
    );
    expect(describeScaleDecision('web', decide(200), false)).toContain('1 → 3 replicas (not applied)');
    expect(describeScaleDecision('web', decide(50), false)).toContain('stays at 1 replicas');
  });
});
