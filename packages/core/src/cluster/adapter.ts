/**
 * The one contract between Berth and a cluster backend. The CLI and the dashboard speak only this;
 * the Mesos and Kubernetes adapters (and third-party ones) implement it and prove it with the
 * conformance suite in `@berth/adapter-testkit`.
 */
import type { EndpointEvent, EndpointWatchOptions } from '../discovery/index.ts';
import type { Resources } from '../resources/index.ts';
import type { BerthDocument } from '../spec/index.ts';
import type { AbortSignalLike } from './clock.ts';
import { BerthError } from './errors.ts';
import type { BackendKind, TaskState, TaskStatus } from './task-state.ts';

// ---------------------------------------------------------------------------------------------
// Capabilities

/**
 * Optional features an adapter may support. Everything else in {@link ClusterAdapter} is required.
 * - `gang`: Job documents with `gang: true` are placed all-or-nothing.
 * - `preemption`: higher-priority tasks may evict lower-priority ones.
 * - `customScheduling`: Berth's engine decides placement (Mesos always; Kubernetes in Berth scheduler mode).
 * - `autoscaling`: Services with an `autoscaling` block are scaled by the backend or by Berth.
 * - `logs`: `logs()` streams a task's output.
 * - `services`: `scale()` keeps a Service at N replicas.
 * - `serviceDiscovery`: `endpoints()` lists the running replicas' host and ports.
 * - `commandTasks`: a task with a `command` and no `image` runs (on Kubernetes the adapter supplies an image).
 * - `killGracePeriod`: `kill(id, { gracePeriodSeconds })` is honoured.
 * - `nodeWatch`: `watchNodes()` reports node changes as they happen.
 * - `events`: `events()` reports what the backend did, in order.
 */
