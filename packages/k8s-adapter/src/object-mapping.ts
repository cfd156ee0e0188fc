/**
 * Berth documents as Kubernetes objects: Task → Pod, Service → Deployment + Service (+ a
 * HorizontalPodAutoscaler when it autoscales), Job → batch/v1 Job. Requests and limits become
 * quantities, the health check becomes liveness and readiness probes, Marathon constraints become
 * their exact Kubernetes equivalents — or, in delegate mode, are refused when there is none.
 */
import { createHash } from 'node:crypto';
import {
  type BerthDocument,
  BerthError,
  type HealthCheck,
  type JobDocument,
  type MarathonConstraint,
  type NodeSelectorTerm,
  type ServiceDocument,
  type TaskAffinityTerm,
  type TaskSpec,
} from '@berth/core';
import { COMPONENT } from './kube-errors.ts';
import { LABELS } from './records.ts';

export type SchedulingMode = 'delegate' | 'berth';

/** The scheduler name Berth scheduler mode puts on pods. */
export const BERTH_SCHEDULER_NAME = 'berth';

export interface MappingOptions {
  readonly mode: SchedulingMode;
  /** Image for tasks that give only a command (default `busybox:1.36`). */
  readonly defaultImage?: string;
  /** `spec.schedulerName` in Berth scheduler mode (default `berth`). */
  readonly schedulerName?: string;
}

type Obj = Record<string, unknown>;

/** Hostname as a Marathon field means the node's hostname label. */
const fieldKey = (field: string): string => (field === 'hostname' ? 'kubernetes.io/hostname' : field);

/** Canonical JSON (sorted keys) so equal specs hash equally. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const v = (value as { toJSON?: () => unknown }).toJSON
    ? (value as { toJSON: () => unknown }).toJSON()
    : value;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const o = v as Obj;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** A short stable hash of a document: equal documents, equal hashes. */
export function specHash(doc: BerthDocument): string {
  return createHash('sha256').update(canonical(doc)).digest('hex').slice(0, 16);
}

/** `a|b|c` of plain literals → the values; anything with regex syntax → undefined. */
function literalAlternatives(regex: string): string[] | undefined {
  const parts = regex.split('|');
  return parts.every((p) => /^[A-Za-z0-9_.-]+$/.test(p)) ? parts : undefined;
}

interface ConstraintTranslation {
  nodeSelector: Record<string, string>;
  required: NodeSelectorTerm['matchExpressions'];
  antiAffinity: Obj[];
  affinity: Obj[];
  spread: Obj[];
}

function refuse(c: MarathonConstraint, index: number, why: string): BerthError {
  const label = c.value === undefined ? `${c.field}:${c.operator}` : `${c.field}:${c.operator}:${c.value}`;
  return new BerthError(
    'UNSUPPORTED',
    `constraints[${index}] ${label} has no exact Kubernetes equivalent (${why}), so kube-scheduler cannot enforce it`,
    {
      component: COMPONENT,
      issues: [{ path: `spec.constraints[${index}]`, message: why }],
      hint: 'Use Berth scheduler mode (`mode: "berth"`, run `berth k8s scheduler`) so Berth\'s engine enforces Marathon constraints, or rewrite it as nodeSelector/affinity.',
    },
  );
}

/**
 * Marathon constraints that Kubernetes can express exactly: IS/CLUSTER with a value → nodeSelector;
 * LIKE/UNLIKE of literal alternatives → node affinity In/NotIn; UNIQUE (and MAX_PER 1) → required
 * pod anti-affinity over the field (plus a maxSkew-1 spread on hostname); CLUSTER without a value →
 * required pod affinity to its own replicas. Everything else is refused.
 */
export function translateConstraints(
  spec: TaskSpec,
  selector: Readonly<Record<string, string>>,
): ConstraintTranslation {
  const out: ConstraintTranslation = {
    nodeSelector: {},
    required: [],
    antiAffinity: [],
    affinity: [],
    spread: [],
  };
  const labelSelector = { matchLabels: { ...selector } };
  spec.constraints.forEach((c, i) => {
    const key = fieldKey(c.field);
    switch (c.operator) {
      case 'IS':
        out.nodeSelector[key] = c.value ?? '';
        return;
      case 'CLUSTER':
        if (c.value !== undefined && c.value !== '') out.nodeSelector[key] = c.value;
        else out.affinity.push({ labelSelector, topologyKey: key });
        return;
      case 'LIKE':
      case 'UNLIKE': {
        const values = literalAlternatives(c.value ?? '');
        if (values === undefined)
          throw refuse(c, i, 'a regular expression other than literal alternatives like `a|b`');
        out.required.push({ key, operator: c.operator === 'LIKE' ? 'In' : 'NotIn', values });
        return;
      }
      case 'MAX_PER':
        if (c.value !== '1') throw refuse(c, i, 'Kubernetes cannot cap tasks per domain at more than 1');
        out.antiAffinity.push({ labelSelector, topologyKey: key });
        return;
      case 'UNIQUE':
        out.antiAffinity.push({ labelSelector, topologyKey: key });
        if (key === 'kubernetes.io/hostname') {
          out.spread.push({
            maxSkew: 1,
            topologyKey: key,
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector,
          });
        }
        return;
      case 'GROUP_BY':
        throw refuse(c, i, 'topology spread balances but does not count only known values as GROUP_BY does');
    }
  });
  return out;
}

