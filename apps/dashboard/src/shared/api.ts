/**
 * The JSON shapes the dashboard server sends and the single-page app reads. Large lists (nodes,
 * tasks) travel as compact rows — arrays in the order of their `columns` — so 50,000 tasks cost
 * one short array each instead of a keyed object.
 */

import { TASK_STATES, type TaskState, TERMINAL_TASK_STATES } from '@berth/core';

/** Berth's unified task states, in lifecycle order (the same list the adapters report). */
export const TASK_STATE_NAMES = TASK_STATES;

export type TaskStateName = TaskState;

export const TERMINAL_STATE_NAMES: readonly TaskStateName[] = TERMINAL_TASK_STATES;

/** The resources the dashboard charts, in base units: millicpu, bytes, bytes, devices. */
export const RESOURCE_NAMES = ['cpu', 'memory', 'disk', 'gpus'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];
export type ResourceAmounts = Record<ResourceName, number>;

export interface ApiError {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly issues?: readonly ApiIssue[];
}

export interface ApiIssue {
  readonly path: string;
  readonly message: string;
  /** 1-based position in the submitted YAML, when the problem has one. */
  readonly line?: number;
  readonly column?: number;
}

export interface ContextInfo {
  readonly name: string;
  readonly backend: string;
  readonly capabilities: readonly string[];
}

export interface TenantShare {
  readonly tenant: string;
  /** max over resources of allocated/capacity, 0–1. */
  readonly dominantShare: number;
  readonly dominantResource: ResourceName | '';
  readonly allocated: ResourceAmounts;
  readonly tasks: number;
}

export interface ContextOverview {
  readonly name: string;
  readonly backend: string;
  readonly takenAt: number;
  readonly nodes: { readonly total: number; readonly ready: number; readonly unschedulable: number };
  readonly capacity: ResourceAmounts;
  readonly allocated: ResourceAmounts;
  readonly tasksByState: Record<TaskStateName, number>;
  readonly tenants: readonly TenantShare[];
}

export const NODE_COLUMNS = [
  'id',
  'hostname',
  'ready',
  'unschedulable',
  'cpuAllocatable',
  'cpuAllocated',
  'memoryAllocatable',
  'memoryAllocated',
  'diskAllocatable',
  'diskAllocated',
  'gpusAllocatable',
  'gpusAllocated',
] as const;

/** One node in {@link NODE_COLUMNS} order; `ready` and `unschedulable` are 1 or 0. */
export type NodeRow = [
  id: string,
  hostname: string,
  ready: 0 | 1,
  unschedulable: 0 | 1,
  cpuAllocatable: number,
  cpuAllocated: number,
  memoryAllocatable: number,
  memoryAllocated: number,
  diskAllocatable: number,
  diskAllocated: number,
  gpusAllocatable: number,
  gpusAllocated: number,
];

export interface NodePage {
  readonly columns: typeof NODE_COLUMNS;
  readonly total: number;
  readonly offset: number;
  readonly rows: readonly NodeRow[];
}

export interface NodeDetail {
  readonly id: string;
  readonly hostname: string;
  readonly ready: boolean;
  readonly unschedulable: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
  readonly allocatable: ResourceAmounts;
  readonly allocated: ResourceAmounts;
  readonly free: ResourceAmounts;
  readonly tasks: readonly {
    readonly taskId: string;
    readonly tenant: string;
    readonly service?: string;
    readonly state?: TaskStateName;
    readonly resources: ResourceAmounts;
  }[];
}

export const TASK_COLUMNS = ['taskId', 'state', 'nodeId', 'service', 'reason', 'message', 'updated'] as const;

/** One task in {@link TASK_COLUMNS} order; absent fields are empty strings. */
export type TaskRow = [
  taskId: string,
  state: TaskStateName,
  nodeId: string,
  service: string,
  reason: string,
  message: string,
  updated: number,
];

export interface TaskPage {
  readonly columns: typeof TASK_COLUMNS;
  readonly total: number;
  readonly offset: number;
  readonly rows: readonly TaskRow[];
}

export interface ScoreView {
  readonly plugin: string;
  readonly score: number;
  readonly weight: number;
}

/** Where a task landed or why it did not, as far as the dashboard knows. */
export type ExplanationView =
  | {
      readonly kind: 'placed';
      readonly source: 'plan';
      readonly nodeId: string;
      readonly score: number;
      readonly scores: readonly ScoreView[];
      readonly alternatives: readonly { readonly nodeId: string; readonly score: number }[];
      readonly feasibleNodes: number;
      readonly totalNodes: number;
      readonly message: string;
    }
  | {
      readonly kind: 'unplaceable';
      readonly source: 'plan';
      readonly totalNodes: number;
      readonly reasons: readonly { readonly reason: string; readonly count: number }[];
      readonly message: string;
    }
  | {
      /** Only the backend's words are known (the task was not submitted through this dashboard). */
      readonly kind: 'status';
      readonly source: 'backend';
      readonly reason?: string;
      readonly message?: string;
    };

export interface EventView {
  readonly context: string;
  readonly seq: number;
  readonly at: number;
  readonly level: 'info' | 'warning';
  readonly kind: string;
  readonly message: string;
  readonly taskId?: string;
  readonly nodeId?: string;
  readonly service?: string;
  readonly state?: TaskStateName;
}

export interface TaskDetail {
  readonly context: string;
  readonly status: {
    readonly taskId: string;
    readonly state: TaskStateName;
    readonly rawState: string;
    readonly reason?: string;
    readonly message?: string;
    readonly exitCode?: number;
    readonly nodeId?: string;
    readonly hostname?: string;
    readonly service?: string;
    readonly ports: Readonly<Record<string, number>>;
    readonly timestamps: Readonly<Record<string, number>>;
  };
  readonly explanation: ExplanationView;
  /** This task's recent events, oldest first. */
  readonly events: readonly EventView[];
  /** The last lines of its output (empty without the `logs` capability). */
  readonly logs: readonly { readonly stream: string; readonly line: string }[];
}

export interface PlanView {
  readonly profile: string;
  readonly tasks: number;
  readonly nodes: number;
  readonly placements: readonly {
    readonly taskId: string;
    readonly nodeId: string;
    readonly hostname: string;
    readonly score: number;
    readonly message: string;
  }[];
  readonly unplaceable: readonly {
    readonly taskId: string;
    readonly reasons: readonly { readonly reason: string; readonly count: number }[];
    readonly message: string;
  }[];
}

export interface SubmitView {
  readonly plan: PlanView;
  readonly results: readonly {
    readonly taskId: string;
    readonly document: string;
    readonly outcome: string;
    readonly state: TaskStateName;
  }[];
}

export interface ServiceView {
  readonly name: string;
  /** Replicas in RUNNING. */
  readonly running: number;
  /** Replicas the backend keeps alive (not yet ended). */
  readonly desired: number;
  readonly tasks: number;
}

export interface ServiceHistoryPoint {
  readonly at: number;
  readonly running: number;
  readonly desired: number;
}

/** The messages of the Server-Sent Events stream (`event:` names the variant). */
export type StreamMessage =
  | { readonly type: 'task'; readonly context: string; readonly row: TaskRow }
  | { readonly type: 'node'; readonly context: string; readonly change: string; readonly row: NodeRow }
  | { readonly type: 'event'; readonly context: string; readonly event: EventView };
