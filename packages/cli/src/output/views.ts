/**
 * The objects `berth get` and `describe` print: one stable item shape per kind (the JSON/YAML
 * output) and the table rows derived from it.
 */
import {
  type ClusterNode,
  type ClusterSnapshot,
  isTerminal,
  type ResourceList,
  Resources,
  type TaskStatus,
} from '@berth/core';
import type { JobSummary } from '../backends/registry.ts';
import { age } from './age.ts';
import type { Column } from './table.ts';

// --- nodes ----------------------------------------------------------------------------------------

export interface NodeItem {
  readonly kind: 'Node';
  readonly name: string;
  readonly hostname: string;
  /** `Ready`, `NotReady`, with `,SchedulingDisabled` when cordoned (as kubectl prints it). */
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  readonly allocatable: ResourceList;
  readonly allocated: ResourceList;
  /** Tasks holding resources on the node. */
  readonly tasks: number;
}

export function nodeStatus(n: ClusterNode): string {
  return `${n.ready ? 'Ready' : 'NotReady'}${n.unschedulable ? ',SchedulingDisabled' : ''}`;
}

export function nodeItem(n: ClusterNode, snapshot: ClusterSnapshot): NodeItem {
  return {
    kind: 'Node',
    name: n.id,
    hostname: n.hostname,
    status: nodeStatus(n),
    labels: { ...n.labels },
    taints: n.taints.map((t) => ({
      key: t.key,
      ...(t.value === undefined ? {} : { value: t.value }),
      effect: t.effect,
    })),
    allocatable: n.allocatable.toJSON(),
    allocated: n.allocated.toJSON(),
    tasks: snapshot.allocations.filter((a) => a.nodeId === n.id).length,
  };
}