function labelSelectorJson(t: TaskAffinityTerm): Obj {
  return {
    ...(Object.keys(t.labelSelector.matchLabels).length === 0
      ? {}
      : { matchLabels: t.labelSelector.matchLabels }),
    ...(t.labelSelector.matchExpressions.length === 0
      ? {}
      : { matchExpressions: t.labelSelector.matchExpressions }),
  };
}

function podAffinityTerms(terms: readonly TaskAffinityTerm[] | undefined): {
  required: Obj[];
  preferred: Obj[];
} {
  const required: Obj[] = [];
  const preferred: Obj[] = [];
  for (const t of terms ?? []) {
    const term = {
      labelSelector: labelSelectorJson(t),
      topologyKey: fieldKey(t.topologyKey),
      ...(t.tenants === undefined ? {} : { namespaces: t.tenants }),
    };
    if (t.required) required.push(term);
    else preferred.push({ weight: t.weight, podAffinityTerm: term });
  }
  return { required, preferred };
}

function probe(h: HealthCheck, ports: TaskSpec['ports'], failureThreshold: number): Obj {
  const port = (p: string | number) => {
    if (typeof p === 'number') return p;
    const idx = ports.findIndex((x) => x.name === p);
    return idx < 0 ? p : containerPortOf(ports[idx]!, idx);
  };
  const action =
    h.type === 'command'
      ? { exec: { command: ['sh', '-c', h.command] } }
      : h.type === 'http'
        ? { httpGet: { path: h.path, port: port(h.port), scheme: h.scheme.toUpperCase() } }
        : { tcpSocket: { port: port(h.port) } };
  return {
    ...action,
    initialDelaySeconds: h.gracePeriodSeconds,
    periodSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    failureThreshold,
  };
}

/** The container port of a Berth port: its `containerPort`, else its fixed host port, else 8080 + index. */
export function containerPortOf(p: TaskSpec['ports'][number], index: number): number {
  return p.containerPort ?? p.hostPort ?? 8080 + index;
}

