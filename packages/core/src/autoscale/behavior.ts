/**
 * From a metric recommendation to the replica count to set: Kubernetes HPA v2 `behavior`
 * (stabilization windows over recorded recommendations, Pods/Percent policies per period over the
 * recorded scale events, selectPolicy Max/Min/Disabled) and min/max replicas. Pure: the history
 * goes in and the next history comes out.
 */
import { BerthError } from '../cluster/errors.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from '../spec/defaults.ts';
import type { ScalingPolicy, ScalingRules } from '../spec/types.ts';

const COMPONENT = 'core/autoscale';

/** One recommendation the autoscaler computed, kept for the stabilization windows. */
export interface TimestampedRecommendation {
  /** Epoch ms. */
  readonly at: number;
  readonly replicas: number;
}

/** One change the autoscaler made: `change` > 0 added replicas, < 0 removed them. */
export interface ScaleEventRecord {
  /** Epoch ms. */
  readonly at: number;
  readonly change: number;
}

/**
 * What the autoscaler remembers between decisions for one service. Start with
 * {@link emptyAutoscaleHistory}; keep the `history` every decision returns; add a scale event with
 * {@link recordScaleEvent} once a scale really happened.
 */
export interface AutoscaleHistory {
  readonly recommendations: readonly TimestampedRecommendation[];
  readonly scaleEvents: readonly ScaleEventRecord[];
}

export function emptyAutoscaleHistory(): AutoscaleHistory {
  return { recommendations: [], scaleEvents: [] };
}

export interface AutoscaleBehavior {
  readonly scaleUp?: ScalingRules;
  readonly scaleDown?: ScalingRules;
}

/** The part of `ServiceSpec.autoscaling` normalization reads. */
export interface ReplicaBounds {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /**
   * HPA v2 behaviour; a missing side gets the Kubernetes default. Without any `behavior` the
   * pre-behaviour HPA rules apply: a scale-down window of `legacyDownscaleWindowSeconds` and at most
   * max(2 × current, 4) replicas after a scale-up. (Berth's spec validation always fills it.)
   */
  readonly behavior?: AutoscaleBehavior;
}

export interface NormalizeOptions {
  /** `--horizontal-pod-autoscaler-downscale-stabilization` for autoscalers without `behavior` (300 s). */
  readonly legacyDownscaleWindowSeconds?: number;
}

/** Why the final count differs from the stabilized recommendation, or `DesiredWithinRange`. */
export type ScaleLimitReason =
  | 'DesiredWithinRange'
  | 'ScaleUpLimit'
  | 'ScaleDownLimit'
  | 'TooManyReplicas'
  | 'TooFewReplicas';

/** Whether a stabilization window held the recommendation back (`AbleToScale` in the HPA). */
export type StabilizationReason = 'ReadyForNewScale' | 'ScaleUpStabilized' | 'ScaleDownStabilized';

export interface ReplicaProposal {
  readonly currentReplicas: number;
  /** The metric recommendation (highest over the metrics) before stabilization and limits. */
  readonly desiredReplicas: number;
}

export interface NormalizedReplicas {
  /** The replica count to set. */
  readonly replicas: number;
  /** The recommendation after the stabilization windows. */
  readonly stabilizedReplicas: number;
  readonly stabilization: StabilizationReason;
  readonly limit: ScaleLimitReason;
  /** The bounds the limit step applied: [lowest, highest] replicas allowed now. */
  readonly allowed: { readonly min: number; readonly max: number };
  readonly message: string;
  /** The history with this recommendation recorded and expired entries dropped. */
  readonly history: AutoscaleHistory;
}

const MESSAGES = {
  ReadyForNewScale: 'recommended size matches current size',
  ScaleUpStabilized:
    'recent recommendations were lower than current one, applying the lowest recent recommendation',
  ScaleDownStabilized:
    'recent recommendations were higher than current one, applying the highest recent recommendation',
  DesiredWithinRange: 'the desired count is within the acceptable range',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
} as const satisfies Record<StabilizationReason | ScaleLimitReason, string>;

