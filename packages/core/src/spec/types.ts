/**
 * The normalised documents that `parseDocuments` / `validateDocument` produce. Every default is
 * filled in, quantities are parsed into exact integer `Resources`, named priority classes are
 * resolved, Marathon constraint triples are objects. Code downstream of validation (placement,
 * adapters, CLI) reads only these types, never raw YAML.
 */
import type { Resources } from '../resources/index.ts';

export const API_VERSION = 'berth.dev/v1' as const;
export type ApiVersion = typeof API_VERSION;

export const DOCUMENT_KINDS = ['Task', 'Service', 'Job'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface Metadata {
  /** DNS-1123 label: lowercase letters, digits and '-', at most 63 characters. */
  name: string;
  /** Mesos role / Kubernetes namespace. Default `default`. */
  tenant: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface TaskDocument {
  apiVersion: ApiVersion;
  kind: 'Task';
  metadata: Metadata;
  spec: TaskSpec;
}

export interface ServiceDocument {
  apiVersion: ApiVersion;
  kind: 'Service';
  metadata: Metadata;
  spec: ServiceSpec;
}

export interface JobDocument {
  apiVersion: ApiVersion;
  kind: 'Job';
  metadata: Metadata;
  spec: JobSpec;
}

export type BerthDocument = TaskDocument | ServiceDocument | JobDocument;

// ---------------------------------------------------------------------------------------------
// Task

export type PortProtocol = 'tcp' | 'udp';

export interface PortSpec {
  /** IANA service name as Kubernetes requires: lowercase, digits, '-', at most 15 characters. */
  name: string;
  /** A fixed host port; absent = dynamic (the backend picks one from the node's port ranges). */
  hostPort?: number;
  /** The port the process listens on inside its container, when it differs from the host port. */
  containerPort?: number;
  protocol: PortProtocol;
}

export interface ResourceRequirements {
  requests: Resources;
  /** When set, never lower than `requests` for any resource (requests copy missing limits). */
  limits?: Resources;
}

/** Named priority classes and the integer each resolves to (higher runs first, may preempt lower). */
export const PRIORITY_CLASSES = {
  'system-critical': 2_000_000_000,
  high: 1000,
  default: 0,
  low: -1000,
  batch: -2000,
} as const satisfies Record<string, number>;
export type PriorityClassName = keyof typeof PRIORITY_CLASSES;

export const CONSTRAINT_OPERATORS = [
  'UNIQUE',
  'CLUSTER',
  'GROUP_BY',
  'LIKE',
  'UNLIKE',
  'MAX_PER',
  'IS',
] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/**
 * A Marathon constraint, written in YAML as `[field, OPERATOR, value?]`. `field` is `hostname`
 * or any agent attribute / node label. `value` is a regex for LIKE/UNLIKE, a positive integer
 * for MAX_PER and (optionally) GROUP_BY, the exact value for IS and (optionally) CLUSTER, and
 * absent for UNIQUE.
 */
export interface MarathonConstraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

export const NODE_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;
export type NodeSelectorOperator = (typeof NODE_SELECTOR_OPERATORS)[number];

/** Kubernetes semantics: In/NotIn need ≥1 value, Exists/DoesNotExist none, Gt/Lt one integer. */
export interface NodeSelectorRequirement {
  key: string;
  operator: NodeSelectorOperator;
  values: string[];
}

/** All expressions of one term must match (AND); terms of a list are alternatives (OR). */
export interface NodeSelectorTerm {
  matchExpressions: NodeSelectorRequirement[];
}

export interface PreferredNodeSelectorTerm {
  /** 1–100, added to a node's score when the preference matches. */
  weight: number;
  preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  /** The node must match at least one term (Kubernetes requiredDuringSchedulingIgnoredDuringExecution). */
  required?: NodeSelectorTerm[];
  /** Soft preferences (Kubernetes preferredDuringSchedulingIgnoredDuringExecution). */
  preferred?: PreferredNodeSelectorTerm[];
}

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type LabelSelectorOperator = (typeof LABEL_SELECTOR_OPERATORS)[number];

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values: string[];
}

/** Kubernetes LabelSelector: matchLabels AND matchExpressions. */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

interface TaskAffinityTermBase {
  /** Selects the other tasks (by their labels). */
  labelSelector: LabelSelector;
  /** Node label / agent attribute whose value defines a domain, e.g. `hostname`, `topology.kubernetes.io/zone`. */
  topologyKey: string;
  /** Tenants whose tasks are considered; absent = the task's own tenant. */
  tenants?: string[];
}

/**
 * A task (pod) affinity or anti-affinity term. Without `weight` in YAML it is a hard rule
 * (`required: true`); with `weight` (1–100) a soft preference (`required: false`).
 */
export type TaskAffinityTerm = TaskAffinityTermBase &
  ({ required: true } | { required: false; weight: number });

export interface Affinity {
  nodeAffinity?: NodeAffinity;
  taskAffinity?: TaskAffinityTerm[];
  taskAntiAffinity?: TaskAffinityTerm[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** Kubernetes toleration. No `key` with `Exists` tolerates every taint; no `effect` matches all effects. */
export interface Toleration {
  key?: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect?: TaintEffect;
  /** Only with effect NoExecute: how long the task stays bound after the taint appears. */
  tolerationSeconds?: number;
}

export type RestartPolicy =
  | { policy: 'never' }
  | { policy: 'on-failure'; maxRetries: number; backoffSeconds: number; maxBackoffSeconds: number }
  | { policy: 'always'; backoffSeconds: number; maxBackoffSeconds: number };

export type HealthCheckProbe =
  | { type: 'command'; command: string }
  | { type: 'http'; port: string | number; path: string; scheme: 'http' | 'https' }
  | { type: 'tcp'; port: string | number };

export interface HealthCheckTiming {
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Failures during this time after start are not counted. */
  gracePeriodSeconds: number;
  maxConsecutiveFailures: number;
}

/** `port` is a declared port name or a container port number. */
export type HealthCheck = HealthCheckProbe & HealthCheckTiming;

export interface TaskSpec {
  /** The document's `metadata.name` (for a template: the Service's or Job's name). */
  name: string;
  /** Run through a shell (`sh -c`). */
  command?: string;
  /** Argument vector; with `image` the container's args, without it the executable + args. */
  args?: string[];
  image?: string;
  env: Record<string, string>;
  resources: ResourceRequirements;
  ports: PortSpec[];
  /** Integer; higher is placed first and may preempt lower. */
  priority: number;
  /** The named class `priority` was resolved from, when one was used. */
  priorityClassName?: string;
  /** `metadata.tenant`: the Mesos role / Kubernetes namespace. */
  tenant: string;
  constraints: MarathonConstraint[];
  nodeSelector: Record<string, string>;
  affinity?: Affinity;
  tolerations: Toleration[];
  restartPolicy: RestartPolicy;
  healthCheck?: HealthCheck;
  killGracePeriodSeconds: number;
  /** `metadata.labels` overlaid with the task's own `labels`. */
  labels: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Service

export interface DiscoverySpec {
  /** DNS-1123 label the service is published under. */
  name: string;
  /** Names of the template's ports to publish; absent = all. */
  ports?: string[];
}

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

export interface AutoscalingMetric {
  resource: 'cpu' | 'memory';
  /** Percent of the requested amount, averaged over replicas. */
  targetAverageUtilization: number;
}

export interface AutoscalingSpec {
  minReplicas: number;
  maxReplicas: number;
  metrics: AutoscalingMetric[];
  /** Validation always fills both sides (Kubernetes HPA v2 defaults). */
  behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
}

export interface ServiceSpec {
  template: TaskSpec;
  replicas: number;
  discovery?: DiscoverySpec;
  autoscaling?: AutoscalingSpec;
}

// ---------------------------------------------------------------------------------------------
// Job

export interface JobSpec {
  template: TaskSpec;
  /** Successful tasks needed for the job to finish. */
  completions: number;
  /** Tasks running at once. */
  parallelism: number;
  /** Place all `parallelism` tasks at once or none (all-or-nothing). */
  gang: boolean;
  /** Failed tasks tolerated before the job fails. */
  backoffLimit: number;
  activeDeadlineSeconds?: number;
}
