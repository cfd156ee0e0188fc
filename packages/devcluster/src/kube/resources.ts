/**
 * The resources the Kubernetes face serves: discovery facts (group, version, kind, verbs,
 * short names, categories), subresources, the field selectors each supports, and the
 * defaulting and validation that kube-apiserver applies before storing.
 */
import { isObject, type Json, type JsonObject } from './patch.ts';
import { cause, type StatusCause } from './status.ts';
import { DEFAULT_TABLE, TABLES, type TableDef } from './tables.ts';

export type Subresource = 'status' | 'scale' | 'binding' | 'eviction' | 'log';

/** How an older API version maps onto the stored one (same store key, another shape). */
export interface Conversion {
  /** This version's object → the stored version's object (`existing`: the stored object, on updates). */
  toStorage(obj: JsonObject, existing?: JsonObject): JsonObject;
  /** The stored version's object → this version's object. */
  fromStorage(obj: JsonObject): JsonObject;
}

export interface DefaultingContext {
  /** Next free IPv4 address of the service CIDR. */
  allocateClusterIP(): string;
  /** Next free port of the node-port range. */
  allocateNodePort(): number;
  /** `value` of a PriorityClass, or undefined when it does not exist. */
  priorityValue(name: string): number | undefined;
  /** The PriorityClass marked globalDefault, if any. */
  defaultPriority(): { name: string; value: number } | undefined;
}

export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly Subresource[];
  /** `metadata.generation` is bumped when anything outside metadata and status changes. */
  readonly generation: boolean;
  /** Served from the metrics provider, never stored. */
  readonly readOnly: boolean;
  /** An older version served by converting to and from the stored version's shape. */
  readonly conversion: Conversion | undefined;
  /** Field selector labels beyond metadata.name / metadata.namespace. */
  readonly fields: Readonly<Record<string, (obj: JsonObject) => string>>;
  readonly table: TableDef;
  defaults(obj: JsonObject, ctx: DefaultingContext): void;
  validate(obj: JsonObject): StatusCause[];
}

const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
] as const;

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

function at(obj: Json | undefined, path: string): Json | undefined {
  let node = obj;
  for (const p of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[p];
  }
  return node;
}

const str = (v: Json | undefined): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';

function child(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  obj[key] = fresh;
  return fresh;
}

function setDefault(obj: JsonObject, key: string, value: Json): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

const array = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);

// ---------------------------------------------------------------- names

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const NAME_RULES = {
  subdomain: {
    test: (n: string) => n.length <= 253 && SUBDOMAIN.test(n),
    message:
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  },
  label: {
    test: (n: string) => n.length <= 63 && LABEL.test(n),
    message:
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  },
  dns1035: {
    test: (n: string) => n.length <= 63 && DNS1035.test(n),
    message:
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  },
} as const;

export type NameRule = keyof typeof NAME_RULES;

// ---------------------------------------------------------------- pods

function defaultContainer(c: Json): void {
  if (!isObject(c)) return;
  const image = str(c.image);
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tagged = lastSegment.includes(':') && !lastSegment.endsWith(':latest');
  setDefault(c, 'imagePullPolicy', tagged || image.includes('@') ? 'IfNotPresent' : 'Always');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of array(c.ports)) if (isObject(p)) setDefault(p, 'protocol', 'TCP');
}

function qosClass(spec: JsonObject): string {
  const containers = [...array(spec.containers), ...array(spec.initContainers)];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = at(c, 'resources.requests');
    const lim = at(c, 'resources.limits');
    const reqs = isObject(req) ? req : {};
    const lims = isObject(lim) ? lim : {};
    if (Object.keys(reqs).length > 0 || Object.keys(lims).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lims[r];
      const q = reqs[r] ?? l;
      if (l === undefined || str(q) !== str(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Pod spec defaults (also used for the templates of deployments, replica sets and jobs). */
export function defaultPodSpec(spec: JsonObject, ctx: DefaultingContext | undefined): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'enableServiceLinks', true);
  for (const c of [...array(spec.containers), ...array(spec.initContainers)]) defaultContainer(c);
  if (ctx === undefined) return;
  // Admission-time defaults of a real control plane (ServiceAccount, Priority,
  // DefaultTolerationSeconds), applied to pods only.
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', str(spec.serviceAccountName));
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  if (spec.priority === undefined) {
    const named =
      typeof spec.priorityClassName === 'string' ? ctx.priorityValue(spec.priorityClassName) : undefined;
    const fallback = ctx.defaultPriority();
    if (named !== undefined) spec.priority = named;
    else if (fallback !== undefined && spec.priorityClassName === undefined) {
      spec.priorityClassName = fallback.name;
      spec.priority = fallback.value;
    } else spec.priority = 0;
  }
  const tolerations = array(spec.tolerations);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => isObject(t) && t.key === key && t.effect === 'NoExecute')) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec.tolerations = tolerations;
}

