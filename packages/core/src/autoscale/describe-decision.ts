/**
 * How an adapter records one autoscaling decision on its event stream: a one-line message (the
 * outcome, what shaped it, every metric's utilization against its target) and the same facts as
 * JSON-serialisable `details` for `ClusterEvent.details`, so the CLI, the dashboard and tests read
 * the inputs without parsing the message.
 */
import type { ClusterEvent } from '../cluster/adapter.ts';
import type { AutoscaleFailureStage, AutoscalerEvent } from './autoscaler.ts';
import type { ScaleDecision } from './decide.ts';

/** One metric's inputs and result, as recorded in an event. */
export interface ScaleDecisionMetricDetails {
  readonly resource: string;
  readonly status: 'ok' | 'unavailable';
  /** Percent of the request. */
  readonly targetAverageUtilization: number;
  /** Current utilization in percent of the request (absent when unavailable). */
  readonly utilization?: number;
  /** Average usage per sampled replica in base units (millicpu, bytes). */
  readonly averageUsage?: number;
  readonly usageRatio?: number;
  readonly adjustedUsageRatio?: number;
  /** This metric's replica recommendation. */
  readonly replicas?: number;
  readonly basis?: string;
  /** Why it gave no recommendation (`NoMetrics`, `MissingRequest`, `NoReplicas`). */
  readonly unavailableReason?: string;
  readonly ready: number;
  readonly unready: number;
  readonly missing: number;
  readonly ignored: number;
}

/** `ClusterEvent.details` of an autoscaling decision. */
export interface ScaleDecisionDetails {
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  /** Whether the new count was written (false for "stays" and for a write that failed). */
  readonly scaled: boolean;
  readonly reason: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly recommendedReplicas?: number;
  readonly recommendedBy?: string;
  readonly stabilizedReplicas?: number;
  readonly stabilization?: string;
  readonly limit?: string;
  readonly metrics: readonly ScaleDecisionMetricDetails[];
  /** Replicas sampled. */
  readonly samples: number;
}

/** The decision's inputs and outputs as plain JSON, for `ClusterEvent.details`. */
export function scaleDecisionDetails(d: ScaleDecision, scaled: boolean): ScaleDecisionDetails {
  return {
    currentReplicas: d.currentReplicas,
    desiredReplicas: d.desiredReplicas,
    scaled,
    reason: d.reason,
    minReplicas: d.inputs.policy.minReplicas,
    maxReplicas: d.inputs.policy.maxReplicas,
    ...(d.recommendedReplicas === undefined ? {} : { recommendedReplicas: d.recommendedReplicas }),
    ...(d.recommendedBy === undefined ? {} : { recommendedBy: d.recommendedBy }),
    ...(d.stabilizedReplicas === undefined ? {} : { stabilizedReplicas: d.stabilizedReplicas }),
    ...(d.stabilization === undefined ? {} : { stabilization: d.stabilization }),
    ...(d.limit === undefined ? {} : { limit: d.limit }),
    metrics: d.metrics.map((m) => {
      const counts = {
        ready: m.groups.ready.length,
        unready: m.groups.unready.length,
        missing: m.groups.missing.length,
        ignored: m.groups.ignored.length,
      };
      return m.status === 'ok'
        ? {
            resource: m.resource,
            status: m.status,
            targetAverageUtilization: m.targetAverageUtilization,
            utilization: m.utilization,
            averageUsage: m.averageUsage,
            usageRatio: m.usageRatio,
            ...(m.adjustedUsageRatio === undefined ? {} : { adjustedUsageRatio: m.adjustedUsageRatio }),
            replicas: m.replicas,
            basis: m.basis,
            ...counts,
          }
        : {
            resource: m.resource,
            status: m.status,
            targetAverageUtilization: m.targetAverageUtilization,
            unavailableReason: m.reason,
            ...counts,
          };
    }),
    samples: d.inputs.samples.length,
  };
}

/**
 * `autoscale web: 1 → 3 replicas (reason ScaleUpLimit, recommended 4, stabilized 4); cpu 180% of
 * request (target 50%) → 4 [ready 1, unready 0, missing 0]`.
 */
export function describeScaleDecision(service: string, d: ScaleDecision, scaled: boolean): string {
  const change = d.rescale
    ? `${d.currentReplicas} → ${d.desiredReplicas} replicas${scaled ? '' : ' (not applied)'}`
    : `stays at ${d.currentReplicas} replicas`;
  const shaped = [
    `reason ${d.reason}`,
    ...(d.recommendedReplicas === undefined ? [] : [`recommended ${d.recommendedReplicas}`]),
    ...(d.stabilizedReplicas === undefined ? [] : [`stabilized ${d.stabilizedReplicas}`]),
  ].join(', ');
  const metrics = d.metrics
    .map((m) => {
      const g = m.groups;
      const counts = `ready ${g.ready.length}, unready ${g.unready.length}, missing ${g.missing.length}`;
      return m.status === 'ok'
        ? `${m.resource} ${m.utilization}% of request (target ${m.targetAverageUtilization}%) → ${m.replicas} [${counts}]`
        : `${m.resource} unavailable: ${m.reason} [${counts}]`;
    })
    .join('; ');
  return `autoscale ${service}: ${change} (${shaped}); ${metrics === '' ? 'no metric read' : metrics}`;
}

/** The kind of a failed sync by the stage that failed, as the HPA names its events. */
const FAILURE_KINDS = {
  metrics: 'FailedGetResourceMetric',
  scale: 'FailedRescale',
  currentReplicas: 'FailedGetScale',
} as const satisfies Record<AutoscaleFailureStage, string>;

/**
 * One {@link AutoscalerEvent} as the `ClusterEvent` an adapter emits (without `seq`/`at`): a
 * decision is `SuccessfulRescale` (written) or `AutoscaleDecision` (info); a failed sync is
 * `FailedGetResourceMetric`, `FailedRescale` or `FailedGetScale` (warning) with the error's code
 * and, when the decision was made, its details.
 */
export function autoscalerClusterEvent(e: AutoscalerEvent): Omit<ClusterEvent, 'seq' | 'at'> {
  if (e.type === 'decision') {
    return {
      level: 'info',
      kind: e.scaled ? 'SuccessfulRescale' : 'AutoscaleDecision',
      message: describeScaleDecision(e.service, e.decision, e.scaled),
      service: e.service,
      details: { ...scaleDecisionDetails(e.decision, e.scaled) },
    };
  }
  const decided = e.decision === undefined ? '' : ` (${describeScaleDecision(e.service, e.decision, false)})`;
  return {
    level: 'warning',
    kind: FAILURE_KINDS[e.stage],
    message: `autoscale ${e.service}: ${e.error.message}${decided}`,
    service: e.service,
    details: {
      stage: e.stage,
      code: e.error.code,
      ...(e.decision === undefined ? {} : scaleDecisionDetails(e.decision, false)),
    },
  };
}
