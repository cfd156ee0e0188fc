import { describe, expect, it } from 'vitest';
import { BerthError } from '../cluster/errors.ts';
import { emptyAutoscaleHistory } from './behavior.ts';
import { type AutoscalePolicy, decideScale } from './decide.ts';
import { autoscalerClusterEvent, describeScaleDecision, scaleDecisionDetails } from './describe-decision.ts';

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

describe('autoscalerClusterEvent', () => {
  it('records a written decision as SuccessfulRescale and a kept one as AutoscaleDecision, with details', () => {
    const d = decide(200);
    const written = autoscalerClusterEvent({
      type: 'decision',
      seq: 1,
      at: NOW,
      service: 'web',
      decision: d,
      scaled: true,
    });
    expect(written).toMatchObject({ level: 'info', kind: 'SuccessfulRescale', service: 'web' });
    expect(written.message).toBe(describeScaleDecision('web', d, true));
    expect(written.details).toEqual(scaleDecisionDetails(d, true));
    const kept = autoscalerClusterEvent({
      type: 'decision',
      seq: 2,
      at: NOW,
      service: 'web',
      decision: d,
      scaled: false,
    });
    expect(kept.kind).toBe('AutoscaleDecision');
    expect(kept.details).toMatchObject({ scaled: false });
  });

  it('names a failed sync after its stage, as the HPA does, with the error code', () => {
    const error = new BerthError('BACKEND_UNAVAILABLE', 'metrics.k8s.io answered 503');
    const kinds = (['metrics', 'scale', 'currentReplicas'] as const).map((stage) => {
      const e = autoscalerClusterEvent({ type: 'failure', seq: 1, at: NOW, service: 'web', stage, error });
      expect(e.level).toBe('warning');
      expect(e.details).toMatchObject({ stage, code: 'BACKEND_UNAVAILABLE' });
      return e.kind;
    });
    expect(kinds).toEqual(['FailedGetResourceMetric', 'FailedRescale', 'FailedGetScale']);
    const d = decide(200);
    const failedWrite = autoscalerClusterEvent({
      type: 'failure',
      seq: 2,
      at: NOW,
      service: 'web',
      stage: 'scale',
      error,
      decision: d,
    });
    expect(failedWrite.message).toBe(
      `autoscale web: ${error.message} (${describeScaleDecision('web', d, false)})`,
    );
    expect(failedWrite.details).toMatchObject({ stage: 'scale', desiredReplicas: 3, scaled: false });
  });
});