function validateContainers(spec: Json | undefined, base: string, out: StatusCause[]): void {
  const containers = at(spec, 'containers');
  if (!Array.isArray(containers) || containers.length === 0) {
    out.push(cause.required(`${base}.containers`));
    return;
  }
  const seen = new Set<string>();
  for (const [field, list] of [
    ['initContainers', array(at(spec, 'initContainers'))],
    ['containers', containers],
  ] as const) {
    list.forEach((c, i) => {
      const p = `${base}.${field}[${i}]`;
      const name = str(at(c, 'name'));
      if (name === '') out.push(cause.required(`${p}.name`));
      else if (!NAME_RULES.label.test(name))
        out.push(cause.invalid(`${p}.name`, name, NAME_RULES.label.message));
      else if (seen.has(name)) out.push(cause.duplicate(`${p}.name`, name));
      seen.add(name);
      if (str(at(c, 'image')) === '') out.push(cause.required(`${p}.image`));
      array(at(c, 'ports')).forEach((port, j) => {
        const n = at(port, 'containerPort');
        if (typeof n !== 'number' || n < 1 || n > 65535) {
          out.push(
            cause.invalid(`${p}.ports[${j}].containerPort`, n ?? 0, 'must be between 1 and 65535, inclusive'),
          );
        }
      });
    });
  }
  const restart = at(spec, 'restartPolicy');
  if (restart !== undefined && !['Always', 'OnFailure', 'Never'].includes(str(restart))) {
    out.push(cause.notSupported(`${base}.restartPolicy`, restart, ['Always', 'OnFailure', 'Never']));
  }
}

// ---------------------------------------------------------------- registry helpers

interface DefInput {
  group?: string;
  version?: string;
  plural: string;
  singular?: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: readonly string[];
  subresources?: Subresource[];
  generation?: boolean;
  readOnly?: boolean;
  conversion?: Conversion;
  fields?: Record<string, (obj: JsonObject) => string>;
  defaults?: (obj: JsonObject, ctx: DefaultingContext) => void;
  validate?: (obj: JsonObject) => StatusCause[];
}

function def(input: DefInput): ResourceDef {
  return {
    group: input.group ?? '',
    version: input.version ?? 'v1',
    plural: input.plural,
    singular: input.singular ?? input.kind.toLowerCase(),
    kind: input.kind,
    namespaced: input.namespaced ?? true,
    shortNames: input.shortNames ?? [],
    categories: input.categories ?? [],
    verbs: input.verbs ?? ALL_VERBS,
    subresources: input.subresources ?? [],
    generation: input.generation ?? false,
    readOnly: input.readOnly ?? false,
    conversion: input.conversion,
    fields: input.fields ?? {},
    table: TABLES[input.kind] ?? DEFAULT_TABLE,
    defaults: input.defaults ?? (() => {}),
    validate: input.validate ?? (() => []),
  };
}

const field = (path: string) => (o: JsonObject) => str(at(o, path));

function validateSelectorMatchesTemplate(o: JsonObject, out: StatusCause[]): void {
  const selector = at(o, 'spec.selector');
  if (!isObject(selector)) {
    out.push(cause.required('spec.selector'));
    return;
  }
  const match = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const expressions = array(selector.matchExpressions);
  if (Object.keys(match).length === 0 && expressions.length === 0) {
    out.push(cause.invalid('spec.selector', selector, 'empty selector is invalid for deployment'));
    return;
  }
  const labels = at(o, 'spec.template.metadata.labels');
  const l = isObject(labels) ? labels : {};
  if (Object.entries(match).some(([k, v]) => l[k] !== v)) {
    out.push(
      cause.invalid(
        'spec.template.metadata.labels',
        Object.fromEntries(Object.entries(l)),
        '`selector` does not match template `labels`',
      ),
    );
  }
}

const workloadTemplateDefaults = (o: JsonObject) => {
  const spec = child(o, 'spec');
  const template = child(spec, 'template');
  defaultPodSpec(child(template, 'spec'), undefined);
};