/** Kubernetes' fixed scale-up cap for autoscalers without `behavior`: max(2 × current, 4). */
export function legacyScaleUpLimit(currentReplicas: number): number {
  return Math.max(2 * currentReplicas, 4);
}

function invalid(path: string, message: string, hint?: string): BerthError {
  return new BerthError('SPEC_INVALID', `${path}: ${message}`, {
    component: COMPONENT,
    issues: [{ path, message }],
    ...(hint === undefined ? {} : { hint }),
  });
}

function int(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(path, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function checkRules(rules: ScalingRules, path: string): ScalingRules {
  int(rules.stabilizationWindowSeconds, `${path}.stabilizationWindowSeconds`, 0);
  if (rules.selectPolicy !== 'Max' && rules.selectPolicy !== 'Min' && rules.selectPolicy !== 'Disabled') {
    throw invalid(
      `${path}.selectPolicy`,
      `must be Max, Min or Disabled, got ${JSON.stringify(rules.selectPolicy)}`,
    );
  }
  if (!Array.isArray(rules.policies) || (rules.policies.length === 0 && rules.selectPolicy !== 'Disabled')) {
    throw invalid(
      `${path}.policies`,
      'needs at least one policy',
      'Add e.g. { type: Percent, value: 100, periodSeconds: 15 }.',
    );
  }
  rules.policies.forEach((p: ScalingPolicy, i) => {
    if (p.type !== 'Pods' && p.type !== 'Percent') {
      throw invalid(`${path}.policies[${i}].type`, `must be Pods or Percent, got ${JSON.stringify(p.type)}`);
    }
    int(p.value, `${path}.policies[${i}].value`, 1);
    int(p.periodSeconds, `${path}.policies[${i}].periodSeconds`, 1);
  });
  return rules;
}

/** Check bounds and behaviour once; returns them with both behaviour sides filled (or none). */
export function resolveBounds(bounds: ReplicaBounds): {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly behavior?: { readonly scaleUp: ScalingRules; readonly scaleDown: ScalingRules };
} {
  const minReplicas = int(bounds.minReplicas, 'minReplicas', 0);
  const maxReplicas = int(bounds.maxReplicas, 'maxReplicas', 1);
  if (maxReplicas < minReplicas) {
    throw invalid('maxReplicas', `(${maxReplicas}) must be at least minReplicas (${minReplicas})`);
  }
  if (bounds.behavior === undefined) return { minReplicas, maxReplicas };
  return {
    minReplicas,
    maxReplicas,
    behavior: {
      scaleUp: checkRules(bounds.behavior.scaleUp ?? DEFAULT_SCALE_UP, 'behavior.scaleUp'),
      scaleDown: checkRules(bounds.behavior.scaleDown ?? DEFAULT_SCALE_DOWN, 'behavior.scaleDown'),
    },
  };
}

/** Replicas added (`direction` up) or removed (down) by scale events strictly after `now - periodSeconds`. */
export function replicasChangedInPeriod(
  events: readonly ScaleEventRecord[],
  direction: 'up' | 'down',
  periodSeconds: number,
  now: number,
): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) {
    if (e.at <= cutoff) continue;
    if (direction === 'up' && e.change > 0) sum += e.change;
    else if (direction === 'down' && e.change < 0) sum -= e.change;
  }
  return sum;
}

/**
 * The highest count a scale-up may reach now. Each policy measures from the count at the start of
 * its period (current − added + removed within it): Pods adds `value`, Percent multiplies by
 * (1 + value/100) rounding up; Max takes the largest proposal, Min the smallest, Disabled allows
 * no scale-up. Integer arithmetic, so 10 × 110 % is 11, not 12.
 */
