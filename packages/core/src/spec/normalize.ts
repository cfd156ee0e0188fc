/**
 * Turns a schema-valid document into the normalised `BerthDocument`: defaults filled in,
 * quantities parsed, priority classes resolved, constraint triples as objects. Only called on
 * documents the schema accepted, so nothing here can fail on user input.
 */
import type { z } from 'zod';
import { Resources } from '../resources/index.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, SPEC_DEFAULTS } from './defaults.ts';
import {
  type autoscalingSchema,
  type healthCheckSchema,
  type jobSpecSchema,
  type ParsedDocument,
  type ParsedTaskSpec,
  type restartPolicySchema,
  type serviceSpecSchema,
  toResourceQuantities,
} from './schema.ts';
import {
  API_VERSION,
  type AutoscalingSpec,
  type BerthDocument,
  type DocumentKind,
  type HealthCheck,
  type JobSpec,
  type LabelSelector,
  type Metadata,
  type NodeSelectorRequirement,
  PRIORITY_CLASSES,
  type PriorityClassName,
  type ResourceRequirements,
  type RestartPolicy,
  type ScalingRules,
  type ServiceSpec,
  type TaskAffinityTerm,
  type TaskSpec,
} from './types.ts';

function resources(input: ParsedTaskSpec['resources']): ResourceRequirements {
  const requests = toResourceQuantities(input?.requests ?? {});
  const limits = input?.limits === undefined ? undefined : toResourceQuantities(input.limits);
  // As in Kubernetes: a resource with a limit and no request requests its limit.
  if (limits !== undefined)
    for (const [k, v] of Object.entries(limits)) if (!Object.hasOwn(requests, k)) requests[k] = v;
  const out: ResourceRequirements = { requests: Resources.fromQuantities(requests) };
  if (limits !== undefined) out.limits = Resources.fromQuantities(limits);
  return out;
}

function restartPolicy(
  input: z.output<typeof restartPolicySchema> | undefined,
  kind: DocumentKind,
): RestartPolicy {
  if (input === undefined) return { ...SPEC_DEFAULTS.restartPolicy[kind] };
  const p = typeof input === 'string' ? { policy: input } : input;
  const backoffSeconds =
    'backoffSeconds' in p && p.backoffSeconds !== undefined ? p.backoffSeconds : SPEC_DEFAULTS.backoffSeconds;
  const maxBackoffSeconds =
    'maxBackoffSeconds' in p && p.maxBackoffSeconds !== undefined
      ? p.maxBackoffSeconds
      : SPEC_DEFAULTS.maxBackoffSeconds;
  switch (p.policy) {
    case 'never':
      return { policy: 'never' };
    case 'always':
      return { policy: 'always', backoffSeconds, maxBackoffSeconds };
    case 'on-failure':
      return {
        policy: 'on-failure',
        maxRetries: 'maxRetries' in p && p.maxRetries !== undefined ? p.maxRetries : SPEC_DEFAULTS.maxRetries,
        backoffSeconds,
        maxBackoffSeconds,
      };
  }
}

function healthCheck(h: z.output<typeof healthCheckSchema>): HealthCheck {
  const timing = {
    intervalSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    gracePeriodSeconds: h.gracePeriodSeconds,
    maxConsecutiveFailures: h.maxConsecutiveFailures,
  };
  if (h.http !== undefined)
    return { type: 'http', port: h.http.port, path: h.http.path, scheme: h.http.scheme, ...timing };
  if (h.tcp !== undefined) return { type: 'tcp', port: h.tcp.port, ...timing };
  return { type: 'command', command: h.command ?? '', ...timing };
}

function requirements(
  list: readonly { key: string; operator: string; values?: (string | number)[] | undefined }[] | undefined,
): NodeSelectorRequirement[] {
  return (list ?? []).map((r) => ({
    key: r.key,
    operator: r.operator as NodeSelectorRequirement['operator'],
    values: (r.values ?? []).map(String),
  }));
}

type ParsedAffinity = NonNullable<ParsedTaskSpec['affinity']>;
type ParsedTerm = NonNullable<ParsedAffinity['taskAffinity']>[number];

function affinityTerm(t: ParsedTerm): TaskAffinityTerm {
  const labelSelector: LabelSelector = {
    matchLabels: { ...(t.labelSelector.matchLabels ?? {}) },
    matchExpressions: requirements(t.labelSelector.matchExpressions) as LabelSelector['matchExpressions'],
  };
  const base = {
    labelSelector,
    topologyKey: t.topologyKey,
    ...(t.tenants === undefined ? {} : { tenants: [...t.tenants] }),
  };
  return t.weight === undefined
    ? { ...base, required: true }
    : { ...base, required: false, weight: t.weight };
}

function affinity(a: ParsedAffinity): NonNullable<TaskSpec['affinity']> {
  const out: NonNullable<TaskSpec['affinity']> = {};
  if (a.nodeAffinity !== undefined) {
    const na: NonNullable<typeof out.nodeAffinity> = {};
    if (a.nodeAffinity.required !== undefined)
      na.required = a.nodeAffinity.required.map((t) => ({
        matchExpressions: requirements(t.matchExpressions),
      }));
    if (a.nodeAffinity.preferred !== undefined)
      na.preferred = a.nodeAffinity.preferred.map((p) => ({
        weight: p.weight,
        preference: { matchExpressions: requirements(p.preference.matchExpressions) },
      }));
    out.nodeAffinity = na;
  }
  if (a.taskAffinity !== undefined) out.taskAffinity = a.taskAffinity.map(affinityTerm);
  if (a.taskAntiAffinity !== undefined) out.taskAntiAffinity = a.taskAntiAffinity.map(affinityTerm);
  return out;
}