// ---------------------------------------------------------------- autoscaling/v1 ⇄ v2

function isCpuUtilization(m: Json): boolean {
  return (
    at(m, 'type') === 'Resource' &&
    at(m, 'resource.name') === 'cpu' &&
    at(m, 'resource.target.type') === 'Utilization'
  );
}

/** autoscaling/v1 HPAs (targetCPUUtilizationPercentage) over stored autoscaling/v2 objects. */
const HPA_V1: Conversion = {
  toStorage(obj, existing) {
    const out: JsonObject = { ...obj, apiVersion: 'autoscaling/v2' };
    const spec = isObject(obj.spec) ? { ...obj.spec } : {};
    const target = spec.targetCPUUtilizationPercentage;
    delete spec.targetCPUUtilizationPercentage;
    const kept = array(at(existing, 'spec.metrics')).filter((m) => !isCpuUtilization(m));
    const cpu =
      typeof target === 'number'
        ? [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
            },
          ]
        : [];
    spec.metrics = [...cpu, ...kept];
    out.spec = spec;
    if (isObject(obj.status)) {
      const status: JsonObject = { ...obj.status };
      const current = status.currentCPUUtilizationPercentage;
      delete status.currentCPUUtilizationPercentage;
      if (typeof current === 'number') {
        status.currentMetrics = [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } },
        ];
      }
      out.status = status;
    }
    return out;
  },
  fromStorage(obj) {
    const out: JsonObject = { ...obj, apiVersion: 'autoscaling/v1' };
    const spec = isObject(obj.spec) ? { ...obj.spec } : {};
    const cpu = array(spec.metrics).find(isCpuUtilization);
    delete spec.metrics;
    delete spec.behavior;
    const target = at(cpu, 'resource.target.averageUtilization');
    if (typeof target === 'number') spec.targetCPUUtilizationPercentage = target;
    out.spec = spec;
    if (isObject(obj.status)) {
      const status: JsonObject = { ...obj.status };
      const current = array(status.currentMetrics).find(
        (m) => at(m, 'type') === 'Resource' && at(m, 'resource.name') === 'cpu',
      );
      delete status.currentMetrics;
      delete status.conditions;
      const value = at(current, 'resource.current.averageUtilization');
      if (typeof value === 'number') status.currentCPUUtilizationPercentage = value;
      out.status = status;
    }
    return out;
  },
};

// ---------------------------------------------------------------- the resources

