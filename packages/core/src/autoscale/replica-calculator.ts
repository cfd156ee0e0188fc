/**
 * The Kubernetes HPA replica calculation for resource-utilization targets, as a pure function.
 *
 * desired = ceil(readyReplicas × utilization / target), where utilization is Σusage / Σrequest over
 * the replicas that have a metric (an integer percent, truncated, as the HPA computes it) and the
 * ratio must leave the tolerance band (default ±10 %) before anything changes. Replicas without a
 * metric count as 100 % of their request when scaling down and 0 % when scaling up; replicas that
 * are not ready yet (still starting, or cpu samples from the initialization period) count as 0 %
 * when scaling up and are left out otherwise. If that more conservative estimate would reverse the
 * direction or fall back inside the tolerance, the current count stands. Replicas being killed or
 * already ended are ignored.
 */
import { BerthError } from '../cluster/errors.ts';
import type { TaskState } from '../cluster/task-state.ts';

const COMPONENT = 'core/autoscale';

/** The resources an autoscaler can target, as in `ServiceSpec.autoscaling.metrics[].resource`. */
export type AutoscaleResource = 'cpu' | 'memory';

/** Amounts in Berth's integer base units: millicpu for `cpu`, bytes for `memory`. */
export type ResourceAmounts = Readonly<Partial<Record<AutoscaleResource, number>>>;

/**
 * What a metrics source knows about one replica of a service at one moment. The Kubernetes source
 * fills it from the pod (phase, `Ready` condition, `status.startTime`) and metrics.k8s.io; the
 * Mesos source from the task status, its health checks and the agent's container statistics.
 */
export interface PodMetricSample {
  readonly taskId: string;
  /** The unified task state: RUNNING counts; PENDING/STAGING/STARTING are not ready; KILLING and ended tasks are ignored. */
  readonly state: TaskState;
  /** Passing its readiness/health check (Kubernetes `Ready`; Mesos: healthy, or running without a check). */
  readonly ready: boolean;
  /** Epoch ms the replica started (Kubernetes `status.startTime`); unknown means not ready for cpu. */
  readonly startedAt?: number;
  /** Epoch ms `ready` last changed (the `Ready` condition's lastTransitionTime); default `startedAt`. */
  readonly readyChangedAt?: number;
  /** What the replica requested, per resource. */
  readonly requests: ResourceAmounts;
  /** What it used, averaged over the sample window; absent when the source has no sample for it. */
  readonly usage?: ResourceAmounts;
  /** Epoch ms the usage sample was taken (end of its window); default `now`. */
  readonly sampledAt?: number;
  /** Length of the sample window in ms (metrics.k8s.io `window`); default 0. */
  readonly windowMs?: number;
}

export interface UtilizationTarget {
  readonly resource: AutoscaleResource;
  /** Percent of the request, averaged over replicas. */
  readonly targetAverageUtilization: number;
}

/** Tunables of the calculation, with the kube-controller-manager defaults. */
export interface ReplicaCalculatorOptions {
  /** Ratio band around 1.0 inside which nothing changes (`--horizontal-pod-autoscaler-tolerance`, 0.1). */
  readonly tolerance?: number;
  /** Cpu samples of replicas younger than this need a fresh sample after turning ready (`--horizontal-pod-autoscaler-cpu-initialization-period`, 5 min). */
  readonly cpuInitializationPeriodMs?: number;
  /** A replica unready since within this of its start is taken as never ready (`--horizontal-pod-autoscaler-initial-readiness-delay`, 30 s). */
  readonly initialReadinessDelayMs?: number;
}

export const DEFAULT_REPLICA_CALCULATOR_OPTIONS = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  initialReadinessDelayMs: 30_000,
} as const satisfies Required<ReplicaCalculatorOptions>;