/** The pod template spec (no metadata) for one task of `spec`. */
export function podSpecFor(
  spec: TaskSpec,
  selector: Readonly<Record<string, string>>,
  options: MappingOptions,
  restartPolicy: 'Always' | 'OnFailure' | 'Never',
): Obj {
  const nodeSelector: Record<string, string> = { ...spec.nodeSelector };
  const requiredTerms: NodeSelectorTerm[] = [...(spec.affinity?.nodeAffinity?.required ?? [])];
  const anti = podAffinityTerms(spec.affinity?.taskAntiAffinity);
  const aff = podAffinityTerms(spec.affinity?.taskAffinity);
  const spread: Obj[] = [];
  if (options.mode === 'delegate') {
    const t = translateConstraints(spec, selector);
    Object.assign(nodeSelector, t.nodeSelector);
    if (t.required.length > 0) {
      if (requiredTerms.length === 0) requiredTerms.push({ matchExpressions: t.required });
      // Terms are ORed: the constraints must hold in every alternative.
      else
        for (let i = 0; i < requiredTerms.length; i++)
          requiredTerms[i] = { matchExpressions: [...requiredTerms[i]!.matchExpressions, ...t.required] };
    }
    anti.required.push(...t.antiAffinity);
    aff.required.push(...t.affinity);
    spread.push(...t.spread);
  }
  const preferredNode = spec.affinity?.nodeAffinity?.preferred ?? [];
  const nodeAffinity =
    requiredTerms.length === 0 && preferredNode.length === 0
      ? undefined
      : {
          ...(requiredTerms.length === 0
            ? {}
            : { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: requiredTerms } }),
          ...(preferredNode.length === 0
            ? {}
            : { preferredDuringSchedulingIgnoredDuringExecution: preferredNode }),
        };
  const block = (x: { required: Obj[]; preferred: Obj[] }) =>
    x.required.length === 0 && x.preferred.length === 0
      ? undefined
      : {
          ...(x.required.length === 0 ? {} : { requiredDuringSchedulingIgnoredDuringExecution: x.required }),
          ...(x.preferred.length === 0
            ? {}
            : { preferredDuringSchedulingIgnoredDuringExecution: x.preferred }),
        };
  const podAffinity = block(aff);
  const podAntiAffinity = block(anti);
  const affinity =
    nodeAffinity || podAffinity || podAntiAffinity
      ? {
          ...(nodeAffinity ? { nodeAffinity } : {}),
          ...(podAffinity ? { podAffinity } : {}),
          ...(podAntiAffinity ? { podAntiAffinity } : {}),
        }
      : undefined;

  let command: string[] | undefined;
  let args: string[] | undefined;
  if (spec.command !== undefined) {
    command = ['sh', '-c', spec.command];
    if (spec.args !== undefined && spec.args.length > 0) args = ['sh', ...spec.args];
  } else if (spec.image !== undefined) args = spec.args;
  else command = spec.args;

  const env: Obj[] = Object.entries(spec.env).map(([name, value]) => ({ name, value }));
  env.push({ name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
  spec.ports.forEach((p, i) => {
    env.push({ name: `PORT${i}`, value: String(p.hostPort ?? containerPortOf(p, i)) });
    env.push({
      name: `PORT_${p.name.toUpperCase().replaceAll('-', '_')}`,
      value: String(p.hostPort ?? containerPortOf(p, i)),
    });
  });
  if (spec.ports.length > 0)
    env.push({
      name: 'PORTS',
      value: spec.ports.map((p, i) => p.hostPort ?? containerPortOf(p, i)).join(','),
    });

  const limits = spec.resources.limits?.toQuantities();
  const container: Obj = {
    name: 'main',
    image: spec.image ?? options.defaultImage ?? 'busybox:1.36',
    ...(command === undefined ? {} : { command }),
    ...(args === undefined ? {} : { args }),
    env,
    resources: {
      requests: spec.resources.requests.toQuantities(),
      ...(limits === undefined || Object.keys(limits).length === 0 ? {} : { limits }),
    },
    ...(spec.ports.length === 0
      ? {}
      : {
          ports: spec.ports.map((p, i) => ({
            name: p.name,
            containerPort: containerPortOf(p, i),
            protocol: p.protocol.toUpperCase(),
            ...(p.hostPort === undefined ? {} : { hostPort: p.hostPort }),
          })),
        }),
    ...(spec.healthCheck === undefined
      ? {}
      : {
          livenessProbe: probe(spec.healthCheck, spec.ports, spec.healthCheck.maxConsecutiveFailures),
          readinessProbe: probe(spec.healthCheck, spec.ports, 1),
        }),
  };
  return {
    ...(options.mode === 'berth' ? { schedulerName: options.schedulerName ?? BERTH_SCHEDULER_NAME } : {}),
    restartPolicy,
    terminationGracePeriodSeconds: spec.killGracePeriodSeconds,
    containers: [container],
    ...(Object.keys(nodeSelector).length === 0 ? {} : { nodeSelector }),
    ...(affinity === undefined ? {} : { affinity }),
    ...(spec.tolerations.length === 0 ? {} : { tolerations: spec.tolerations }),
    ...(spread.length === 0 ? {} : { topologySpreadConstraints: spread }),
    ...(spec.priorityClassName === undefined || spec.priorityClassName === 'default'
      ? {}
      : { priorityClassName: spec.priorityClassName }),
  };
}

function restartPolicyOf(spec: TaskSpec): 'Always' | 'OnFailure' | 'Never' {
  switch (spec.restartPolicy.policy) {
    case 'always':
      return 'Always';
    case 'on-failure':
      return 'OnFailure';
    default:
      return 'Never';
  }
}

/** Labels and annotations Berth sets on everything it creates for `doc`. */
function berthMeta(
  doc: BerthDocument,
  spec: TaskSpec,
  mode: SchedulingMode,
): { labels: Obj; annotations: Obj } {
  const kind = doc.kind;
  const labels: Record<string, string> = {
    ...spec.labels,
    [LABELS.managed]: 'true',
    [LABELS.tenant]: doc.metadata.tenant,
  };
  if (kind === 'Service') labels[LABELS.service] = doc.metadata.name;
  if (kind === 'Job') labels[LABELS.job] = doc.metadata.name;
  const annotations: Record<string, string> = {
    ...doc.metadata.annotations,
    [LABELS.specHash]: specHash(doc),
  };
  if (mode === 'berth' && spec.constraints.length > 0)
    annotations['berth.dev/constraints'] = JSON.stringify(spec.constraints);
  if (spec.ports.length > 0)
    annotations[LABELS.ports] = JSON.stringify(
      Object.fromEntries(spec.ports.map((p, i) => [p.name, p.hostPort ?? containerPortOf(p, i)])),
    );
  if (spec.healthCheck !== undefined) annotations[LABELS.healthCheck] = spec.healthCheck.type;
  return { labels, annotations };
}

/** Task → Pod; the pod's name is the task id. */
export function podForTask(doc: BerthDocument & { kind: 'Task' }, options: MappingOptions): Obj {
  const spec = doc.spec;
  const { labels, annotations } = berthMeta(doc, spec, options.mode);
  labels[LABELS.taskId] = doc.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: doc.metadata.name, namespace: doc.metadata.tenant, labels, annotations },
    spec: podSpecFor(spec, { [LABELS.taskId]: doc.metadata.name }, options, restartPolicyOf(spec)),
  };
}

