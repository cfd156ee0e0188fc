import type {
  Clock,
  PortRange,
  Resources,
  ResourcesInit,
  TaintEffect,
  TaskState,
  TaskStatus,
} from '@berth/core';

/** The clock the engine runs simulated durations, delays and timestamps on (epoch milliseconds). */
export type EngineClock = Clock;

/** A Kubernetes-style taint a node carries (the engine stores it; placement honours it). */
export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

/**
 * Capacity of one node: a `Resources`, or base-unit integers for `Resources.of` (cpu in millicpu,
 * memory and disk in bytes). Use `Resources.fromQuantities({ cpu: '4', memory: '8Gi' })` for
 * Kubernetes quantities.
 */
export type CapacityInput = Resources | ResourcesInit;

/** Everything that describes one virtual node. */
export interface NodeSpec {
  /** Unique id: also the Kubernetes node name and the Mesos agent id suffix. */
  readonly id: string;
  /** Default: the id. */
  readonly hostname?: string;
  /**
   * Where the node's tasks are reachable; tasks get it as `HOST`. Default `127.0.0.1`: every
   * virtual node is this machine.
   */
  readonly address?: string;
  readonly capacity: CapacityInput;
  /** Host port ranges the node hands out (default 31000–32000, as a Mesos agent). */
  readonly ports?: PortRange | readonly PortRange[];
  /** Kubernetes node labels (the engine adds `kubernetes.io/hostname`, rack and zone labels). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Mesos agent attributes (the engine adds `rack` and `zone` when set). */
  readonly attributes?: Readonly<Record<string, string | number>>;
  readonly taints?: readonly NodeTaint[];
  readonly rack?: string;
  readonly zone?: string;
}

/** `count` nodes alike, named `<prefix>-<n>` (n from 1), spread round-robin over racks and zones. */
export interface NodeGroupSpec extends Omit<NodeSpec, 'id' | 'hostname' | 'rack' | 'zone'> {
  readonly count: number;
  /** Default `node`. */
  readonly prefix?: string;
  /** Spread the group over this many racks `rack-1..n` (consecutive nodes share a rack). */
  readonly racks?: number;
  /** Spread the racks over this many zones `zone-a..` (racks round-robin). */
  readonly zones?: number;
  /** Hostnames are `<id>.<domain>` when given, else the id. */
  readonly domain?: string;
}

export type EnginePreset = 'laptop' | 'rack' | 'large';

export interface EngineConfig {
  /** Start from a preset; `nodes` adds more groups after it. Default: `laptop` when `nodes` is absent. */
  readonly preset?: EnginePreset;
  readonly nodes?: readonly NodeGroupSpec[];
  /**
   * Where sandboxes and logs go. Default: a fresh `berth-devcluster-*` directory under the OS temp
   * directory, removed on stop() unless `keepStateDir`.
   */
  readonly stateDir?: string;
  /** Keep an engine-created state directory after stop() (a given `stateDir` is always kept). */
  readonly keepStateDir?: boolean;
  readonly clock?: EngineClock;
  /** How many events `events.since(seq)` can replay (default 10,000). */
  readonly eventBufferSize?: number;
  /** Default SIGTERM → SIGKILL grace for process tasks, in ms (default 3,000, Mesos' default). */
  readonly killGracePeriodMs?: number;
  /** How many completed tasks `tasks()`/`task(id)` still show, newest kept (default 10,000). */
  readonly maxCompletedTasks?: number;
  /** Process tasks inherit this process's environment before their own (default true). */
  readonly inheritEnv?: boolean;
}

/** A host port a task asks for: dynamic (no `hostPort`, or 0) or fixed. */
export interface PortRequest {
  /** Names become `PORT_<NAME>` variables and the keys of `TaskStatus.ports`. */
  readonly name?: string;
  readonly hostPort?: number;
}

/** Synthetic behaviour of a simulated task. */
export interface SimulatedBehaviour {
  /** Runs this long, then ends with `exitCode`. Absent: runs until killed. */
  readonly durationMs?: number;
  /** Default 0 (FINISHED); non-zero ends FAILED. */
  readonly exitCode?: number;
  /** Reported usage: cpu in millicpu (default half the request), memory in bytes (default half). */
  readonly usage?: { readonly cpu?: number; readonly memory?: number };
  /** Time between a kill request and KILLED (default 0). */
  readonly killDelayMs?: number;
}