export interface ReplicaCalculationInput extends ReplicaCalculatorOptions {
  /** The replica count the service is set to now. */
  readonly currentReplicas: number;
  readonly target: UtilizationTarget;
  readonly samples: readonly PodMetricSample[];
  /** Epoch ms. */
  readonly now: number;
}

/**
 * How the recommendation was reached:
 * - `WithinTolerance`: the ratio (or its conservative re-estimate) is within the tolerance band;
 * - `ScaledByRatio`: every counted replica had a usable sample, ceil(ready × ratio);
 * - `ScaledConservatively`: missing/unready replicas were filled in (0 % up, 100 % down) first;
 * - `DirectionReversed`: the filled-in estimate would scale the other way, so nothing changes.
 */
export type RecommendationBasis =
  | 'WithinTolerance'
  | 'ScaledByRatio'
  | 'ScaledConservatively'
  | 'DirectionReversed';

/** Why no recommendation could be made for a metric (the HPA's `FailedGetResourceMetric`). */
export type MetricUnavailableReason = 'NoReplicas' | 'NoMetrics' | 'MissingRequest';

export interface ReplicaGroups {
  /** Ready replicas with a sample. */
  readonly ready: readonly string[];
  /** Not ready yet (starting, or cpu still initializing): left out, or 0 % on a scale-up. */
  readonly unready: readonly string[];
  /** Running without a sample: 100 % on a scale-down, 0 % on a scale-up. */
  readonly missing: readonly string[];
  /** Being killed or ended: not counted at all. */
  readonly ignored: readonly string[];
}

export type MetricRecommendation =
  | {
      readonly status: 'ok';
      readonly resource: AutoscaleResource;
      readonly targetAverageUtilization: number;
      /** The recommended replica count for this metric, before min/max and behaviour. */
      readonly replicas: number;
      /** Current utilization in percent of the request (integer, truncated), over ready replicas with samples. */
      readonly utilization: number;
      /** Average usage per sampled replica, in base units (integer, truncated). */
      readonly averageUsage: number;
      /** utilization / target. */
      readonly usageRatio: number;
      /** The ratio after filling in missing and unready replicas, when that step ran. */
      readonly adjustedUsageRatio?: number;
      readonly basis: RecommendationBasis;
      readonly groups: ReplicaGroups;
    }
  | {
      readonly status: 'unavailable';
      readonly resource: AutoscaleResource;
      readonly targetAverageUtilization: number;
      readonly reason: MetricUnavailableReason;
      readonly message: string;
      readonly groups: ReplicaGroups;
    };

function invalid(path: string, message: string, hint?: string): BerthError {
  return new BerthError('SPEC_INVALID', `${path}: ${message}`, {
    component: COMPONENT,
    issues: [{ path, message }],
    ...(hint === undefined ? {} : { hint }),
  });
}

function checkInteger(value: unknown, path: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(path, `must be an integer >= ${min}, got ${String(value)}`);
  }
}

function checkTime(value: unknown, path: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(
      path,
      `must be a finite epoch-ms number, got ${String(value)}`,
      'Pass Clock.now() or a sample timestamp.',
    );
  }
}

export function checkOptions(o: ReplicaCalculatorOptions): Required<ReplicaCalculatorOptions> {
  const merged = {
    tolerance: o.tolerance ?? DEFAULT_REPLICA_CALCULATOR_OPTIONS.tolerance,
    cpuInitializationPeriodMs:
      o.cpuInitializationPeriodMs ?? DEFAULT_REPLICA_CALCULATOR_OPTIONS.cpuInitializationPeriodMs,
    initialReadinessDelayMs:
      o.initialReadinessDelayMs ?? DEFAULT_REPLICA_CALCULATOR_OPTIONS.initialReadinessDelayMs,
  };
  if (!Number.isFinite(merged.tolerance) || merged.tolerance < 0 || merged.tolerance >= 1) {
    throw invalid(
      'tolerance',
      `must be a number in [0, 1), got ${merged.tolerance}`,
      'The Kubernetes default is 0.1.',
    );
  }
  if (!Number.isFinite(merged.cpuInitializationPeriodMs) || merged.cpuInitializationPeriodMs < 0) {
    throw invalid(
      'cpuInitializationPeriodMs',
      `must be a finite number >= 0, got ${merged.cpuInitializationPeriodMs}`,
    );
  }
  if (!Number.isFinite(merged.initialReadinessDelayMs) || merged.initialReadinessDelayMs < 0) {
    throw invalid(
      'initialReadinessDelayMs',
      `must be a finite number >= 0, got ${merged.initialReadinessDelayMs}`,
    );
  }
  return merged;
}

