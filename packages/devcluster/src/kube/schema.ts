/**
 * A compact description of the fields of each stored kind. One description serves two ends:
 * server-side field validation (`fieldValidation=Strict|Warn` reports unknown fields by path,
 * as `unknown field "spec.containers[0].imagee"`) and the OpenAPI v3 documents kubectl reads.
 * Sub-trees written as `any` are accepted without checks (documented as a difference).
 */
import { isObject, type Json } from './patch.ts';

export type SchemaNode =
  | { readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'date-time' }
  | {
      readonly type: 'object';
      readonly props: Readonly<Record<string, SchemaNode>>;
      readonly description?: string;
    }
  | { readonly type: 'array'; readonly items: SchemaNode }
  | { readonly type: 'map'; readonly values: SchemaNode }
  | { readonly type: 'any' };

export const str: SchemaNode = { type: 'string' };
export const int: SchemaNode = { type: 'integer' };
export const num: SchemaNode = { type: 'number' };
export const bool: SchemaNode = { type: 'boolean' };
export const intOrString: SchemaNode = { type: 'int-or-string' };
export const time: SchemaNode = { type: 'date-time' };
export const any: SchemaNode = { type: 'any' };
export const obj = (props: Record<string, SchemaNode>): SchemaNode => ({ type: 'object', props });
export const arr = (items: SchemaNode): SchemaNode => ({ type: 'array', items });
export const map = (values: SchemaNode): SchemaNode => ({ type: 'map', values });
const strMap = map(str);
const quantityMap = map(intOrString);

export const objectMeta = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: int,
  labels: strMap,
  annotations: strMap,
  ownerReferences: arr(
    obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }),
  ),
  finalizers: arr(str),
  managedFields: arr(any),
});

const labelSelector = obj({
  matchLabels: strMap,
  matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) })),
});

const resources = obj({ limits: quantityMap, requests: quantityMap, claims: arr(any) });

const container = obj({
  name: str,
  image: str,
  command: arr(str),
  args: arr(str),
  workingDir: str,
  ports: arr(obj({ name: str, hostPort: int, containerPort: int, protocol: str, hostIP: str })),
  envFrom: arr(any),
  env: arr(obj({ name: str, value: str, valueFrom: any })),
  resources,
  resizePolicy: arr(any),
  restartPolicy: str,
  volumeMounts: arr(
    obj({
      name: str,
      readOnly: bool,
      recursiveReadOnly: str,
      mountPath: str,
      subPath: str,
      mountPropagation: str,
      subPathExpr: str,
    }),
  ),
  volumeDevices: arr(any),
  livenessProbe: any,
  readinessProbe: any,
  startupProbe: any,
  lifecycle: any,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  imagePullPolicy: str,
  securityContext: any,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
  targetContainerName: str,
});

const toleration = obj({ key: str, operator: str, value: str, effect: str, tolerationSeconds: int });

export const podSpec = obj({
  volumes: arr(any),
  initContainers: arr(container),
  containers: arr(container),
  ephemeralContainers: arr(container),
  restartPolicy: str,
  terminationGracePeriodSeconds: int,
  activeDeadlineSeconds: int,
  dnsPolicy: str,
  nodeSelector: strMap,
  serviceAccountName: str,
  serviceAccount: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  shareProcessNamespace: bool,
  securityContext: any,
  imagePullSecrets: arr(obj({ name: str })),
  hostname: str,
  subdomain: str,
  affinity: any,
  schedulerName: str,
  tolerations: arr(toleration),
  hostAliases: arr(obj({ ip: str, hostnames: arr(str) })),
  priorityClassName: str,
  priority: int,
  dnsConfig: any,
  readinessGates: arr(obj({ conditionType: str })),
  runtimeClassName: str,
  enableServiceLinks: bool,
  preemptionPolicy: str,
  overhead: quantityMap,
  topologySpreadConstraints: arr(any),
  setHostnameAsFQDN: bool,
  os: obj({ name: str }),
  hostUsers: bool,
  schedulingGates: arr(obj({ name: str })),
  resourceClaims: arr(any),
  resources,
});

const condition = obj({
  type: str,
  status: str,
  observedGeneration: int,
  lastProbeTime: time,
  lastHeartbeatTime: time,
  lastUpdateTime: time,
  lastTransitionTime: time,
  reason: str,
  message: str,
});

const podStatus = obj({
  phase: str,
  conditions: arr(condition),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: arr(obj({ ip: str })),
  podIP: str,
  podIPs: arr(obj({ ip: str })),
  startTime: time,
  initContainerStatuses: arr(any),
  containerStatuses: arr(any),
  qosClass: str,
  ephemeralContainerStatuses: arr(any),
  resize: str,
  resourceClaimStatuses: arr(any),
  observedGeneration: int,
});

export const podTemplate = obj({ metadata: objectMeta, spec: podSpec });