function priority(s: ParsedTaskSpec): { priority: number; priorityClassName?: string } {
  const named = typeof s.priority === 'string' ? s.priority : s.priorityClassName;
  if (named !== undefined)
    return { priority: PRIORITY_CLASSES[named as PriorityClassName], priorityClassName: named };
  return { priority: typeof s.priority === 'number' ? s.priority : SPEC_DEFAULTS.priority };
}

/** Normalises a task spec (or a Service's / Job's template). */
export function normalizeTaskSpec(s: ParsedTaskSpec, metadata: Metadata, kind: DocumentKind): TaskSpec {
  const task: TaskSpec = {
    name: metadata.name,
    env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, String(v)])),
    resources: resources(s.resources),
    ports: (s.ports ?? []).map((p) => ({
      name: p.name,
      ...(p.hostPort === undefined ? {} : { hostPort: p.hostPort }),
      ...(p.containerPort === undefined ? {} : { containerPort: p.containerPort }),
      protocol: p.protocol,
    })),
    ...priority(s),
    tenant: metadata.tenant,
    constraints: (s.constraints ?? []).map(([field, operator, value]) =>
      value === undefined ? { field, operator } : { field, operator, value: String(value) },
    ),
    nodeSelector: { ...(s.nodeSelector ?? {}) },
    tolerations: (s.tolerations ?? []).map((t) => ({
      ...(t.key === undefined ? {} : { key: t.key }),
      operator: t.operator,
      ...(t.value === undefined ? {} : { value: t.value }),
      ...(t.effect === undefined ? {} : { effect: t.effect }),
      ...(t.tolerationSeconds === undefined ? {} : { tolerationSeconds: t.tolerationSeconds }),
    })),
    restartPolicy: restartPolicy(s.restartPolicy, kind),
    killGracePeriodSeconds: s.killGracePeriodSeconds,
    labels: { ...metadata.labels, ...(s.labels ?? {}) },
  };
  if (s.command !== undefined) task.command = s.command;
  if (s.args !== undefined) task.args = [...s.args];
  if (s.image !== undefined) task.image = s.image;
  if (s.affinity !== undefined) task.affinity = affinity(s.affinity);
  if (s.healthCheck !== undefined) task.healthCheck = healthCheck(s.healthCheck);
  return task;
}

function scalingRules(
  r: z.output<typeof autoscalingSchema>['behavior'],
  side: 'scaleUp' | 'scaleDown',
): ScalingRules {
  const defaults = side === 'scaleUp' ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN;
  const given = r?.[side];
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: given?.selectPolicy ?? defaults.selectPolicy,
    policies: (given?.policies ?? defaults.policies).map((p) => ({ ...p })),
  };
}

function autoscaling(a: z.output<typeof autoscalingSchema>): AutoscalingSpec {
  return {
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    metrics: (
      a.metrics ?? [{ resource: 'cpu', targetAverageUtilization: SPEC_DEFAULTS.targetCpuUtilization }]
    ).map((m) => ({ ...m })),
    behavior: {
      scaleUp: scalingRules(a.behavior, 'scaleUp'),
      scaleDown: scalingRules(a.behavior, 'scaleDown'),
    },
  };
}

function serviceSpec(s: z.output<typeof serviceSpecSchema>, metadata: Metadata): ServiceSpec {
  const out: ServiceSpec = {
    template: normalizeTaskSpec(s.template, metadata, 'Service'),
    replicas: s.replicas ?? s.autoscaling?.minReplicas ?? SPEC_DEFAULTS.replicas,
  };
  if (s.discovery !== undefined)
    out.discovery = {
      name: s.discovery.name,
      ...(s.discovery.ports === undefined ? {} : { ports: [...s.discovery.ports] }),
    };
  if (s.autoscaling !== undefined) out.autoscaling = autoscaling(s.autoscaling);
  return out;
}

function jobSpec(s: z.output<typeof jobSpecSchema>, metadata: Metadata): JobSpec {
  return {
    template: normalizeTaskSpec(s.template, metadata, 'Job'),
    completions: s.completions,
    parallelism: s.parallelism ?? (s.gang ? s.completions : 1),
    gang: s.gang,
    backoffLimit: s.backoffLimit,
    ...(s.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: s.activeDeadlineSeconds }),
  };
}

/** Normalises one schema-valid document. */
export function normalizeDocument(doc: ParsedDocument): BerthDocument {
  const metadata: Metadata = {
    name: doc.metadata.name,
    tenant: doc.metadata.tenant,
    labels: { ...(doc.metadata.labels ?? {}) },
  };
  if (doc.metadata.annotations !== undefined) metadata.annotations = { ...doc.metadata.annotations };
  switch (doc.kind) {
    case 'Task':
      return {
        apiVersion: API_VERSION,
        kind: 'Task',
        metadata,
        spec: normalizeTaskSpec(doc.spec, metadata, 'Task'),
      };
    case 'Service':
      return { apiVersion: API_VERSION, kind: 'Service', metadata, spec: serviceSpec(doc.spec, metadata) };
    case 'Job':
      return { apiVersion: API_VERSION, kind: 'Job', metadata, spec: jobSpec(doc.spec, metadata) };
  }
}
