/**
 * `meta.k8s.io/v1` Table conversion: the columns `kubectl get` prints for each kind, computed
 * server-side as kube-apiserver's printers do (priority 1 columns appear with `-o wide`).
 */
import { isObject, type Json, type JsonObject } from './patch.ts';

export interface TableColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export interface TableDef {
  readonly columns: readonly TableColumn[];
  cells(obj: JsonObject, now: number): Json[];
}

const col = (name: string, type: TableColumn['type'] = 'string', priority = 0, format = ''): TableColumn => ({
  name,
  type,
  format,
  description: `${name} column`,
  priority,
});

/** apimachinery's HumanDuration: 45s, 3m20s, 15m, 5h3m, 2d4h, 120d, 3y40d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

function get(obj: Json | undefined, path: string): Json | undefined {
  let node: Json | undefined = obj;
  for (const part of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

const s = (v: Json | undefined, fallback = '<none>'): string =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : fallback;
const n = (v: Json | undefined): number => (typeof v === 'number' ? v : 0);
const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);

function age(obj: JsonObject, now: number): string {
  const ts = get(obj, 'metadata.creationTimestamp');
  if (typeof ts !== 'string') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

function podStatusText(pod: JsonObject): string {
  if (typeof get(pod, 'metadata.deletionTimestamp') === 'string') return 'Terminating';
  const reason = get(pod, 'status.reason');
  let text = s(reason, '') || s(get(pod, 'status.phase'), 'Pending');
  for (const cs of list(get(pod, 'status.containerStatuses'))) {
    const waiting = get(cs, 'state.waiting.reason');
    const terminated = get(cs, 'state.terminated.reason');
    if (typeof waiting === 'string' && waiting !== '') text = waiting;
    else if (typeof terminated === 'string' && terminated !== '') text = terminated;
  }
  return text;
}

function podCells(pod: JsonObject, now: number): Json[] {
  const statuses = list(get(pod, 'status.containerStatuses'));
  const total = list(get(pod, 'spec.containers')).length;
  const ready = statuses.filter((c) => get(c, 'ready') === true).length;
  const restarts = statuses.reduce<number>((sum, c) => sum + n(get(c, 'restartCount')), 0);
  const gates = list(get(pod, 'spec.readinessGates'));
  const gateText =
    gates.length === 0
      ? '<none>'
      : `${gates.filter((g) => list(get(pod, 'status.conditions')).some((c) => get(c, 'type') === get(g, 'conditionType') && get(c, 'status') === 'True')).length}/${gates.length}`;
  return [
    s(get(pod, 'metadata.name')),
    `${ready}/${total}`,
    podStatusText(pod),
    restarts,
    age(pod, now),
    s(get(pod, 'status.podIP')),
    s(get(pod, 'spec.nodeName')),
    s(get(pod, 'status.nominatedNodeName')),
    gateText,
  ];
}

function nodeCells(node: JsonObject, now: number): Json[] {
  const conditions = list(get(node, 'status.conditions'));
  const readyCond = conditions.find((c) => get(c, 'type') === 'Ready');
  let status =
    readyCond === undefined ? 'Unknown' : get(readyCond, 'status') === 'True' ? 'Ready' : 'NotReady';
  if (get(node, 'spec.unschedulable') === true) status += ',SchedulingDisabled';
  const labels = get(node, 'metadata.labels');
  const roles = isObject(labels)
    ? Object.keys(labels)
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .filter((r) => r !== '')
    : [];
  const addresses = list(get(node, 'status.addresses'));
  const addr = (type: string) =>
    s(
      get(
        addresses.find((a) => get(a, 'type') === type),
        'address',
      ),
    );
  return [
    s(get(node, 'metadata.name')),
    status,
    roles.length === 0 ? '<none>' : roles.sort().join(','),
    age(node, now),
    s(get(node, 'status.nodeInfo.kubeletVersion'), ''),
    addr('InternalIP'),
    addr('ExternalIP'),
    s(get(node, 'status.nodeInfo.osImage'), '<unknown>'),
    s(get(node, 'status.nodeInfo.kernelVersion'), '<unknown>'),
    s(get(node, 'status.nodeInfo.containerRuntimeVersion'), '<unknown>'),
  ];
}

/** `cpu: 40%/50%` per resource metric (`<unknown>` until measured), as kubectl shows targets. */
function hpaTargets(hpa: JsonObject): string {
  const v1Target = get(hpa, 'spec.targetCPUUtilizationPercentage');
  if (typeof v1Target === 'number') {
    const current = get(hpa, 'status.currentCPUUtilizationPercentage');
    return `cpu: ${typeof current === 'number' ? `${current}%` : '<unknown>'}/${v1Target}%`;
  }
  const current = list(get(hpa, 'status.currentMetrics'));
  const parts = list(get(hpa, 'spec.metrics')).map((m) => {
    const name = s(get(m, 'resource.name'), s(get(m, 'type'), 'metric'));
    const target = get(m, 'resource.target.averageUtilization');
    const now = get(
      current.find((c) => get(c, 'resource.name') === name),
      'resource.current.averageUtilization',
    );
    const shown = typeof now === 'number' ? `${now}%` : '<unknown>';
    return typeof target === 'number' ? `${name}: ${shown}/${target}%` : `${name}: ${shown}`;
  });
  return parts.length === 0 ? '<none>' : parts.join(', ');
}

