/**
 * The HorizontalPodAutoscaler controller: every sync period, for each autoscaling/v2 HPA whose
 * target (a Deployment or ReplicaSet) has a /scale, reads the target's pods and their
 * metrics.k8s.io usage (the face's metrics provider), asks core's `decideScale` (the HPA algorithm:
 * tolerance, stabilization windows, behavior policies) for the replica count, writes it through
 * /scale and records status: currentReplicas, desiredReplicas, lastScaleTime, currentMetrics and
 * the AbleToScale / ScalingActive / ScalingLimited conditions.
 */
import {
  type AutoscaleBehavior,
  type AutoscaleHistory,
  type AutoscalingMetric,
  type DecideOptions,
  decideScale,
  emptyAutoscaleHistory,
  type PodMetricSample,
  Resources,
  recordScaleEvent,
} from '@berth/core';
import type { MetricsProvider } from '../kube/api-server.ts';
import { matchesLabels, parseLabelSelector } from '../kube/selectors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import {
  condition,
  isDeleting,
  isPodReady,
  type JsonObject,
  labelsOf,
  meta,
  nameOf,
  namespaceOf,
  num,
  obj,
  objs,
  parseTime,
  podPhase,
  str,
  timestamp,
  uidOf,
  withCondition,
} from './objects.ts';
import { statusDiffers } from './replica-set-controller.ts';
import { toBerthError, WorkQueue } from './runtime.ts';

export interface HpaControllerOptions {
  /** metrics.k8s.io data (the same provider the face serves). Without it metrics are unavailable. */
  readonly metrics?: MetricsProvider;
  /** `--horizontal-pod-autoscaler-sync-period` (15,000 ms). */
  readonly syncPeriodMs?: number;
  /** Tunables of the algorithm (tolerance, cpu initialization period, …). */
  readonly decide?: DecideOptions;
}

const HPA = 'horizontalpodautoscalers.autoscaling';
const COMPONENT = 'horizontal-pod-autoscaler';
const TARGETS: Readonly<Record<string, string>> = {
  Deployment: 'deployments.apps',
  ReplicaSet: 'replicasets.apps',
};

const LIMIT_MESSAGES: Readonly<Record<string, string>> = {
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
};

type Cond = JsonObject & { type: string; status: string };

function quantity(name: 'cpu' | 'memory', v: string | undefined): number {
  if (v === undefined) return 0;
  const r = Resources.fromQuantities({ [name]: v });
  return name === 'cpu' ? r.cpu : r.memory;
}

/** Requests of a pod's containers, per resource, in base units. */
function podRequests(pod: JsonObject): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of objs(obj(pod.spec).containers)) {
    const req = obj(obj(c.resources).requests);
    cpu += quantity(
      'cpu',
      typeof req.cpu === 'string' || typeof req.cpu === 'number' ? String(req.cpu) : undefined,
    );
    memory += quantity(
      'memory',
      typeof req.memory === 'string' || typeof req.memory === 'number' ? String(req.memory) : undefined,
    );
  }
  return { cpu, memory };
}

/** The HPA's resource utilization metrics as core's policy; others are reported as unsupported. */
export function policyMetrics(hpa: JsonObject): { metrics: AutoscalingMetric[]; unsupported: string[] } {
  const metrics: AutoscalingMetric[] = [];
  const unsupported: string[] = [];
  for (const m of objs(obj(hpa.spec).metrics)) {
    const resource = obj(m.resource);
    const target = obj(resource.target);
    const name = str(resource.name);
    if (
      str(m.type) === 'Resource' &&
      (name === 'cpu' || name === 'memory') &&
      str(target.type) === 'Utilization'
    ) {
      metrics.push({ resource: name, targetAverageUtilization: num(target.averageUtilization) ?? 80 });
    } else unsupported.push(`${str(m.type)}${name === '' ? '' : `/${name}`}`);
  }
  return { metrics, unsupported };
}