export const RESOURCES: readonly ResourceDef[] = [
  def({
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
    fields: { 'status.phase': field('status.phase') },
    defaults: (o) => {
      const spec = child(o, 'spec');
      setDefault(spec, 'finalizers', ['kubernetes']);
      setDefault(child(o, 'status'), 'phase', 'Active');
      const meta = child(o, 'metadata');
      child(meta, 'labels')['kubernetes.io/metadata.name'] = str(meta.name);
    },
  }),
  def({
    plural: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
    fields: { 'spec.unschedulable': (o) => (at(o, 'spec.unschedulable') === true ? 'true' : 'false') },
    defaults: (o) => {
      child(o, 'spec');
      const status = child(o, 'status');
      if (isObject(status.capacity) && status.allocatable === undefined)
        status.allocatable = { ...status.capacity };
    },
  }),
  def({
    plural: 'pods',
    kind: 'Pod',
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'binding', 'eviction', 'log'],
    fields: {
      'spec.nodeName': field('spec.nodeName'),
      'spec.restartPolicy': field('spec.restartPolicy'),
      'spec.schedulerName': field('spec.schedulerName'),
      'spec.serviceAccountName': field('spec.serviceAccountName'),
      'spec.hostNetwork': (o) => (at(o, 'spec.hostNetwork') === true ? 'true' : 'false'),
      'status.phase': field('status.phase'),
      'status.podIP': field('status.podIP'),
      'status.nominatedNodeName': field('status.nominatedNodeName'),
    },
    defaults: (o, ctx) => {
      const spec = child(o, 'spec');
      defaultPodSpec(spec, ctx);
      const status = child(o, 'status');
      setDefault(status, 'phase', 'Pending');
      setDefault(status, 'qosClass', qosClass(spec));
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      validateContainers(at(o, 'spec'), 'spec', out);
      return out;
    },
  }),
  def({
    plural: 'events',
    kind: 'Event',
    shortNames: ['ev'],
    fields: {
      'involvedObject.kind': field('involvedObject.kind'),
      'involvedObject.namespace': field('involvedObject.namespace'),
      'involvedObject.name': field('involvedObject.name'),
      'involvedObject.uid': field('involvedObject.uid'),
      'involvedObject.apiVersion': field('involvedObject.apiVersion'),
      'involvedObject.resourceVersion': field('involvedObject.resourceVersion'),
      'involvedObject.fieldPath': field('involvedObject.fieldPath'),
      reason: field('reason'),
      reportingComponent: field('reportingComponent'),
      source: field('source.component'),
      type: field('type'),
    },
    defaults: (o) => {
      const io = child(o, 'involvedObject');
      const ns = at(o, 'metadata.namespace');
      if (io.namespace === undefined && typeof ns === 'string') io.namespace = ns;
      setDefault(o, 'type', 'Normal');
      setDefault(o, 'count', 1);
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      if (str(at(o, 'involvedObject.name')) === '' && str(at(o, 'involvedObject.kind')) === '') {
        out.push(cause.required('involvedObject'));
      }
      return out;
    },
  }),
  def({
    plural: 'services',
    kind: 'Service',
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
    defaults: (o, ctx) => {
      const spec = child(o, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      const type = str(spec.type);
      if (type !== 'ExternalName') {
        if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = ctx.allocateClusterIP();
        setDefault(spec, 'clusterIPs', [spec.clusterIP]);
        if (spec.clusterIP !== 'None') {
          setDefault(spec, 'ipFamilies', ['IPv4']);
          setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
        }
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      }
      for (const p of array(spec.ports)) {
        if (!isObject(p)) continue;
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port ?? null);
        if ((type === 'NodePort' || type === 'LoadBalancer') && p.nodePort === undefined)
          p.nodePort = ctx.allocateNodePort();
      }
      if (type === 'NodePort' || type === 'LoadBalancer')
        setDefault(spec, 'externalTrafficPolicy', 'Cluster');
      if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
      const status = child(o, 'status');
      setDefault(status, 'loadBalancer', {});
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      const type = str(at(o, 'spec.type'));
      const supported = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
      if (type !== '' && !supported.includes(type))
        out.push(cause.notSupported('spec.type', type, supported));
      const ports = array(at(o, 'spec.ports'));
      if (ports.length === 0 && type !== 'ExternalName' && at(o, 'spec.clusterIP') !== 'None') {
        out.push(cause.required('spec.ports'));
      }
      ports.forEach((p, i) => {
        const n = at(p, 'port');
        if (typeof n !== 'number' || n < 1 || n > 65535) {
          out.push(cause.invalid(`spec.ports[${i}].port`, n ?? 0, 'must be between 1 and 65535, inclusive'));
        }
        if (ports.length > 1 && str(at(p, 'name')) === '') out.push(cause.required(`spec.ports[${i}].name`));
      });
      return out;
    },
  }),
  def({ plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', shortNames: ['ep'] }),
  def({
    group: 'discovery.k8s.io',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    validate: (o) => {
      const t = at(o, 'addressType');
      const supported = ['IPv4', 'IPv6', 'FQDN'];
      if (t === undefined) return [cause.required('addressType')];
      return supported.includes(str(t)) ? [] : [cause.notSupported('addressType', t, supported)];
    },
  }),
  def({
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    generation: true,
    defaults: (o) => {
      const spec = child(o, 'spec');
      setDefault(spec, 'replicas', 1);
      const strategy = child(spec, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate')
        setDefault(strategy, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      workloadTemplateDefaults(o);
      child(o, 'status');
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      validateSelectorMatchesTemplate(o, out);
      validateContainers(at(o, 'spec.template.spec'), 'spec.template.spec', out);
      const replicas = at(o, 'spec.replicas');
      if (typeof replicas === 'number' && replicas < 0) {
        out.push(cause.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
      }
      return out;
    },
  }),
  def({
    group: 'apps',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    generation: true,
    defaults: (o) => {
      setDefault(child(o, 'spec'), 'replicas', 1);
      workloadTemplateDefaults(o);
      child(o, 'status');
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      validateSelectorMatchesTemplate(o, out);
      validateContainers(at(o, 'spec.template.spec'), 'spec.template.spec', out);
      return out;
    },
  }),
  def({
    group: 'batch',
    plural: 'jobs',
    kind: 'Job',
    categories: ['all'],
    subresources: ['status'],
    generation: true,
    defaults: (o) => {
      const spec = child(o, 'spec');
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
      const template = child(spec, 'template');
      setDefault(child(template, 'spec'), 'restartPolicy', 'Never');
      workloadTemplateDefaults(o);
      if (spec.manualSelector !== true) {
        const meta = child(o, 'metadata');
        const uid = str(meta.uid);
        const name = str(meta.name);
        const labels = child(child(template, 'metadata'), 'labels');
        labels['batch.kubernetes.io/controller-uid'] = uid;
        labels['batch.kubernetes.io/job-name'] = name;
        labels['controller-uid'] = uid;
        labels['job-name'] = name;
        if (spec.selector === undefined)
          spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      }
      child(o, 'status');
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      validateContainers(at(o, 'spec.template.spec'), 'spec.template.spec', out);
      const restart = at(o, 'spec.template.spec.restartPolicy');
      if (restart !== 'Never' && restart !== 'OnFailure') {
        out.push(
          cause.notSupported('spec.template.spec.restartPolicy', restart ?? '', ['OnFailure', 'Never']),
        );
      }
      return out;
    },
  }),
  def({ group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease' }),
  def({
    group: 'scheduling.k8s.io',
    plural: 'priorityclasses',
    kind: 'PriorityClass',
    namespaced: false,
    shortNames: ['pc'],
    defaults: (o) => {
      setDefault(o, 'preemptionPolicy', 'PreemptLowerPriority');
    },
    validate: (o) => {
      const v = at(o, 'value');
      if (typeof v !== 'number') return [cause.required('value')];
      if (v > 1_000_000_000 && !str(at(o, 'metadata.name')).startsWith('system-')) {
        return [cause.forbidden('value', 'maximum allowed value of a user defined priority is 1000000000')];
      }
      return [];
    },
  }),
  def({
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: ['status'],
    generation: true,
    defaults: (o) => {
      const spec = child(o, 'spec');
      setDefault(spec, 'minReplicas', 1);
      if (array(spec.metrics).length === 0) {
        spec.metrics = [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ];
      }
    },
    validate: (o) => {
      const out: StatusCause[] = [];
      const max = at(o, 'spec.maxReplicas');
      const min = at(o, 'spec.minReplicas');
      if (typeof max !== 'number') out.push(cause.required('spec.maxReplicas'));
      else if (typeof min === 'number' && max < min) {
        out.push(cause.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
      }
      if (str(at(o, 'spec.scaleTargetRef.name')) === '') out.push(cause.required('spec.scaleTargetRef.name'));
      if (str(at(o, 'spec.scaleTargetRef.kind')) === '') out.push(cause.required('spec.scaleTargetRef.kind'));
      return out;
    },
  }),
  def({
    group: 'autoscaling',
    version: 'v1',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: ['status'],
    generation: true,
    conversion: HPA_V1,
  }),
  def({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    plural: 'pods',
    kind: 'PodMetrics',
    verbs: ['get', 'list'],
    readOnly: true,
  }),
  def({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    plural: 'nodes',
    kind: 'NodeMetrics',
    namespaced: false,
    verbs: ['get', 'list'],
    readOnly: true,
  }),
];

/** Name rule each kind's `metadata.name` must follow. */
export function nameRuleOf(def: ResourceDef): NameRule {
  if (def.kind === 'Namespace') return 'label';
  if (def.kind === 'Service') return 'dns1035';
  return 'subdomain';
}

/** The store key of a resource: `pods`, `deployments.apps`. */
export function storageKey(def: Pick<ResourceDef, 'group' | 'plural'>): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

/** Find a resource by `plural`, `plural.group` or kind (stored resources win over metrics). */
export function findResource(name: string): ResourceDef | undefined {
  return (
    RESOURCES.find((r) => !r.readOnly && (storageKey(r) === name || r.plural === name || r.kind === name)) ??
    RESOURCES.find((r) => storageKey(r) === name)
  );
}

/** Every field selector label a resource accepts. */
export function fieldLabels(def: ResourceDef): Set<string> {
  const out = new Set(['metadata.name', ...Object.keys(def.fields)]);
  if (def.namespaced) out.add('metadata.namespace');
  return out;
}

export function fieldValues(def: ResourceDef, obj: JsonObject): Record<string, string> {
  const out: Record<string, string> = {
    'metadata.name': str(at(obj, 'metadata.name')),
    'metadata.namespace': str(at(obj, 'metadata.namespace')),
  };
  for (const [label, get] of Object.entries(def.fields)) out[label] = get(obj);
  return out;
}