/** `1.5` cores for millicpu. */
export function cores(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

const BINARY_SUFFIXES = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/**
 * Bytes for a table cell: the exact Kubernetes quantity when it is short (`512Mi`, `1536Ki`),
 * otherwise rounded to one decimal in the largest binary unit (`7.8Gi`) — an odd byte count such
 * as a machine's memory would print as ten digits.
 */
export function bytes(n: number): string {
  if (n === 0) return '0';
  const exact = Resources.of({ memory: n }).toQuantities().memory ?? '0';
  if (exact.length <= 6) return exact;
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < BINARY_SUFFIXES.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit < 0) return exact;
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}${BINARY_SUFFIXES[unit]}`;
}

function percent(used: number, total: number): string {
  return total === 0 ? '' : ` (${Math.round((used / total) * 100)}%)`;
}

export const NODE_COLUMNS: readonly Column[] = [
  { header: 'NAME', noTruncate: true },
  { header: 'STATUS' },
  { header: 'CPU' },
  { header: 'MEMORY' },
  { header: 'TASKS' },
];
export const NODE_WIDE_COLUMNS: readonly Column[] = [
  ...NODE_COLUMNS,
  { header: 'HOSTNAME' },
  { header: 'LABELS' },
];

export function nodeRow(n: ClusterNode, snapshot: ClusterSnapshot, wide: boolean): string[] {
  const row = [
    n.id,
    nodeStatus(n),
    `${cores(n.allocated.cpu)}/${cores(n.allocatable.cpu)}${percent(n.allocated.cpu, n.allocatable.cpu)}`,
    `${bytes(n.allocated.memory)}/${bytes(n.allocatable.memory)}${percent(n.allocated.memory, n.allocatable.memory)}`,
    String(snapshot.allocations.filter((a) => a.nodeId === n.id).length),
  ];
  if (wide)
    row.push(
      n.hostname,
      Object.entries(n.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    );
  return row;
}

// --- tasks ----------------------------------------------------------------------------------------

export interface TaskItem {
  readonly kind: 'Task';
  readonly id: string;
  readonly state: string;
  readonly rawState: string;
  readonly reason?: string;
  readonly message?: string;
  readonly exitCode?: number;
  readonly node?: string;
  readonly hostname?: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly service?: string;
  readonly backend: string;
  /** RFC 3339 timestamps. */
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly updatedAt: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function taskItem(s: TaskStatus): TaskItem {
  const opt = <K extends string, V>(k: K, v: V | undefined) =>
    v === undefined ? {} : ({ [k]: v } as Record<K, V>);
  return {
    kind: 'Task',
    id: s.taskId,
    state: s.state,
    rawState: s.rawState,
    ...opt('reason', s.reason),
    ...opt('message', s.message),
    ...opt('exitCode', s.exitCode),
    ...opt('node', s.nodeId),
    ...opt('hostname', s.hostname),
    ports: { ...s.ports },
    ...opt('service', s.service),
    backend: s.backend,
    ...opt('createdAt', iso(s.timestamps.created)),
    ...opt('startedAt', iso(s.timestamps.started)),
    ...opt('finishedAt', iso(s.timestamps.finished)),
    updatedAt: new Date(s.timestamps.updated).toISOString(),
  };
}

/** Labels `-l` matches tasks against (the adapters put the same keys on backend objects). */
export function taskLabels(s: TaskStatus): Record<string, string> {
  return {
    'berth.dev/task-id': s.taskId,
    'berth.dev/state': s.state,
    ...(s.service === undefined ? {} : { 'berth.dev/service': s.service }),
    ...(s.nodeId === undefined ? {} : { 'berth.dev/node': s.nodeId }),
  };
}

export function portsText(ports: Readonly<Record<string, number>>): string {
  const list = Object.entries(ports).map(([name, p]) => `${name}:${p}`);
  return list.length === 0 ? '<none>' : list.join(',');
}

export const TASK_COLUMNS: readonly Column[] = [
  { header: 'NAME', noTruncate: true },
  { header: 'STATE' },
  { header: 'NODE' },
  { header: 'PORTS' },
  { header: 'AGE' },
];
export const TASK_WIDE_COLUMNS: readonly Column[] = [
  ...TASK_COLUMNS,
  { header: 'SERVICE' },
  { header: 'HOSTNAME' },
  { header: 'EXIT' },
  { header: 'REASON' },
  { header: 'MESSAGE' },
];

export function taskRow(s: TaskStatus, now: number, wide: boolean): string[] {
  const row = [s.taskId, s.state, s.nodeId ?? '<none>', portsText(s.ports), age(s.timestamps.created, now)];
  if (wide)
    row.push(
      s.service ?? '<none>',
      s.hostname ?? '<none>',
      s.exitCode === undefined ? '' : String(s.exitCode),
      s.reason ?? '',
      s.message ?? '',
    );
  return row;
}

// --- services -------------------------------------------------------------------------------------

export interface ServiceItem {
  readonly kind: 'Service';
  readonly name: string;
  /** Replicas not yet ended (what the service is keeping alive). */
  readonly replicas: number;
  /** Replicas RUNNING. */
  readonly ready: number;
  readonly tasks: readonly string[];
  readonly createdAt?: string;
}

interface Group {
  readonly name: string;
  readonly tasks: TaskStatus[];
}

function oldest(tasks: readonly TaskStatus[]): number | undefined {
  let min: number | undefined;
  for (const t of tasks) {
    const c = t.timestamps.created;
    if (c !== undefined && (min === undefined || c < min)) min = c;
  }
  return min;
}

export function groupServices(tasks: readonly TaskStatus[]): Group[] {
  const by = new Map<string, TaskStatus[]>();
  for (const t of tasks) {
    if (t.service === undefined) continue;
    const list = by.get(t.service) ?? [];
    list.push(t);
    by.set(t.service, list);
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, list]) => ({ name, tasks: list.sort((a, b) => compareTaskIds(a.taskId, b.taskId)) }));
}

/** `web-2` before `web-10`. */
export function compareTaskIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function serviceItem(g: Group): ServiceItem {
  const created = oldest(g.tasks);
  return {
    kind: 'Service',
    name: g.name,
    replicas: g.tasks.filter((t) => !isTerminal(t.state)).length,
    ready: g.tasks.filter((t) => t.state === 'RUNNING').length,
    tasks: g.tasks.map((t) => t.taskId),
    ...(created === undefined ? {} : { createdAt: new Date(created).toISOString() }),
  };
}

export const SERVICE_COLUMNS: readonly Column[] = [
  { header: 'NAME', noTruncate: true },
  { header: 'READY' },
  { header: 'AGE' },
];
export const SERVICE_WIDE_COLUMNS: readonly Column[] = [...SERVICE_COLUMNS, { header: 'NODES' }];

export function serviceRow(g: Group, now: number, wide: boolean): string[] {
  const item = serviceItem(g);
  const row = [g.name, `${item.ready}/${item.replicas}`, age(oldest(g.tasks), now)];
  if (wide) {
    const nodes = [...new Set(g.tasks.filter((t) => !isTerminal(t.state)).map((t) => t.nodeId ?? '<none>'))];
    row.push(nodes.join(',') || '<none>');
  }
  return row;
}

// --- jobs -----------------------------------------------------------------------------------------

export interface JobItem {
  readonly kind: 'Job';
  readonly name: string;
  /** `Running`, `Complete` (every task finished) or `Failed` (a task failed and none is active). */
  readonly status: 'Running' | 'Complete' | 'Failed';
  readonly active: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly completions?: number;
  readonly parallelism?: number;
  readonly tasks: readonly string[];
  readonly createdAt?: string;
}

/**
 * Jobs from task ids when the adapter does not list them: a Job's tasks are `NAME-0`, `NAME-1`…
 * (core's `replicaTaskId`) and belong to no service.
 */
export function deriveJobs(tasks: readonly TaskStatus[]): JobSummary[] {
  const by = new Map<string, TaskStatus[]>();
  for (const t of tasks) {
    if (t.service !== undefined) continue;
    const m = /^(.+)-(\d+)$/.exec(t.taskId);
    if (m === null) continue;
    const list = by.get(m[1]!) ?? [];
    list.push(t);
    by.set(m[1]!, list);
  }
  return [...by.entries()]
    .filter(([, list]) => list.some((t) => t.taskId.endsWith('-0')))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, list]) => {
      const sorted = list.sort((a, b) => compareTaskIds(a.taskId, b.taskId));
      return { name, completions: sorted.length, parallelism: sorted.length, tasks: sorted };
    });
}

export function jobItem(j: JobSummary): JobItem {
  const active = j.tasks.filter((t) => !isTerminal(t.state)).length;
  const succeeded = j.tasks.filter((t) => t.state === 'FINISHED').length;
  const failed = j.tasks.length - active - succeeded;
  const created = oldest(j.tasks);
  return {
    kind: 'Job',
    name: j.name,
    status:
      active > 0 ? 'Running' : succeeded >= j.completions ? 'Complete' : failed > 0 ? 'Failed' : 'Running',
    active,
    succeeded,
    failed,
    completions: j.completions,
    parallelism: j.parallelism,
    tasks: j.tasks.map((t) => t.taskId),
    ...(created === undefined ? {} : { createdAt: new Date(created).toISOString() }),
  };
}

export const JOB_COLUMNS: readonly Column[] = [
  { header: 'NAME', noTruncate: true },
  { header: 'STATUS' },
  { header: 'COMPLETIONS' },
  { header: 'ACTIVE' },
  { header: 'FAILED' },
  { header: 'AGE' },
];

export function jobRow(j: JobSummary, now: number): string[] {
  const item = jobItem(j);
  return [
    j.name,
    item.status,
    `${item.succeeded}/${j.completions}`,
    String(item.active),
    String(item.failed),
    age(oldest(j.tasks), now),
  ];
}
