/**
 * One autoscaling decision, as a pure function of (history, metrics, policy, now): what the HPA
 * controller's reconcile does between reading the scale and writing it. The result records every
 * input next to every output, so it can be emitted as an event and replayed.
 */
import { BerthError } from '../cluster/errors.ts';
import { SPEC_DEFAULTS } from '../spec/defaults.ts';
import type { AutoscalingMetric } from '../spec/types.ts';
import {
  type AutoscaleBehavior,
  type AutoscaleHistory,
  emptyAutoscaleHistory,
  type NormalizeOptions,
  normalizeWithBehavior,
  resolveBounds,
  type ScaleLimitReason,
  type StabilizationReason,
} from './behavior.ts';
import {
  checkOptions,
  checkTarget,
  type MetricRecommendation,
  type PodMetricSample,
  type ReplicaCalculatorOptions,
  recommendValidated,
  validateSamples,
} from './replica-calculator.ts';

/** The autoscaling policy of a Service: `ServiceSpec.autoscaling` (HPA v2 field names). */
export interface AutoscalePolicy {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** One utilization target per resource; empty means cpu at 80 % (the Kubernetes default). */
  readonly metrics: readonly AutoscalingMetric[];
  readonly behavior?: AutoscaleBehavior;
}

export interface DecideOptions extends ReplicaCalculatorOptions, NormalizeOptions {}

export interface ScaleDecisionInput {
  /** For the record; the decision itself does not depend on it. */
  readonly service?: string;
  readonly currentReplicas: number;
  readonly policy: AutoscalePolicy;
  readonly samples: readonly PodMetricSample[];
  readonly history: AutoscaleHistory;
  /** Epoch ms. */
  readonly now: number;
  readonly options?: DecideOptions;
}

/**
 * The headline of a decision:
 * - `ScalingDisabled`: the service is at 0 replicas with minReplicas > 0 (scaled to zero by hand);
 * - `BelowMinReplicas` / `AboveMaxReplicas`: the current count is outside the policy's bounds and is
 *   moved to the nearest bound without looking at metrics;
 * - `MetricsUnavailable`: no metric gave a recommendation (or only some did, and they ask for fewer
 *   replicas): nothing changes;
 * - otherwise the limit or stabilization that shaped the result, or `DesiredWithinRange`.
 */
export type ScaleDecisionReason =
  | 'ScalingDisabled'
  | 'BelowMinReplicas'
  | 'AboveMaxReplicas'
  | 'MetricsUnavailable'
  | ScaleLimitReason
  | Exclude<StabilizationReason, 'ReadyForNewScale'>;

export interface ScaleDecision {
  readonly service?: string;
  /** Epoch ms the decision was made at. */
  readonly at: number;
  readonly currentReplicas: number;
  /** The replica count to set. */
  readonly desiredReplicas: number;
  /** True when `desiredReplicas` differs from `currentReplicas`: the controller should scale. */
  readonly rescale: boolean;
  readonly reason: ScaleDecisionReason;
  readonly message: string;
  /** The highest metric recommendation, before stabilization and limits (absent when not computed). */
  readonly recommendedReplicas?: number;
  /** Which metric asked for `recommendedReplicas`. */
  readonly recommendedBy?: AutoscalingMetric['resource'];
  /** After the stabilization windows. */
  readonly stabilizedReplicas?: number;
  readonly stabilization?: StabilizationReason;
  readonly limit?: ScaleLimitReason;
  /** One entry per metric, with its utilization and how it got there. */
  readonly metrics: readonly MetricRecommendation[];
  /** Everything the decision read, as given. */
  readonly inputs: {
    readonly policy: AutoscalePolicy;
    readonly samples: readonly PodMetricSample[];
    readonly history: AutoscaleHistory;
    readonly options: DecideOptions;
  };
  /** The history to pass to the next decision (a scale event is added by the caller once scaled). */
  readonly history: AutoscaleHistory;
}

const DEFAULT_METRICS: readonly AutoscalingMetric[] = [
  { resource: 'cpu', targetAverageUtilization: SPEC_DEFAULTS.targetCpuUtilization },
];

/**
 * Decide the replica count for one service now. The steps are the HPA controller's:
 *
 * 1. A service at 0 replicas with minReplicas > 0 is left alone (`ScalingDisabled`); one outside
 *    [min, max] is moved to the nearest bound.
 * 2. Each metric recommends a count (`computeReplicaRecommendation`); the highest wins. If
 *    every metric is unavailable, or some are and the rest ask for a scale-down, nothing changes.
 * 3. The first decision for a service records the current count as a recommendation, so a fresh
 *    autoscaler does not scale down before the scale-down window has passed.
 * 4. {@link normalizeWithBehavior} applies the stabilization windows, the policies and the bounds.
 *
 * Throws `SPEC_INVALID` for malformed input, before computing anything.
 */