/** Service → Deployment (+ a Service when it has ports, + an HPA when it autoscales). */
export function objectsForService(
  doc: ServiceDocument,
  options: MappingOptions & { readonly autoscalingVersion?: string },
): { deployment: Obj; service?: Obj; hpa?: Obj } {
  const spec = doc.spec.template;
  const { labels, annotations } = berthMeta(doc, spec, options.mode);
  const selector = { [LABELS.service]: doc.metadata.name };
  const ns = doc.metadata.tenant;
  const deployment: Obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: doc.metadata.name, namespace: ns, labels, annotations },
    spec: {
      replicas: doc.spec.autoscaling?.minReplicas ?? doc.spec.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations },
        spec: podSpecFor(spec, selector, options, 'Always'),
      },
    },
  };
  if (doc.spec.autoscaling === undefined) (deployment.spec as Obj).replicas = doc.spec.replicas;
  const published = spec.ports.filter(
    (p) => doc.spec.discovery?.ports === undefined || doc.spec.discovery.ports.includes(p.name),
  );
  const service =
    published.length === 0
      ? undefined
      : {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: {
            name: doc.spec.discovery?.name ?? doc.metadata.name,
            namespace: ns,
            labels,
            annotations,
          },
          spec: {
            selector,
            ports: published.map((p) => {
              const i = spec.ports.indexOf(p);
              return {
                name: p.name,
                port: containerPortOf(p, i),
                targetPort: containerPortOf(p, i),
                protocol: p.protocol.toUpperCase(),
              };
            }),
          },
        };
  const a = doc.spec.autoscaling;
  const hpa =
    a === undefined
      ? undefined
      : {
          apiVersion: `autoscaling/${options.autoscalingVersion ?? 'v2'}`,
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: doc.metadata.name, namespace: ns, labels, annotations },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: doc.metadata.name },
            minReplicas: a.minReplicas,
            maxReplicas: a.maxReplicas,
            metrics: a.metrics.map((m) => ({
              type: 'Resource',
              resource: {
                name: m.resource,
                target: { type: 'Utilization', averageUtilization: m.targetAverageUtilization },
              },
            })),
            ...(a.behavior === undefined ? {} : { behavior: a.behavior }),
          },
        };
  return { deployment, ...(service ? { service } : {}), ...(hpa ? { hpa } : {}) };
}

/** Job → batch/v1 Job. A gang job's pods carry the gang name and size for the Berth scheduler. */
export function jobFor(doc: JobDocument, options: MappingOptions): Obj {
  const spec = doc.spec.template;
  const { labels, annotations } = berthMeta(doc, spec, options.mode);
  const selector = { [LABELS.job]: doc.metadata.name };
  const podLabels: Record<string, string> = { ...(labels as Record<string, string>) };
  if (doc.spec.gang) {
    podLabels[LABELS.gang] = doc.metadata.name;
    podLabels[LABELS.gangSize] = String(doc.spec.parallelism);
  }
  const restart = restartPolicyOf(spec) === 'Never' ? 'Never' : 'OnFailure';
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: doc.metadata.name, namespace: doc.metadata.tenant, labels, annotations },
    spec: {
      completions: doc.spec.completions,
      parallelism: doc.spec.parallelism,
      backoffLimit: doc.spec.backoffLimit,
      ...(doc.spec.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: doc.spec.activeDeadlineSeconds }),
      template: {
        metadata: { labels: podLabels, annotations },
        spec: podSpecFor(spec, selector, options, restart),
      },
    },
  };
}
