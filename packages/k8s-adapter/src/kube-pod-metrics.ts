/**
 * `KubePodMetrics`: core's autoscaling `MetricsSource` on Kubernetes, for Berth's own HPA
 * controller. Each `podMetrics(service)` call lists the service's PodMetrics from metrics.k8s.io
 * (`GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods?labelSelector=…`, metrics-server's API)
 * and joins them with the service's pods from the informer cache, which say what the HPA reads of
 * a pod: its phase, whether it is being deleted, the `Ready` condition (and when it last changed),
 * `status.startTime` and the containers' requests.
 *
 * - usage per pod = the sum over its containers (cpu in nanocores `…n` or millicores, memory in
 *   bytes, parsed as Kubernetes quantities and rounded up to Berth's base units as the HPA's
 *   `MilliValue` does); a pod whose metrics lack a container's value for a resource has no usage
 *   for that resource (the HPA's *missing* pods);
 * - `sampledAt` / `windowMs` = the PodMetrics `timestamp` / `window`, so core's cpu initialization
 *   rule compares them with the Ready transition as the HPA does;
 * - state: being deleted → KILLING (ignored), Failed → FAILED, Succeeded → FINISHED, Running →
 *   RUNNING, anything else → PENDING (not yet ready). Utilization is usage / request, computed by core.
 */
import {
  type AbortSignalLike,
  BerthError,
  type MetricsSource,
  type PodMetricSample,
  type ResourceAmounts,
  Resources,
  type TaskState,
} from '@berth/core';
import type { KubeClient } from './kube-client.ts';
import { query, seg } from './kube-client.ts';
import { COMPONENT, httpStatusOf } from './kube-errors.ts';

/** What the metrics source reads of one pod (a `PodRecord` from the informer cache fits). */
export interface KubeMetricsPod {
  readonly name: string;
  readonly deletionTimestamp?: string;
  /** Summed over the pod's containers, in base units (millicpu, bytes). */
  readonly requests: Pick<Resources, 'cpu' | 'memory'>;
  readonly status: {
    readonly phase?: string | undefined;
    readonly startTime?: string | undefined;
    readonly conditions?:
      | readonly {
          readonly type: string;
          readonly status: string;
          /** When present (RFC 3339), the time `Ready` last changed; else the start time stands in. */
          readonly lastTransitionTime?: string | undefined;
        }[]
      | undefined;
  };
}

/** Where a service's pods are: its namespace, the label selector of its pods, and the pods now. */
export interface KubeMetricsTarget {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly pods: readonly KubeMetricsPod[];
}

export interface KubePodMetricsOptions {
  readonly client: Pick<KubeClient, 'request'>;
  /** The service's namespace, selector and current pods; undefined when it is unknown. */
  readonly target: (service: string) => KubeMetricsTarget | undefined;
  /** The metrics.k8s.io version the cluster serves, or how to read it when known later (default `v1beta1`). */
  readonly version?: string | (() => string | undefined);
}

/** One item of a metrics.k8s.io `PodMetricsList`. */
export interface PodMetricsItem {
  readonly metadata?: { readonly name?: string };
  readonly timestamp?: string;
  readonly window?: string;
  readonly containers?: readonly { readonly name?: string; readonly usage?: Record<string, unknown> }[];
}

const UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go `time.Duration` string (`10s`, `1m0.5s`, `150ms`) in milliseconds; undefined when malformed. */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNITS_MS[m[2] as string] as number);
    at = part.lastIndex;
  }
  return total;
}

function quantityOf(resource: 'cpu' | 'memory', value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const r = Resources.fromQuantities({ [resource]: String(value) });
    return resource === 'cpu' ? r.cpu : r.memory;
  } catch {
    return undefined;
  }
}

/**
 * A pod's usage summed over its containers. A resource is left out when the pod reports no
 * containers or any container lacks a parsable value for it (the pod is then *missing* for it).
 */