export function scaleUpLimit(
  currentReplicas: number,
  events: readonly ScaleEventRecord[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  let result = rules.selectPolicy === 'Min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const p of rules.policies) {
    const start =
      currentReplicas -
      replicasChangedInPeriod(events, 'up', p.periodSeconds, now) +
      replicasChangedInPeriod(events, 'down', p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil((start * (100 + p.value)) / 100);
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/**
 * The lowest count a scale-down may reach now: Pods removes `value`, Percent keeps
 * (1 − value/100) of the period's starting count, truncated; Max allows the biggest change (the
 * lowest count), Min the smallest; Disabled allows no scale-down.
 */
export function scaleDownLimit(
  currentReplicas: number,
  events: readonly ScaleEventRecord[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  let result = rules.selectPolicy === 'Min' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const p of rules.policies) {
    const start =
      currentReplicas -
      replicasChangedInPeriod(events, 'up', p.periodSeconds, now) +
      replicasChangedInPeriod(events, 'down', p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc((start * (100 - p.value)) / 100);
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

function longestPeriodSeconds(rules: ScalingRules): number {
  return rules.policies.reduce((m, p) => Math.max(m, p.periodSeconds), 0);
}

function prune(
  history: AutoscaleHistory,
  recommendationWindowSeconds: number,
  eventWindowSeconds: number,
  now: number,
  recorded: TimestampedRecommendation,
): AutoscaleHistory {
  const recCutoff = now - recommendationWindowSeconds * 1000;
  const evCutoff = now - eventWindowSeconds * 1000;
  return {
    recommendations: [...history.recommendations.filter((r) => r.at >= recCutoff), recorded],
    scaleEvents: history.scaleEvents.filter((e) => e.at >= evCutoff),
  };
}

function checkHistory(history: AutoscaleHistory): void {
  if (!Array.isArray(history?.recommendations) || !Array.isArray(history.scaleEvents)) {
    throw invalid(
      'history',
      'must have recommendations and scaleEvents arrays',
      'Start from emptyAutoscaleHistory().',
    );
  }
}

/**
 * Turn a recommendation into the count to set, the way the HPA controller does:
 *
 * 1. Stabilize: within the scale-up window take the lowest recommendation (this one included), within
 *    the scale-down window the highest; the current count is moved only as far as both allow.
 * 2. Limit: a scale-up stops at the policy limit ({@link scaleUpLimit}) and at maxReplicas, a
 *    scale-down at the policy limit and at minReplicas; the reason names the tighter bound.
 *
 * The returned `history` has this recommendation recorded and entries older than every window or
 * period dropped. Call with `currentReplicas` already inside [min, max] ({@link decideScale} does).
 */
export function normalizeWithBehavior(
  history: AutoscaleHistory,
  proposal: ReplicaProposal,
  bounds: ReplicaBounds,
  now: number,
  options: NormalizeOptions = {},
): NormalizedReplicas {
  checkHistory(history);
  const current = int(proposal.currentReplicas, 'currentReplicas', 0);
  const desired = int(proposal.desiredReplicas, 'desiredReplicas', 0);
  if (!Number.isFinite(now)) throw invalid('now', `must be a finite epoch-ms number, got ${now}`);
  const b = resolveBounds(bounds);
  const recorded = { at: now, replicas: desired };

  if (b.behavior === undefined) {
    const windowSeconds = int(options.legacyDownscaleWindowSeconds ?? 300, 'legacyDownscaleWindowSeconds', 0);
    const cutoff = now - windowSeconds * 1000;
    let stabilized = desired;
    for (const r of history.recommendations)
      if (r.at > cutoff && r.replicas > stabilized) stabilized = r.replicas;
    const stabilization: StabilizationReason =
      stabilized !== desired ? 'ScaleDownStabilized' : 'ReadyForNewScale';
    const upLimit = legacyScaleUpLimit(current);
    const max = Math.min(b.maxReplicas, upLimit);
    let replicas = stabilized;
    let limit: ScaleLimitReason = 'DesiredWithinRange';
    if (stabilized < b.minReplicas) {
      replicas = b.minReplicas;
      limit = 'TooFewReplicas';
    } else if (stabilized > max) {
      replicas = max;
      limit = b.maxReplicas > upLimit ? 'ScaleUpLimit' : 'TooManyReplicas';
    }
    return {
      replicas,
      stabilizedReplicas: stabilized,
      stabilization,
      limit,
      allowed: { min: b.minReplicas, max },
      message: message(stabilization, limit),
      history: prune(history, windowSeconds, 0, now, recorded),
    };
  }

  const { scaleUp, scaleDown } = b.behavior;
  const upCutoff = now - scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - scaleDown.stabilizationWindowSeconds * 1000;
  let upRecommendation = desired;
  let downRecommendation = desired;
  for (const r of history.recommendations) {
    if (r.at > upCutoff) upRecommendation = Math.min(upRecommendation, r.replicas);
    if (r.at > downCutoff) downRecommendation = Math.max(downRecommendation, r.replicas);
  }
  let stabilized = current;
  if (stabilized < upRecommendation) stabilized = upRecommendation;
  if (stabilized > downRecommendation) stabilized = downRecommendation;
  const stabilization: StabilizationReason =
    stabilized === desired
      ? 'ReadyForNewScale'
      : desired >= current
        ? 'ScaleUpStabilized'
        : 'ScaleDownStabilized';

  let replicas = stabilized;
  let limit: ScaleLimitReason = 'DesiredWithinRange';
  let allowed = { min: b.minReplicas, max: b.maxReplicas };
  if (stabilized > current) {
    const policyLimit = Math.max(scaleUpLimit(current, history.scaleEvents, scaleUp, now), current);
    const max = Math.min(b.maxReplicas, policyLimit);
    allowed = { min: current, max };
    if (stabilized > max) {
      replicas = max;
      limit = b.maxReplicas > policyLimit ? 'ScaleUpLimit' : 'TooManyReplicas';
    }
  } else if (stabilized < current) {
    const policyLimit = Math.min(scaleDownLimit(current, history.scaleEvents, scaleDown, now), current);
    const min = Math.max(b.minReplicas, policyLimit);
    allowed = { min, max: current };
    if (stabilized < min) {
      replicas = min;
      limit = b.minReplicas < policyLimit ? 'ScaleDownLimit' : 'TooFewReplicas';
    }
  }
  const keepRecommendations = Math.max(
    scaleUp.stabilizationWindowSeconds,
    scaleDown.stabilizationWindowSeconds,
  );
  const keepEvents = Math.max(longestPeriodSeconds(scaleUp), longestPeriodSeconds(scaleDown));
  return {
    replicas,
    stabilizedReplicas: stabilized,
    stabilization,
    limit,
    allowed,
    message: message(stabilization, limit),
    history: prune(history, keepRecommendations, keepEvents, now, recorded),
  };
}

function message(stabilization: StabilizationReason, limit: ScaleLimitReason): string {
  if (limit !== 'DesiredWithinRange') {
    return stabilization === 'ReadyForNewScale'
      ? MESSAGES[limit]
      : `${MESSAGES[stabilization]}; ${MESSAGES[limit]}`;
  }
  return MESSAGES[stabilization];
}

/**
 * Record that the service was scaled from `from` to `to` at `at` (call it only when the scale
 * really happened). A no-op when the count did not change.
 */
export function recordScaleEvent(
  history: AutoscaleHistory,
  from: number,
  to: number,
  at: number,
): AutoscaleHistory {
  checkHistory(history);
  int(from, 'from', 0);
  int(to, 'to', 0);
  if (from === to) return history;
  return {
    recommendations: history.recommendations,
    scaleEvents: [...history.scaleEvents, { at, change: to - from }],
  };
}