function servicePorts(svc: JsonObject): string {
  const ports = list(get(svc, 'spec.ports')).map((p) => {
    const node = get(p, 'nodePort');
    return `${n(get(p, 'port'))}${typeof node === 'number' ? `:${node}` : ''}/${s(get(p, 'protocol'), 'TCP')}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

function selectorText(sel: Json | undefined): string {
  if (!isObject(sel)) return '<none>';
  const parts = Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? '<none>' : parts.sort().join(',');
}

function labelSelectorText(sel: Json | undefined): string {
  if (!isObject(sel)) return '<none>';
  const parts = Object.entries(isObject(sel.matchLabels) ? sel.matchLabels : {}).map(
    ([k, v]) => `${k}=${String(v)}`,
  );
  for (const e of list(sel.matchExpressions)) {
    const values = list(get(e, 'values')).map(String).join(',');
    const op = s(get(e, 'operator'), '');
    const key = s(get(e, 'key'), '');
    if (op === 'In') parts.push(`${key} in (${values})`);
    else if (op === 'NotIn') parts.push(`${key} notin (${values})`);
    else if (op === 'Exists') parts.push(key);
    else if (op === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

function containersOf(obj: JsonObject, path: string): [string, string] {
  const cs = list(get(obj, path));
  return [cs.map((c) => s(get(c, 'name'), '')).join(','), cs.map((c) => s(get(c, 'image'), '')).join(',')];
}

export const TABLES: Readonly<Record<string, TableDef>> = {
  Pod: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Ready'),
      col('Status'),
      col('Restarts', 'string'),
      col('Age'),
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    cells: podCells,
  },
  Node: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Status'),
      col('Roles'),
      col('Age'),
      col('Version'),
      col('Internal-IP', 'string', 1),
      col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1),
      col('Kernel-Version', 'string', 1),
      col('Container-Runtime', 'string', 1),
    ],
    cells: nodeCells,
  },
  Namespace: {
    columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
    cells: (o, now) => [s(get(o, 'metadata.name')), s(get(o, 'status.phase'), 'Active'), age(o, now)],
  },
  Service: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      col('Age'),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => {
      const type = s(get(o, 'spec.type'), 'ClusterIP');
      const external = list(get(o, 'spec.externalIPs')).map(String);
      const ext =
        type === 'ExternalName'
          ? s(get(o, 'spec.externalName'))
          : external.length > 0
            ? external.join(',')
            : type === 'LoadBalancer'
              ? '<pending>'
              : '<none>';
      return [
        s(get(o, 'metadata.name')),
        type,
        s(get(o, 'spec.clusterIP')),
        ext,
        servicePorts(o),
        age(o, now),
        selectorText(get(o, 'spec.selector')),
      ];
    },
  },
  Deployment: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      col('Age'),
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => [
      s(get(o, 'metadata.name')),
      `${n(get(o, 'status.readyReplicas'))}/${n(get(o, 'spec.replicas'))}`,
      n(get(o, 'status.updatedReplicas')),
      n(get(o, 'status.availableReplicas')),
      age(o, now),
      ...containersOf(o, 'spec.template.spec.containers'),
      labelSelectorText(get(o, 'spec.selector')),
    ],
  },
  ReplicaSet: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      col('Age'),
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => [
      s(get(o, 'metadata.name')),
      n(get(o, 'spec.replicas')),
      n(get(o, 'status.replicas')),
      n(get(o, 'status.readyReplicas')),
      age(o, now),
      ...containersOf(o, 'spec.template.spec.containers'),
      labelSelectorText(get(o, 'spec.selector')),
    ],
  },
  Job: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Status'),
      col('Completions'),
      col('Duration'),
      col('Age'),
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => {
      const conds = list(get(o, 'status.conditions'));
      const isTrue = (t: string) => conds.some((c) => get(c, 'type') === t && get(c, 'status') === 'True');
      const status = isTrue('Complete')
        ? 'Complete'
        : isTrue('Failed')
          ? 'Failed'
          : isTrue('Suspended')
            ? 'Suspended'
            : 'Running';
      const start = get(o, 'status.startTime');
      const end = get(o, 'status.completionTime');
      const duration =
        typeof start === 'string'
          ? humanDuration((typeof end === 'string' ? Date.parse(end) : now) - Date.parse(start))
          : '';
      return [
        s(get(o, 'metadata.name')),
        status,
        `${n(get(o, 'status.succeeded'))}/${n(get(o, 'spec.completions')) || 1}`,
        duration,
        age(o, now),
        ...containersOf(o, 'spec.template.spec.containers'),
        labelSelectorText(get(o, 'spec.selector')),
      ];
    },
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 'string', 1),
      col('Source', 'string', 1),
      col('Message'),
      col('First Seen', 'string', 1),
      col('Count', 'integer', 1),
      col('Name', 'string', 1, 'name'),
    ],
    cells: (o, now) => {
      const last = get(o, 'lastTimestamp') ?? get(o, 'eventTime') ?? get(o, 'metadata.creationTimestamp');
      const first = get(o, 'firstTimestamp') ?? get(o, 'eventTime') ?? get(o, 'metadata.creationTimestamp');
      const since = (v: Json | undefined) =>
        typeof v === 'string' ? humanDuration(now - Date.parse(v)) : '<unknown>';
      const component = s(get(o, 'source.component'), '') || s(get(o, 'reportingComponent'), '');
      const host = s(get(o, 'source.host'), '');
      return [
        since(last),
        s(get(o, 'type'), ''),
        s(get(o, 'reason'), ''),
        `${s(get(o, 'involvedObject.kind'), '').toLowerCase()}/${s(get(o, 'involvedObject.name'), '')}`,
        s(get(o, 'involvedObject.fieldPath'), ''),
        host === '' ? component : `${component}, ${host}`,
        s(get(o, 'message'), '').trim(),
        since(first),
        n(get(o, 'count')) || 1,
        s(get(o, 'metadata.name')),
      ];
    },
  },
  Lease: {
    columns: [col('Name', 'string', 0, 'name'), col('Holder'), col('Age')],
    cells: (o, now) => [s(get(o, 'metadata.name')), s(get(o, 'spec.holderIdentity'), ''), age(o, now)],
  },
  PriorityClass: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Value', 'integer'),
      col('Global-Default', 'boolean'),
      col('Age'),
      col('PreemptionPolicy', 'string', 1),
    ],
    cells: (o, now) => [
      s(get(o, 'metadata.name')),
      n(get(o, 'value')),
      get(o, 'globalDefault') === true,
      age(o, now),
      s(get(o, 'preemptionPolicy'), 'PreemptLowerPriority'),
    ],
  },
  HorizontalPodAutoscaler: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Reference'),
      col('Targets'),
      col('MinPods', 'integer'),
      col('MaxPods', 'integer'),
      col('Replicas', 'integer'),
      col('Age'),
    ],
    cells: (o, now) => [
      s(get(o, 'metadata.name')),
      `${s(get(o, 'spec.scaleTargetRef.kind'), '')}/${s(get(o, 'spec.scaleTargetRef.name'), '')}`,
      hpaTargets(o),
      n(get(o, 'spec.minReplicas')) || 1,
      n(get(o, 'spec.maxReplicas')),
      n(get(o, 'status.currentReplicas')),
      age(o, now),
    ],
  },
  Endpoints: {
    columns: [col('Name', 'string', 0, 'name'), col('Endpoints'), col('Age')],
    cells: (o, now) => {
      const eps: string[] = [];
      for (const subset of list(get(o, 'subsets'))) {
        for (const a of list(get(subset, 'addresses'))) {
          for (const p of list(get(subset, 'ports'))) eps.push(`${s(get(a, 'ip'), '')}:${n(get(p, 'port'))}`);
        }
      }
      return [s(get(o, 'metadata.name')), eps.length === 0 ? '<none>' : eps.join(','), age(o, now)];
    },
  },
};

/** The default table for kinds without their own printer: name and age. */
export const DEFAULT_TABLE: TableDef = {
  columns: [col('Name', 'string', 0, 'name'), col('Age')],
  cells: (o, now) => [s(get(o, 'metadata.name')), age(o, now)],
};