export function startHpaController(ctx: ControllerContext, options: HpaControllerOptions = {}): Controller {
  const { api, clock } = ctx;
  const period = options.syncPeriodMs ?? 15_000;
  const hpas = ctx.informers.get(HPA);
  const pods = ctx.informers.get('pods');
  const histories = new Map<string, AutoscaleHistory>();

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const hpa = hpas.get(ns, name);
    if (hpa === undefined || isDeleting(hpa)) return;
    queue.addAfter(key, period);
    const spec = obj(hpa.spec);
    const ref = obj(spec.scaleTargetRef);
    const now = clock.now();
    const old = obj(hpa.status);
    let conditions = objs(old.conditions);
    const setCond = (c: Cond) => {
      conditions = withCondition(conditions, c, now);
    };
    const writeStatus = (status: JsonObject) => {
      const next = { ...status, conditions, observedGeneration: num(meta(hpa).generation) ?? 1 };
      if (statusDiffers(old, next))
        api.patch(HPA, ns, name, 'merge', { status: next }, { subresource: 'status' });
    };
    const resource = TARGETS[str(ref.kind)];
    let scale: JsonObject;
    try {
      if (resource === undefined) throw new Error(`the HPA controller cannot scale ${str(ref.kind)}`);
      scale = api.getScale(resource, ns, str(ref.name));
    } catch (error) {
      const message = `the HPA controller was unable to get the target's current scale: ${toBerthError(error).message.replace(/^\[berth\] \[[^\]]+\] /, '')}`;
      setCond({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
      ctx.events.record(
        { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', object: hpa },
        'Warning',
        'FailedGetScale',
        message,
        COMPONENT,
      );
      writeStatus({
        currentReplicas: num(old.currentReplicas) ?? 0,
        desiredReplicas: num(old.desiredReplicas) ?? 0,
      });
      return;
    }
    const currentReplicas = num(obj(scale.spec).replicas) ?? 0;
    const selector = parseLabelSelector(str(obj(scale.status).selector));
    const selected = pods.list(ns).filter((p) => matchesLabels(selector, labelsOf(p)));
    const usage = new Map<string, { cpu: number; memory: number }>();
    for (const s of options.metrics?.().pods ?? []) {
      if (s.namespace !== ns) continue;
      let cpu = 0;
      let memory = 0;
      for (const c of s.containers) {
        cpu += quantity('cpu', c.usage.cpu);
        memory += quantity('memory', c.usage.memory);
      }
      usage.set(s.name, { cpu, memory });
    }
    const samples: PodMetricSample[] = selected.map((p) => {
      const phase = podPhase(p);
      const u = usage.get(nameOf(p));
      const started = parseTime(obj(p.status).startTime);
      const readyAt = parseTime(condition(p, 'Ready')?.lastTransitionTime);
      return {
        taskId: uidOf(p),
        state: isDeleting(p)
          ? 'KILLING'
          : phase === 'Running'
            ? 'RUNNING'
            : phase === 'Succeeded'
              ? 'FINISHED'
              : phase === 'Failed'
                ? 'FAILED'
                : 'PENDING',
        ready: isPodReady(p),
        ...(started === undefined ? {} : { startedAt: started }),
        ...(readyAt === undefined ? {} : { readyChangedAt: readyAt }),
        requests: podRequests(p),
        ...(u === undefined ? {} : { usage: u, sampledAt: now }),
      };
    });
    const { metrics, unsupported } = policyMetrics(hpa);
    const behavior =
      spec.behavior === undefined ? undefined : (obj(spec.behavior) as unknown as AutoscaleBehavior);
    const policy = {
      minReplicas: num(spec.minReplicas) ?? 1,
      maxReplicas: num(spec.maxReplicas) ?? 1,
      metrics,
      ...(behavior === undefined ? {} : { behavior }),
    };
    const decision = decideScale({
      service: key,
      currentReplicas,
      policy,
      samples,
      history: histories.get(uidOf(hpa)) ?? emptyAutoscaleHistory(),
      now,
      ...(options.decide === undefined ? {} : { options: options.decide }),
    });
    let history = decision.history;
    let lastScaleTime = old.lastScaleTime;
    if (decision.rescale) {
      api.updateScale(resource, ns, str(ref.name), { spec: { replicas: decision.desiredReplicas } }, 'merge');
      history = recordScaleEvent(history, currentReplicas, decision.desiredReplicas, now);
      lastScaleTime = timestamp(now);
      const top = decision.recommendedBy ?? 'cpu';
      ctx.events.record(
        { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', object: hpa },
        'Normal',
        'SuccessfulRescale',
        `New size: ${decision.desiredReplicas}; reason: ${decision.desiredReplicas > currentReplicas ? `${top} resource utilization (percentage of request) above target` : 'All metrics below target'}`,
        COMPONENT,
      );
    }
    histories.set(uidOf(hpa), history);
    const currentMetrics: JsonObject[] = decision.metrics.flatMap((m) =>
      m.status === 'ok'
        ? [
            {
              type: 'Resource',
              resource: {
                name: m.resource,
                current: {
                  averageUtilization: m.utilization,
                  averageValue: m.resource === 'cpu' ? `${m.averageUsage}m` : String(m.averageUsage),
                },
              },
            },
          ]
        : [],
    );
    setCond({
      type: 'AbleToScale',
      status: 'True',
      reason: decision.rescale ? 'SucceededRescale' : 'ReadyForNewScale',
      message: decision.rescale
        ? `the HPA controller was able to update the target scale to ${decision.desiredReplicas}`
        : 'recommended size matches current size',
    });
    const unavailable = decision.metrics.find((m) => m.status === 'unavailable');
    if (unsupported.length > 0 && metrics.length === 0)
      setCond({
        type: 'ScalingActive',
        status: 'False',
        reason: 'InvalidMetricSourceType',
        message: `the HPA controller supports only cpu and memory Utilization metrics, not ${unsupported.join(', ')}`,
      });
    else if (
      decision.reason === 'MetricsUnavailable' ||
      (currentMetrics.length === 0 && unavailable !== undefined)
    )
      setCond({
        type: 'ScalingActive',
        status: 'False',
        reason: 'FailedGetResourceMetric',
        message: `the HPA was unable to compute the replica count: ${unavailable?.status === 'unavailable' ? unavailable.message : decision.message}`,
      });
    else if (decision.reason === 'ScalingDisabled')
      setCond({
        type: 'ScalingActive',
        status: 'False',
        reason: 'ScalingDisabled',
        message: 'scaling is disabled since the replica count of the target is zero',
      });
    else
      setCond({
        type: 'ScalingActive',
        status: 'True',
        reason: 'ValidMetricFound',
        message: `the HPA was able to successfully calculate a replica count from ${decision.recommendedBy ?? 'cpu'} resource utilization (percentage of request)`,
      });
    const limited =
      decision.reason === 'BelowMinReplicas'
        ? 'TooFewReplicas'
        : decision.reason === 'AboveMaxReplicas'
          ? 'TooManyReplicas'
          : decision.limit !== undefined && decision.limit !== 'DesiredWithinRange'
            ? decision.limit
            : undefined;
    setCond(
      limited === undefined
        ? {
            type: 'ScalingLimited',
            status: 'False',
            reason: 'DesiredWithinRange',
            message: 'the desired count is within the acceptable range',
          }
        : {
            type: 'ScalingLimited',
            status: 'True',
            reason: limited,
            message: LIMIT_MESSAGES[limited] ?? `the desired replica count is limited (${limited})`,
          },
    );
    writeStatus({
      currentReplicas,
      desiredReplicas: decision.desiredReplicas,
      ...(currentMetrics.length > 0 ? { currentMetrics } : {}),
      ...(typeof lastScaleTime === 'string' ? { lastScaleTime } : {}),
    });
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const offHpa = hpas.on((type, hpa, previous) => {
    if (type === 'DELETED') {
      histories.delete(uidOf(hpa));
      return;
    }
    // Status writes of our own do not need another sync; spec changes do.
    if (previous !== undefined && JSON.stringify(previous.spec) === JSON.stringify(hpa.spec)) return;
    queue.add(`${namespaceOf(hpa)}/${nameOf(hpa)}`);
  });
  for (const hpa of hpas.list()) queue.add(`${namespaceOf(hpa)}/${nameOf(hpa)}`);

  return {
    name: 'hpa',
    idle: () => queue.idle(),
    stop: () => {
      offHpa();
      queue.close();
    },
  };
}