const servicePort = obj({
  name: str,
  protocol: str,
  appProtocol: str,
  port: int,
  targetPort: intOrString,
  nodePort: int,
});

/** Top-level fields per kind (apiVersion, kind and metadata are added for every kind). */
export const KIND_FIELDS: Readonly<Record<string, Readonly<Record<string, SchemaNode>>>> = {
  Namespace: { spec: obj({ finalizers: arr(str) }), status: obj({ phase: str, conditions: arr(condition) }) },
  Node: {
    spec: obj({
      podCIDR: str,
      podCIDRs: arr(str),
      providerID: str,
      unschedulable: bool,
      taints: arr(obj({ key: str, value: str, effect: str, timeAdded: time })),
      configSource: any,
      externalID: str,
    }),
    status: obj({
      capacity: quantityMap,
      allocatable: quantityMap,
      phase: str,
      conditions: arr(condition),
      addresses: arr(obj({ type: str, address: str })),
      daemonEndpoints: any,
      nodeInfo: any,
      images: arr(any),
      volumesInUse: arr(str),
      volumesAttached: arr(any),
      config: any,
      runtimeHandlers: arr(any),
      features: any,
    }),
  },
  Pod: { spec: podSpec, status: podStatus },
  Binding: { target: obj({ apiVersion: str, kind: str, name: str, namespace: str, uid: str }) },
  Eviction: { deleteOptions: any },
  Event: {
    involvedObject: obj({
      kind: str,
      namespace: str,
      name: str,
      uid: str,
      apiVersion: str,
      resourceVersion: str,
      fieldPath: str,
    }),
    reason: str,
    message: str,
    source: obj({ component: str, host: str }),
    firstTimestamp: time,
    lastTimestamp: time,
    count: int,
    type: str,
    eventTime: time,
    series: any,
    action: str,
    related: any,
    reportingComponent: str,
    reportingInstance: str,
  },
  Service: {
    spec: obj({
      ports: arr(servicePort),
      selector: strMap,
      clusterIP: str,
      clusterIPs: arr(str),
      type: str,
      externalIPs: arr(str),
      sessionAffinity: str,
      loadBalancerIP: str,
      loadBalancerSourceRanges: arr(str),
      externalName: str,
      externalTrafficPolicy: str,
      healthCheckNodePort: int,
      publishNotReadyAddresses: bool,
      sessionAffinityConfig: any,
      ipFamilies: arr(str),
      ipFamilyPolicy: str,
      allocateLoadBalancerNodePorts: bool,
      loadBalancerClass: str,
      internalTrafficPolicy: str,
      trafficDistribution: str,
    }),
    status: obj({ loadBalancer: any, conditions: arr(condition) }),
  },
  Endpoints: {
    subsets: arr(obj({ addresses: arr(any), notReadyAddresses: arr(any), ports: arr(any) })),
  },
  EndpointSlice: { addressType: str, endpoints: arr(any), ports: arr(any) },
  Deployment: {
    spec: obj({
      replicas: int,
      selector: labelSelector,
      template: podTemplate,
      strategy: obj({
        type: str,
        rollingUpdate: obj({ maxUnavailable: intOrString, maxSurge: intOrString }),
      }),
      minReadySeconds: int,
      revisionHistoryLimit: int,
      paused: bool,
      progressDeadlineSeconds: int,
    }),
    status: obj({
      observedGeneration: int,
      replicas: int,
      updatedReplicas: int,
      readyReplicas: int,
      availableReplicas: int,
      unavailableReplicas: int,
      terminatingReplicas: int,
      conditions: arr(condition),
      collisionCount: int,
    }),
  },
  ReplicaSet: {
    spec: obj({ replicas: int, minReadySeconds: int, selector: labelSelector, template: podTemplate }),
    status: obj({
      replicas: int,
      fullyLabeledReplicas: int,
      readyReplicas: int,
      availableReplicas: int,
      terminatingReplicas: int,
      observedGeneration: int,
      conditions: arr(condition),
    }),
  },
  Scale: {
    spec: obj({ replicas: int }),
    status: obj({ replicas: int, selector: str }),
  },
  Job: {
    spec: obj({
      parallelism: int,
      completions: int,
      activeDeadlineSeconds: int,
      podFailurePolicy: any,
      successPolicy: any,
      backoffLimit: int,
      backoffLimitPerIndex: int,
      maxFailedIndexes: int,
      selector: labelSelector,
      manualSelector: bool,
      template: podTemplate,
      ttlSecondsAfterFinished: int,
      completionMode: str,
      suspend: bool,
      podReplacementPolicy: str,
      managedBy: str,
    }),
    status: obj({
      conditions: arr(condition),
      startTime: time,
      completionTime: time,
      active: int,
      succeeded: int,
      failed: int,
      terminating: int,
      completedIndexes: str,
      failedIndexes: str,
      uncountedTerminatedPods: any,
      ready: int,
    }),
  },
  Lease: {
    spec: obj({
      holderIdentity: str,
      leaseDurationSeconds: int,
      acquireTime: time,
      renewTime: time,
      leaseTransitions: int,
      strategy: str,
      preferredHolder: str,
    }),
  },
  PriorityClass: { value: int, globalDefault: bool, description: str, preemptionPolicy: str },
  HorizontalPodAutoscaler: {
    spec: obj({
      scaleTargetRef: obj({ kind: str, name: str, apiVersion: str }),
      minReplicas: int,
      maxReplicas: int,
      metrics: arr(any),
      behavior: any,
    }),
    status: obj({
      observedGeneration: int,
      lastScaleTime: time,
      currentReplicas: int,
      desiredReplicas: int,
      currentMetrics: arr(any),
      conditions: arr(condition),
    }),
  },
  'autoscaling/v1 HorizontalPodAutoscaler': {
    spec: obj({
      scaleTargetRef: obj({ kind: str, name: str, apiVersion: str }),
      minReplicas: int,
      maxReplicas: int,
      targetCPUUtilizationPercentage: int,
    }),
    status: obj({
      observedGeneration: int,
      lastScaleTime: time,
      currentReplicas: int,
      desiredReplicas: int,
      currentCPUUtilizationPercentage: int,
    }),
  },
  PodMetrics: { timestamp: time, window: str, containers: arr(obj({ name: str, usage: quantityMap })) },
  NodeMetrics: { timestamp: time, window: str, usage: quantityMap },
};