const TIME_FIELDS = ['startedAt', 'readyChangedAt', 'sampledAt'] as const;

/** Check one utilization target; `path` names it in the error. */
export function checkTarget(
  t: UtilizationTarget,
  path: string,
): { resource: AutoscaleResource; target: number } {
  const resource = t?.resource;
  if (resource !== 'cpu' && resource !== 'memory') {
    throw invalid(`${path}.resource`, `must be "cpu" or "memory", got ${JSON.stringify(resource)}`);
  }
  checkInteger(t.targetAverageUtilization, `${path}.targetAverageUtilization`, 1);
  return { resource, target: t.targetAverageUtilization };
}

function amountOk(v: number | undefined): boolean {
  return v === undefined || (Number.isSafeInteger(v) && v >= 0);
}

function timeOk(v: number | undefined): boolean {
  return v === undefined || Number.isFinite(v);
}

/** Check a batch of samples before anything is computed; throws SPEC_INVALID naming the field. */
export function validateSamples(samples: readonly PodMetricSample[]): void {
  if (!Array.isArray(samples)) throw invalid('samples', 'must be an array of PodMetricSample');
  const seen = new Set<string>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as PodMetricSample;
    const id = s?.taskId;
    if (typeof id !== 'string' || id === '')
      throw invalid(`samples[${i}].taskId`, 'must be a non-empty string');
    if (seen.has(id)) {
      throw invalid(
        `samples[${i}].taskId`,
        `duplicate task id ${JSON.stringify(id)}`,
        'Give each replica exactly one sample.',
      );
    }
    seen.add(id);
    if (typeof s.ready !== 'boolean')
      throw invalid(`samples[${i}].ready`, `must be a boolean, got ${String(s.ready)}`);
    if (!timeOk(s.startedAt) || !timeOk(s.readyChangedAt) || !timeOk(s.sampledAt)) {
      for (const key of TIME_FIELDS) if (!timeOk(s[key])) checkTime(s[key], `samples[${i}].${key}`);
    }
    if (s.windowMs !== undefined && (!Number.isFinite(s.windowMs) || s.windowMs < 0)) {
      throw invalid(`samples[${i}].windowMs`, `must be a finite number >= 0, got ${s.windowMs}`);
    }
    const { requests, usage } = s;
    if (requests === undefined || requests === null) {
      throw invalid(`samples[${i}].requests`, 'is required (use {} when nothing was requested)');
    }
    if (!amountOk(requests.cpu) || !amountOk(requests.memory)) badAmount(requests, `samples[${i}].requests`);
    if (usage !== undefined && (!amountOk(usage.cpu) || !amountOk(usage.memory)))
      badAmount(usage, `samples[${i}].usage`);
  }
}

function badAmount(amounts: ResourceAmounts, path: string): never {
  const r = amountOk(amounts.cpu) ? 'memory' : 'cpu';
  throw invalid(
    `${path}.${r}`,
    `must be an integer >= 0 in ${r === 'cpu' ? 'millicpu' : 'bytes'}, got ${String(amounts[r])}`,
    'Round fractional samples to whole base units.',
  );
}