export const CAPABILITIES = [
  'gang',
  'preemption',
  'customScheduling',
  'autoscaling',
  'logs',
  'services',
  'serviceDiscovery',
  'commandTasks',
  'killGracePeriod',
  'nodeWatch',
  'events',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export type Capabilities = ReadonlySet<Capability>;

/** Build a capability set, checked against {@link CAPABILITIES} at compile time. */
export function capabilities(...names: Capability[]): Capabilities {
  return new Set(names);
}

/** The capabilities in `needed` the adapter does not declare, in the order asked for. */
export function missingCapabilities(
  adapter: Pick<ClusterAdapter, 'capabilities'>,
  needed: Iterable<Capability>,
): Capability[] {
  const missing: Capability[] = [];
  for (const c of needed) if (!adapter.capabilities.has(c) && !missing.includes(c)) missing.push(c);
  return missing;
}

/**
 * Fail once, listing everything missing, when the adapter lacks capabilities a profile or command
 * needs — at start, not halfway through a rollout.
 */
export function assertCapabilities(
  adapter: Pick<ClusterAdapter, 'capabilities' | 'name'>,
  needed: Iterable<Capability>,
  purpose?: string,
): void {
  const missing = missingCapabilities(adapter, needed);
  if (missing.length === 0) return;
  const forWhat = purpose === undefined ? '' : ` for ${purpose}`;
  throw new BerthError(
    'UNSUPPORTED',
    `adapter ${adapter.name} lacks ${missing.length === 1 ? 'capability' : 'capabilities'} ${missing.join(', ')}${forWhat}`,
    {
      component: 'core/cluster',
      hint: 'Use a context whose backend supports them, or remove the features that need them from the spec.',
      details: { adapter: adapter.name, missing },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Nodes and snapshots

export type NodeTaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: NodeTaintEffect;
}

/** One machine as the placement engine sees it: Mesos agent or Kubernetes node. */
export interface ClusterNode {
  /** Mesos agent id / Kubernetes node name. */
  readonly id: string;
  readonly hostname: string;
  /** Kubernetes labels; Mesos attributes rendered as strings. */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
  /** What tasks may use in total. */
  readonly allocatable: Resources;
  /** What running and starting tasks already use. */
  readonly allocated: Resources;
  /** The node reports healthy (Kubernetes Ready, Mesos agent active). */
  readonly ready: boolean;
  /** Cordoned / draining: no new tasks. */
  readonly unschedulable: boolean;
}

/** One task's claim on one node. */
export interface Allocation {
  readonly taskId: string;
  readonly nodeId: string;
  readonly resources: Resources;
  readonly tenant: string;
  readonly priority: number;
  readonly service?: string;
}

export interface ClusterSnapshot {
  readonly backend: BackendKind;
  /** `Clock.now()` when taken. */
  readonly takenAt: number;
  readonly nodes: readonly ClusterNode[];
  readonly allocations: readonly Allocation[];
}

export type NodeEvent =
  | { readonly type: 'added' | 'updated'; readonly node: ClusterNode }
  | { readonly type: 'removed'; readonly node: ClusterNode };

// ---------------------------------------------------------------------------------------------
// Submitting and managing tasks

/**
 * What `submit` did for one task:
 * - `created`: the backend was asked to launch it now;
 * - `unchanged`: a task with this id is already known with the same spec — nothing was sent;
 * - `conflict`: a task with this id exists with a different spec — nothing was sent (kill it first).
 */
export type SubmitOutcome = 'created' | 'unchanged' | 'conflict';

export interface SubmitResult {
  readonly taskId: string;
  /** `Kind/name` of the document the task came from, e.g. `Service/web`. */
  readonly document: string;
  readonly outcome: SubmitOutcome;
  /** The task's status right after the call. */
  readonly status: TaskStatus;
}

export interface WatchOptions {
  /** Ends the iteration cleanly when aborted. Closing the adapter ends it too. */
  readonly signal?: AbortSignalLike;
}

export interface TaskFilter {
  readonly ids?: readonly string[];
  readonly service?: string;
  readonly tenant?: string;
  readonly states?: readonly TaskState[];
}

export interface WatchTasksOptions extends WatchOptions {
  readonly filter?: TaskFilter;
  /** Yield the current status of every matching task first (default false). */
  readonly initial?: boolean;
}

export interface KillOptions {
  /** Seconds between the polite stop signal and the forced kill; default the task's `killGracePeriodSeconds`. */
  readonly gracePeriodSeconds?: number;
}

export interface Endpoint {
  readonly taskId: string;
  readonly nodeId: string;
  readonly host: string;
  /** Host ports by port name. */
  readonly ports: Readonly<Record<string, number>>;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogOptions extends WatchOptions {
  /** Keep streaming new lines until the task ends or the signal aborts (default false). */
  readonly follow?: boolean;
  /** Which stream(s); default both. */
  readonly stream?: LogStream | 'both';
  /** Start this many lines from the end (default: from the beginning). */
  readonly tailLines?: number;
}

export interface LogLine {
  readonly stream: LogStream;
  readonly line: string;
  /** Epoch ms, when the backend records it. */
  readonly at?: number;
}

export type ClusterEventLevel = 'info' | 'warning';

/** One thing that happened, in the order it happened. */
export interface ClusterEvent {
  /** Strictly increasing per adapter instance. */
  readonly seq: number;
  /** Epoch ms; never decreases along `seq`. */
  readonly at: number;
  readonly level: ClusterEventLevel;
  /**
   * What happened, as a CamelCase word: `TaskStateChanged`, `Unschedulable`, `Killing`, `Scaled`,
   * `NodeAdded`, `NodeRemoved`, `Connected`…
   */
  readonly kind: string;
  readonly message: string;
  readonly taskId?: string;
  readonly nodeId?: string;
  readonly service?: string;
  /** For `TaskStateChanged`: the new state. */
  readonly state?: TaskState;
  /**
   * Structured facts behind the message, JSON-serialisable (e.g. an autoscaling decision's
   * utilization, current and desired replicas, and limiting reason). Never secrets.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// The adapter

/**
 * A connection to one cluster. Create it with the adapter's factory (`createMesosAdapter(...)`),
 * `connect()`, use it, then `close()` (or `await using`). After `close()` every watch has ended and
 * the adapter holds no timers, sockets or subscriptions.
 *
 * Errors are `BerthError`s: `BACKEND_UNAVAILABLE` when the cluster cannot be reached, `NOT_FOUND`
 * for an unknown task or service, `UNSUPPORTED` for a feature missing from `capabilities`,
 * `SPEC_INVALID` for bad arguments (nothing is sent to the backend then).
 */
export interface ClusterAdapter extends AsyncDisposable {
  /** A short name for messages: `mesos`, `kubernetes`, `memory`. */
  readonly name: string;
  readonly backend: BackendKind;
  readonly capabilities: Capabilities;

  /** Reach the backend (register the framework, start informers). Idempotent. */
  connect(options?: WatchOptions): Promise<void>;
  /** Release everything and end every watch. Idempotent; tasks keep running on the cluster. */
  close(): Promise<void>;

  /** Nodes and allocations as of now. */
  snapshot(): Promise<ClusterSnapshot>;
  /** Node additions, changes and removals from now on. */
  watchNodes(options?: WatchOptions): AsyncIterable<NodeEvent>;

  /**
   * Launch the tasks the documents describe: one task for a Task, `replicas` tasks for a Service,
   * `parallelism` for a Job. Idempotent by task id: a retry (even a concurrent one) never launches
   * a task twice. The whole batch is validated first; an invalid batch throws and sends nothing.
   * A task no node can take is still `created`, and stays PENDING with the reason in its status.
   */
  submit(documents: readonly BerthDocument[]): Promise<SubmitResult[]>;
  /** Stop a task. Resolves once the backend accepted the request; watch for KILLED. No-op when already ended. */
  kill(taskId: string, options?: KillOptions): Promise<void>;

  tasks(filter?: TaskFilter): Promise<TaskStatus[]>;
  watchTasks(options?: WatchTasksOptions): AsyncIterable<TaskStatus>;

  /** Set a Service's replica count; extra replicas are killed highest index first. */
  scale(service: string, replicas: number): Promise<void>;
  /** The RUNNING replicas of a Service, with host and ports. */
  endpoints(service: string): Promise<Endpoint[]>;
  /**
   * A Service's endpoint changes (`added` / `changed` / `removed`) as replicas start, turn
   * healthy or unhealthy, and end. Optional: adapters with the `serviceDiscovery` capability
   * should provide it; callers fall back to polling `endpoints()` when it is absent.
   */
  watchEndpoints?(
    service: string,
    options?: Omit<EndpointWatchOptions, 'service'>,
  ): AsyncIterable<EndpointEvent>;

  /** A task's output; throws UNSUPPORTED without the `logs` capability. */
  logs(taskId: string, options?: LogOptions): AsyncIterable<LogLine>;
  /** What happens from now on, in order. */
  events(options?: WatchOptions): AsyncIterable<ClusterEvent>;
}

/** The task id of replica `index` of a Service or Job (`web-0`, `web-1`…); a Task's id is its name. */
export function replicaTaskId(name: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new BerthError('SPEC_INVALID', `replica index must be an integer >= 0, got ${index}`, {
      component: 'core/cluster',
    });
  }
  return `${name}-${index}`;
}