export function podUsageOf(item: PodMetricsItem): ResourceAmounts {
  const containers = item.containers ?? [];
  const out: { cpu?: number; memory?: number } = {};
  if (containers.length === 0) return out;
  for (const resource of ['cpu', 'memory'] as const) {
    let sum = 0;
    let complete = true;
    for (const c of containers) {
      const v = quantityOf(resource, c.usage?.[resource]);
      if (v === undefined) {
        complete = false;
        break;
      }
      sum += v;
    }
    if (complete) out[resource] = sum;
  }
  return out;
}

function stateOf(pod: KubeMetricsPod): TaskState {
  if (pod.deletionTimestamp !== undefined) return 'KILLING';
  switch (pod.status.phase) {
    case 'Running':
      return 'RUNNING';
    case 'Succeeded':
      return 'FINISHED';
    case 'Failed':
      return 'FAILED';
    default:
      return 'PENDING';
  }
}

const timeOf = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
};

/** One pod and (when metrics.k8s.io had it) its PodMetrics as core's sample. */
export function podMetricSample(pod: KubeMetricsPod, metrics: PodMetricsItem | undefined): PodMetricSample {
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready');
  const startedAt = timeOf(pod.status.startTime);
  const readyChangedAt = timeOf(ready?.lastTransitionTime);
  const usage = metrics === undefined ? undefined : podUsageOf(metrics);
  const sampledAt = timeOf(metrics?.timestamp);
  const windowMs = parseGoDuration(metrics?.window);
  const requests: { cpu?: number; memory?: number } = {};
  if (pod.requests.cpu > 0) requests.cpu = pod.requests.cpu;
  if (pod.requests.memory > 0) requests.memory = pod.requests.memory;
  return {
    taskId: pod.name,
    state: stateOf(pod),
    ready: ready?.status === 'True',
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(readyChangedAt === undefined ? {} : { readyChangedAt }),
    requests,
    ...(usage === undefined || Object.keys(usage).length === 0 ? {} : { usage }),
    ...(usage === undefined || sampledAt === undefined ? {} : { sampledAt }),
    ...(usage === undefined || windowMs === undefined ? {} : { windowMs: Math.round(windowMs) }),
  };
}

export class KubePodMetrics implements MetricsSource {
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #target: KubePodMetricsOptions['target'];
  readonly #version: KubePodMetricsOptions['version'];

  constructor(options: KubePodMetricsOptions) {
    this.#client = options.client;
    this.#target = options.target;
    this.#version = options.version;
  }

  async podMetrics(
    service: string,
    _options?: { readonly signal?: AbortSignalLike },
  ): Promise<PodMetricSample[]> {
    const target = this.#target(service);
    if (target === undefined) {
      throw new BerthError('NOT_FOUND', `no service ${service} to read metrics for`, {
        component: COMPONENT,
        hint: 'Submit the Service first; its pods must be in the adapter’s cache.',
      });
    }
    const version = (typeof this.#version === 'function' ? this.#version() : this.#version) ?? 'v1beta1';
    const path = `/apis/metrics.k8s.io/${version}/namespaces/${seg(target.namespace)}/pods${query({
      labelSelector: target.labelSelector,
    })}`;
    let list: { items?: PodMetricsItem[] };
    try {
      list = await this.#client.request<{ items?: PodMetricsItem[] }>('GET', path);
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404 || status === 503) {
        throw new BerthError(
          'BACKEND_UNAVAILABLE',
          `metrics.k8s.io answered ${status} for the pods of service ${service}: no resource metrics to scale on`,
          {
            component: COMPONENT,
            cause: error,
            hint: 'Install metrics-server (it serves metrics.k8s.io) and check `kubectl top pods`.',
          },
        );
      }
      throw error;
    }
    const byName = new Map<string, PodMetricsItem>();
    for (const item of list?.items ?? []) {
      const name = item.metadata?.name;
      if (typeof name === 'string') byName.set(name, item);
    }
    return target.pods.map((p) => podMetricSample(p, byName.get(p.name)));
  }
}