const NOT_STARTED: ReadonlySet<TaskState> = new Set(['PENDING', 'STAGING', 'STARTING']);
const GONE: ReadonlySet<TaskState> = new Set(['KILLING', 'FINISHED', 'FAILED', 'KILLED', 'LOST', 'ERROR']);

/**
 * Sort replicas as the HPA does before computing: ignored (killing/ended), unready (not started; for
 * cpu also not ready during the initialization period, or never ready), missing (no sample), ready.
 */
export function groupReplicas(
  samples: readonly PodMetricSample[],
  resource: AutoscaleResource,
  now: number,
  options: ReplicaCalculatorOptions = {},
): ReplicaGroups {
  return groupWith(samples, resource, now, checkOptions(options));
}

function groupWith(
  samples: readonly PodMetricSample[],
  resource: AutoscaleResource,
  now: number,
  o: Required<ReplicaCalculatorOptions>,
): ReplicaGroups {
  const groups: Record<ReplicaGroup, string[]> = { ready: [], unready: [], missing: [], ignored: [] };
  for (const s of samples) groups[groupOf(s, resource, now, o)].push(s.taskId);
  return groups;
}

type ReplicaGroup = keyof ReplicaGroups;

function groupOf(
  s: PodMetricSample,
  resource: AutoscaleResource,
  now: number,
  o: Required<ReplicaCalculatorOptions>,
): ReplicaGroup {
  if (GONE.has(s.state)) return 'ignored';
  if (NOT_STARTED.has(s.state)) return 'unready';
  if (s.usage?.[resource] === undefined) return 'missing';
  if (resource === 'cpu' && cpuSampleUnusable(s, now, o)) return 'unready';
  return 'ready';
}

/**
 * During the cpu initialization period a sample counts only if the replica is ready and the sample
 * window started after it turned ready (start-up cpu bursts would otherwise trigger scale-ups).
 * Afterwards only a replica that has never been ready is left out: one that turned unready within
 * the initial readiness delay of its start.
 */
function cpuSampleUnusable(s: PodMetricSample, now: number, o: Required<ReplicaCalculatorOptions>): boolean {
  if (s.startedAt === undefined) return true;
  const changedAt = s.readyChangedAt ?? s.startedAt;
  if (s.startedAt + o.cpuInitializationPeriodMs > now) {
    const sampledAt = s.sampledAt ?? now;
    return !s.ready || sampledAt < changedAt + (s.windowMs ?? 0);
  }
  return !s.ready && s.startedAt + o.initialReadinessDelayMs > changedAt;
}

/** floor(a × 100 / b) exactly, also past 2^53. */
function percentFloor(used: number, requested: number): number {
  const scaled = used * 100;
  if (Number.isSafeInteger(scaled)) return Math.floor(scaled / requested);
  return Number((BigInt(used) * 100n) / BigInt(requested));
}

function exactFloorDiv(a: number, b: number): number {
  return Number.isSafeInteger(a) ? Math.floor(a / b) : Number(BigInt(a) / BigInt(b));
}

/**
 * The replica count one utilization target asks for. Pure: the same input always gives the same
 * answer. Throws `SPEC_INVALID` for malformed input (negative counts, a target below 1 %, duplicate
 * task ids, fractional amounts); an expected shortfall (no replicas, no samples, a missing request)
 * is returned as `status: 'unavailable'` instead, and the caller keeps the current count.
 */
export function computeReplicaRecommendation(input: ReplicaCalculationInput): MetricRecommendation {
  checkInteger(input.currentReplicas, 'currentReplicas', 0);
  checkTime(input.now, 'now');
  const { resource, target } = checkTarget(input.target, 'target');
  const options = checkOptions(input);
  validateSamples(input.samples);
  return recommendValidated(input, resource, target, options);
}

