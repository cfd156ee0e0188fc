// Public surface of core/autoscale; re-exported from the package root.
export {
  type AutoscaleFailureStage,
  Autoscaler,
  type AutoscalerEvent,
  type AutoscalerOptions,
  type MetricsSource,
  type Scaler,
} from './autoscaler.ts';
export {
  type AutoscaleBehavior,
  type AutoscaleHistory,
  emptyAutoscaleHistory,
  legacyScaleUpLimit,
  type NormalizedReplicas,
  type NormalizeOptions,
  normalizeWithBehavior,
  type ReplicaBounds,
  type ReplicaProposal,
  recordScaleEvent,
  replicasChangedInPeriod,
  type ScaleEventRecord,
  type ScaleLimitReason,
  type StabilizationReason,
  scaleDownLimit,
  scaleUpLimit,
  type TimestampedRecommendation,
} from './behavior.ts';
export {
  type AutoscalePolicy,
  type DecideOptions,
  decideScale,
  type ScaleDecision,
  type ScaleDecisionInput,
  type ScaleDecisionReason,
} from './decide.ts';
export {
  autoscalerClusterEvent,
  describeScaleDecision,
  type ScaleDecisionDetails,
  type ScaleDecisionMetricDetails,
  scaleDecisionDetails,
} from './describe-decision.ts';
export {
  type AutoscaleResource,
  computeReplicaRecommendation,
  DEFAULT_REPLICA_CALCULATOR_OPTIONS,
  groupReplicas,
  type MetricRecommendation,
  type MetricUnavailableReason,
  type PodMetricSample,
  type RecommendationBasis,
  type ReplicaCalculationInput,
  type ReplicaCalculatorOptions,
  type ReplicaGroups,
  type ResourceAmounts,
  type UtilizationTarget,
  validateSamples,
} from './replica-calculator.ts';