/** The schema of a kind; `apiVersion` picks a version-specific shape where one is declared. */
export function kindSchema(kind: string, apiVersion = ''): SchemaNode {
  const fields = KIND_FIELDS[`${apiVersion} ${kind}`] ?? KIND_FIELDS[kind] ?? {};
  return obj({ apiVersion: str, kind: str, metadata: objectMeta, ...fields });
}

export interface FieldProblems {
  /** Paths of fields the schema does not declare, e.g. `spec.containers[0].imagee`. */
  readonly unknown: string[];
  /** Type mismatches, e.g. `.spec.containers: expected array, got string`. */
  readonly mistyped: string[];
}

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Walk `value` against `schema`, collecting unknown and mistyped fields (null is always fine). */
export function checkFields(schema: SchemaNode, value: Json, prune = false): FieldProblems {
  const problems: FieldProblems = { unknown: [], mistyped: [] };
  walk(schema, value, '', problems, prune);
  return problems;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** With `prune`, unknown fields are also deleted from `value` in place (what decoding does). */
function walk(schema: SchemaNode, value: Json, path: string, out: FieldProblems, prune: boolean): void {
  if (value === null || schema.type === 'any') return;
  const actual = jsonType(value);
  const mistyped = (expected: string) => out.mistyped.push(`${path}: expected ${expected}, got ${actual}`);
  switch (schema.type) {
    case 'string':
    case 'date-time':
      if (actual !== 'string') mistyped('string');
      return;
    case 'integer':
      if (actual !== 'number' || !Number.isInteger(value)) mistyped('integer');
      return;
    case 'number':
      if (actual !== 'number') mistyped('number');
      return;
    case 'boolean':
      if (actual !== 'boolean') mistyped('boolean');
      return;
    case 'int-or-string':
      if (actual !== 'string' && actual !== 'number') mistyped('integer or string');
      return;
    case 'array':
      if (!Array.isArray(value)) {
        mistyped('array');
        return;
      }
      value.forEach((item, i) => {
        walk(schema.items, item, `${path}[${i}]`, out, prune);
      });
      return;
    case 'map':
      if (!isObject(value)) {
        mistyped('object');
        return;
      }
      for (const [k, v] of Object.entries(value)) walk(schema.values, v, join(path, k), out, prune);
      return;
    case 'object':
      if (!isObject(value)) {
        mistyped('object');
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const child = schema.props[k];
        if (child === undefined) {
          out.unknown.push(join(path, k));
          if (prune) delete value[k];
        } else walk(child, v, join(path, k), out, prune);
      }
      return;
  }
}

/** The OpenAPI v3 schema object for a node (inline, no $ref). */
export function toOpenApi(schema: SchemaNode): JsonSchema {
  switch (schema.type) {
    case 'string':
      return { type: 'string' };
    case 'date-time':
      return { type: 'string', format: 'date-time' };
    case 'integer':
      return { type: 'integer', format: 'int64' };
    case 'number':
      return { type: 'number', format: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'int-or-string':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'array':
      return { type: 'array', items: toOpenApi(schema.items) };
    case 'map':
      return { type: 'object', additionalProperties: toOpenApi(schema.values) };
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const [k, v] of Object.entries(schema.props)) properties[k] = toOpenApi(v);
      return { type: 'object', properties };
    }
  }
}

export type JsonSchema = { readonly [key: string]: Json | JsonSchema };