export function decideScale(input: ScaleDecisionInput): ScaleDecision {
  const options = input.options ?? {};
  const policy = input.policy;
  if (policy === undefined || typeof policy !== 'object') {
    throw new BerthError('SPEC_INVALID', 'policy: is required (the Service’s autoscaling block)', {
      component: 'core/autoscale',
      issues: [{ path: 'policy', message: 'is required' }],
    });
  }
  const bounds = resolveBounds(policy);
  const current = input.currentReplicas;
  if (!Number.isSafeInteger(current) || current < 0) {
    throw new BerthError('SPEC_INVALID', `currentReplicas: must be an integer >= 0, got ${String(current)}`, {
      component: 'core/autoscale',
      issues: [{ path: 'currentReplicas', message: 'must be an integer >= 0' }],
    });
  }
  validateSamples(input.samples);
  if (!Number.isFinite(input.now)) {
    throw new BerthError('SPEC_INVALID', `now: must be a finite epoch-ms number, got ${String(input.now)}`, {
      component: 'core/autoscale',
      issues: [{ path: 'now', message: 'must be a finite epoch-ms number' }],
    });
  }
  const calculator = checkOptions(options);
  const history = input.history ?? emptyAutoscaleHistory();
  const metricsSpec = policy.metrics.length === 0 ? DEFAULT_METRICS : policy.metrics;
  const targets = metricsSpec.map((m, i) => checkTarget(m, `policy.metrics[${i}]`));
  const base = {
    ...(input.service === undefined ? {} : { service: input.service }),
    at: input.now,
    currentReplicas: current,
    inputs: { policy, samples: input.samples, history, options },
  };
  const fixed = (
    desired: number,
    reason: ScaleDecisionReason,
    message: string,
    metrics: readonly MetricRecommendation[],
  ) => ({
    ...base,
    desiredReplicas: desired,
    rescale: desired !== current,
    reason,
    message,
    metrics,
    history,
  });

  if (current === 0 && bounds.minReplicas !== 0) {
    return fixed(
      0,
      'ScalingDisabled',
      'scaling is disabled since the replica count of the service is zero',
      [],
    );
  }
  if (current > bounds.maxReplicas) {
    return fixed(
      bounds.maxReplicas,
      'AboveMaxReplicas',
      `current replicas ${current} above maxReplicas ${bounds.maxReplicas}`,
      [],
    );
  }
  if (current < bounds.minReplicas) {
    return fixed(
      bounds.minReplicas,
      'BelowMinReplicas',
      `current replicas ${current} below minReplicas ${bounds.minReplicas}`,
      [],
    );
  }

  const metrics = targets.map(({ resource, target }, i) =>
    recommendValidated(
      {
        currentReplicas: current,
        target: metricsSpec[i] as AutoscalingMetric,
        samples: input.samples,
        now: input.now,
      },
      resource,
      target,
      calculator,
    ),
  );
  let recommended: { replicas: number; resource: AutoscalingMetric['resource'] } | undefined;
  const failed: string[] = [];
  for (const m of metrics) {
    if (m.status === 'unavailable') failed.push(`${m.resource}: ${m.message}`);
    else if (recommended === undefined || m.replicas > recommended.replicas) {
      recommended = { replicas: m.replicas, resource: m.resource };
    }
  }
  if (recommended === undefined || (failed.length > 0 && recommended.replicas < current)) {
    const why = failed.join('; ');
    if (recommended === undefined) {
      return fixed(current, 'MetricsUnavailable', `unable to compute the replica count: ${why}`, metrics);
    }
    return {
      ...fixed(
        current,
        'MetricsUnavailable',
        `not scaling down while some metrics are unavailable: ${why}`,
        metrics,
      ),
      recommendedReplicas: recommended.replicas,
      recommendedBy: recommended.resource,
    };
  }

  const seeded: AutoscaleHistory =
    history.recommendations.length === 0
      ? { recommendations: [{ at: input.now, replicas: current }], scaleEvents: history.scaleEvents }
      : history;
  const n = normalizeWithBehavior(
    seeded,
    { currentReplicas: current, desiredReplicas: recommended.replicas },
    policy,
    input.now,
    options,
  );
  const reason: ScaleDecisionReason =
    n.limit !== 'DesiredWithinRange'
      ? n.limit
      : n.stabilization !== 'ReadyForNewScale'
        ? n.stabilization
        : 'DesiredWithinRange';
  return {
    ...base,
    desiredReplicas: n.replicas,
    rescale: n.replicas !== current,
    reason,
    message: n.message,
    recommendedReplicas: recommended.replicas,
    recommendedBy: recommended.resource,
    stabilizedReplicas: n.stabilizedReplicas,
    stabilization: n.stabilization,
    limit: n.limit,
    metrics,
    history: n.history,
  };
}