/** {@link computeReplicaRecommendation} after its input checks (decideScale validates once for all metrics). */
export function recommendValidated(
  input: ReplicaCalculationInput,
  resource: AutoscaleResource,
  target: number,
  options: Required<ReplicaCalculatorOptions>,
): MetricRecommendation {
  // One pass: group the replicas and sum what each group used and requested.
  const ready: string[] = [];
  const unready: string[] = [];
  const missing: string[] = [];
  const ignored: string[] = [];
  const noRequest: string[] = [];
  let readyUsed = 0;
  let readyRequested = 0;
  let missingRequested = 0;
  let unreadyRequested = 0;
  for (const s of input.samples) {
    const group = groupOf(s, resource, input.now, options);
    if (group === 'ignored') {
      ignored.push(s.taskId);
      continue;
    }
    const r = s.requests[resource] ?? 0;
    if (r === 0) noRequest.push(s.taskId);
    if (group === 'ready') {
      ready.push(s.taskId);
      readyUsed += s.usage?.[resource] ?? 0;
      readyRequested += r;
    } else if (group === 'missing') {
      missing.push(s.taskId);
      missingRequested += r;
    } else {
      unready.push(s.taskId);
      unreadyRequested += r;
    }
  }
  const groups: ReplicaGroups = { ready, unready, missing, ignored };
  const base = { resource, targetAverageUtilization: target, groups } as const;
  const unavailable = (reason: MetricUnavailableReason, message: string): MetricRecommendation => ({
    status: 'unavailable',
    ...base,
    reason,
    message,
  });

  if (ready.length + unready.length + missing.length === 0) {
    return unavailable('NoReplicas', 'no running or starting replicas to measure');
  }
  if (noRequest.length > 0) {
    return unavailable(
      'MissingRequest',
      `replicas ${noRequest.join(', ')} have no ${resource} request, so ${resource} utilization is undefined; set template.resources.requests.${resource}`,
    );
  }
  if (ready.length === 0) {
    return unavailable(
      'NoMetrics',
      `no ${resource} samples for any ready replica (replicas may still be starting)`,
    );
  }
  const utilization = percentFloor(readyUsed, readyRequested);
  const averageUsage = exactFloorDiv(readyUsed, ready.length);
  const ratio = utilization / target;
  const current = input.currentReplicas;
  const ok = (
    replicas: number,
    basis: RecommendationBasis,
    adjustedUsageRatio?: number,
  ): MetricRecommendation => ({
    status: 'ok',
    ...base,
    replicas,
    utilization,
    averageUsage,
    usageRatio: ratio,
    ...(adjustedUsageRatio === undefined ? {} : { adjustedUsageRatio }),
    basis,
  });

  const scaleUpWithUnready = unready.length > 0 && ratio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (Math.abs(1 - ratio) <= options.tolerance) return ok(current, 'WithinTolerance');
    return ok(Math.ceil(ratio * ready.length), 'ScaledByRatio');
  }

  // Fill in the replicas we could not measure with the value least favourable to the change:
  // missing ones at 100 % of their request on a scale-down and 0 % on a scale-up, unready ones at 0 %.
  let used = readyUsed;
  let requested = readyRequested;
  let counted = ready.length;
  if (ratio !== 1) {
    if (ratio < 1) used += missingRequested;
    requested += missingRequested;
    counted += missing.length;
  }
  if (scaleUpWithUnready) {
    requested += unreadyRequested;
    counted += unready.length;
  }
  const adjusted = percentFloor(used, requested) / target;
  if (Math.abs(1 - adjusted) <= options.tolerance) return ok(current, 'WithinTolerance', adjusted);
  if ((ratio < 1 && adjusted > 1) || (ratio > 1 && adjusted < 1))
    return ok(current, 'DirectionReversed', adjusted);
  const replicas = Math.ceil(adjusted * counted);
  if ((adjusted < 1 && replicas > current) || (adjusted > 1 && replicas < current)) {
    return ok(current, 'DirectionReversed', adjusted);
  }
  return ok(replicas, 'ScaledConservatively', adjusted);
}