export type TaskMode = 'process' | 'simulated';

/** What the faces ask the engine to run. The engine never picks the node: `nodeId` is required. */
export interface TaskLaunch {
  readonly id: string;
  readonly nodeId: string;
  readonly name?: string;
  readonly resources: Resources;
  /** Ports beyond `resources.ports` (which are taken as fixed ports, as in a Mesos LAUNCH). */
  readonly ports?: readonly PortRequest[];
  /** Shell command run with `/bin/sh -c`. */
  readonly command?: string;
  /** Without `command`: the argv to execute directly. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** A container image. Without command/args the task runs simulated (no container runtime here). */
  readonly image?: string;
  /** Default: `process` when there is a command or args, otherwise `simulated`. */
  readonly mode?: TaskMode;
  readonly simulated?: SimulatedBehaviour;
  /** SIGTERM → SIGKILL grace for this task (default the engine's `killGracePeriodMs`). */
  readonly killGracePeriodMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Copied into `TaskStatus.service`. */
  readonly service?: string;
}

export type NodeCondition = 'ready' | 'unreachable' | 'lost';

/** A read-only view of a node at one moment. */
export interface EngineNode {
  readonly id: string;
  readonly hostname: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly taints: readonly NodeTaint[];
  readonly rack?: string;
  readonly zone?: string;
  /** Total capacity, including `ports`. */
  readonly capacity: Resources;
  /** Sum of the resources of its non-terminal tasks, including their ports. */
  readonly allocated: Resources;
  /** capacity − allocated. */
  readonly free: Resources;
  readonly condition: NodeCondition;
  /** Ids of the tasks the node holds resources for. */
  readonly taskIds: readonly string[];
}

/** A read-only view of a task at one moment. */
export interface EngineTask {
  readonly id: string;
  readonly nodeId: string;
  readonly name: string;
  readonly mode: TaskMode;
  /** The engine's own view; `status.state` is what observers were last told (UNREACHABLE on a partitioned node). */
  readonly state: TaskState;
  readonly status: TaskStatus;
  readonly resources: Resources;
  /** Host ports in request order. */
  readonly ports: readonly number[];
  readonly namedPorts: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly image?: string;
  readonly sandbox?: string;
  readonly pid?: number;
  readonly exitCode?: number;
  readonly signal?: string;
}

/** Resource usage of one task, in Mesos `ResourceStatistics` terms. */
export interface TaskStats {
  /** Seconds since the epoch, as Mesos reports it. */
  readonly timestamp: number;
  readonly cpusUserTimeSecs?: number;
  readonly cpusSystemTimeSecs?: number;
  /** The task's cpu request, in cpus. */
  readonly cpusLimit: number;
  readonly memRssBytes?: number;
  readonly memLimitBytes: number;
  readonly processes?: number;
  readonly threads?: number;
}

interface EventBase {
  readonly seq: number;
  /** Epoch ms on the engine's clock. */
  readonly time: number;
}

export type EngineEvent =
  | (EventBase & { readonly type: 'node-added'; readonly node: EngineNode })
  | (EventBase & { readonly type: 'node-removed'; readonly nodeId: string })
  | (EventBase & {
      readonly type: 'node-failed';
      readonly nodeId: string;
      readonly mode: 'lost' | 'unreachable';
    })
  | (EventBase & { readonly type: 'node-recovered'; readonly nodeId: string })
  | (EventBase & {
      readonly type: 'task-status';
      readonly taskId: string;
      readonly nodeId: string;
      readonly status: TaskStatus;
    })
  | (EventBase & { readonly type: 'engine-stopped' });

export type EngineEventType = EngineEvent['type'];

/** Which status events a fault rule applies to (all given fields must match). */
export interface StatusMatch {
  readonly taskId?: string;
  readonly nodeId?: string;
  readonly state?: TaskState;
}
