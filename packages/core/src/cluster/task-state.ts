/**
 * One lifecycle for every backend. Mesos reports a `TaskState` per task, Kubernetes a pod phase
 * plus per-container states; both map onto Berth's unified {@link TaskState}, and a
 * {@link TaskStatus} keeps the backend's own words (`rawState`, `reason`, `message`) next to it so
 * nothing is lost in translation.
 *
 * Lifecycle: PENDING (accepted, not placed) → STAGING (placed, being fetched/pulled) → STARTING
 * (container being created) → RUNNING → KILLING → one terminal state: FINISHED (exit 0), FAILED
 * (non-zero exit, OOM, deadline), KILLED (stopped on request), LOST (gone, may be rescheduled),
 * ERROR (the backend rejected the task as invalid). UNREACHABLE is not terminal: the node is
 * partitioned and the task may come back.
 */
import { BerthError } from './errors.ts';

export const TASK_STATES = [
  'PENDING',
  'STAGING',
  'STARTING',
  'RUNNING',
  'KILLING',
  'FINISHED',
  'FAILED',
  'KILLED',
  'LOST',
  'UNREACHABLE',
  'ERROR',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_TASK_STATES = ['FINISHED', 'FAILED', 'KILLED', 'LOST', 'ERROR'] as const;

export type TerminalTaskState = (typeof TERMINAL_TASK_STATES)[number];

const TERMINAL: ReadonlySet<TaskState> = new Set(TERMINAL_TASK_STATES);
const ALL: ReadonlySet<string> = new Set(TASK_STATES);

/** True for states a task never leaves: FINISHED, FAILED, KILLED, LOST, ERROR. */
export function isTerminal(state: TaskState): state is TerminalTaskState {
  return TERMINAL.has(state);
}

/** Narrow an untrusted string (CLI flag, JSON) to a TaskState. */
export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && ALL.has(value);
}

/** Which backend produced a status. Adapters outside this repo use their own name. */
export type BackendKind = 'mesos' | 'kubernetes' | (string & {});

/** Epoch milliseconds (as from `Clock.now()`). */
export interface TaskTimestamps {
  /** When the backend first heard of the task. */
  readonly created?: number;
  /** When it first reached RUNNING. */
  readonly started?: number;
  /** When it reached a terminal state. */
  readonly finished?: number;
  /** When this status was observed. */
  readonly updated: number;
}

/** The unified view of one task at one moment. */
export interface TaskStatus {
  readonly taskId: string;
  readonly state: TaskState;
  /** The backend's own state, e.g. `TASK_RUNNING` or the pod phase `Pending`. */
  readonly rawState: string;
  /** A short machine-readable cause in the backend's words: `OOMKilled`, `REASON_AGENT_REMOVED`. */
  readonly reason?: string;
  /** A human explanation, e.g. why the task is still PENDING. */
  readonly message?: string;
  readonly exitCode?: number;
  readonly nodeId?: string;
  readonly hostname?: string;
  /**
   * Where the task's `ports` are reachable when that is not the node's `hostname`: a Kubernetes
   * pod IP for ports without a host port. Absent when the task listens on its node (Mesos tasks,
   * host ports), so clients connect to `address ?? hostname`.
   */
  readonly address?: string;
  /** Ports by port name (`{ http: 31000 }`), reachable at `address ?? hostname`. */
  readonly ports: Readonly<Record<string, number>>;
  /** The service this task is a replica of, if any. */
  readonly service?: string;
  /**
   * Result of the task's health check: `true` healthy, `false` failing, absent when the task has
   * no health check or none has run yet. Service discovery withdraws endpoints of failing tasks.
   */
  readonly healthy?: boolean;
  readonly timestamps: TaskTimestamps;
  readonly backend: BackendKind;
}

// ---------------------------------------------------------------------------------------------
// Mesos

/** Every value of `mesos.v1.TaskState` (include/mesos/v1/mesos.proto), by name. */
export const MESOS_TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
] as const;

export type MesosTaskState = (typeof MESOS_TASK_STATES)[number];

/**
 * The documented Mesos → Berth mapping. TASK_DROPPED (transient launch failure), TASK_GONE (agent
 * or container gone), TASK_GONE_BY_OPERATOR and TASK_UNKNOWN (the master forgot the task) all mean
 * "not running any more and worth rescheduling", i.e. LOST. TASK_UNREACHABLE stays UNREACHABLE
 * because a partitioned agent may come back with the task still running.
 */
export const MESOS_TASK_STATE_MAP = {
  TASK_STAGING: 'STAGING',
  TASK_STARTING: 'STARTING',
  TASK_RUNNING: 'RUNNING',
  TASK_KILLING: 'KILLING',
  TASK_FINISHED: 'FINISHED',
  TASK_FAILED: 'FAILED',
  TASK_KILLED: 'KILLED',
  TASK_ERROR: 'ERROR',
  TASK_LOST: 'LOST',
  TASK_DROPPED: 'LOST',
  TASK_UNREACHABLE: 'UNREACHABLE',
  TASK_GONE: 'LOST',
  TASK_GONE_BY_OPERATOR: 'LOST',
  TASK_UNKNOWN: 'LOST',
} as const satisfies Record<MesosTaskState, TaskState>;

/** Numeric values of `mesos.v1.TaskState`, for protobuf payloads that carry numbers. */
const MESOS_TASK_STATE_NUMBERS: Readonly<Record<number, MesosTaskState>> = {
  0: 'TASK_STARTING',
  1: 'TASK_RUNNING',
  2: 'TASK_FINISHED',
  3: 'TASK_FAILED',
  4: 'TASK_KILLED',
  5: 'TASK_LOST',
  6: 'TASK_STAGING',
  7: 'TASK_ERROR',
  8: 'TASK_KILLING',
  9: 'TASK_DROPPED',
  10: 'TASK_UNREACHABLE',
  11: 'TASK_GONE',
  12: 'TASK_GONE_BY_OPERATOR',
  13: 'TASK_UNKNOWN',
};

/**
 * `TaskStatus.Reason` values that say the task description itself was refused: whatever terminal
 * state the master used to report them (older masters send TASK_LOST), Berth reports ERROR so the
 * user fixes the spec instead of waiting for a retry.
 */
const MESOS_INVALID_TASK_REASONS: ReadonlySet<string> = new Set([
  'REASON_TASK_INVALID',
  'REASON_TASK_GROUP_INVALID',
  'REASON_TASK_UNAUTHORIZED',
  'REASON_TASK_GROUP_UNAUTHORIZED',
]);

/**
 * Map a Mesos v1 task state (name like `TASK_RUNNING`, or its protobuf number) and optional
 * `TaskStatus.Reason` to the unified state. Throws `BerthError('UNSUPPORTED')` for a state this
 * version of Berth does not know, so a new Mesos state is never silently misreported.
 */
export function fromMesosTaskState(state: string | number, reason?: string): TaskState {
  const name = typeof state === 'number' ? MESOS_TASK_STATE_NUMBERS[state] : state;
  if (name === undefined || !Object.hasOwn(MESOS_TASK_STATE_MAP, name)) {
    throw new BerthError('UNSUPPORTED', `unknown Mesos task state ${JSON.stringify(state)}`, {
      component: 'core/cluster',
      hint: `Expected one of ${MESOS_TASK_STATES.join(', ')}; upgrade Berth if Mesos added a state.`,
      details: { state },
    });
  }
  const mapped = MESOS_TASK_STATE_MAP[name as MesosTaskState];
  if (reason !== undefined && MESOS_INVALID_TASK_REASONS.has(reason) && isTerminal(mapped)) return 'ERROR';
  return mapped;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes (structural types: core depends on no Kubernetes library)

export interface KubeConditionLike {
  readonly type: string;
  readonly status: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  /** RFC 3339 time the condition last changed status (kept for Ready: the HPA's readiness rules need it). */
  readonly lastTransitionTime?: string | undefined;
}

export interface KubeContainerStateLike {
  readonly waiting?:
    | { readonly reason?: string | undefined; readonly message?: string | undefined }
    | undefined;
  readonly running?: { readonly startedAt?: string | Date | undefined } | undefined;
  readonly terminated?:
    | {
        readonly exitCode: number;
        readonly reason?: string | undefined;
        readonly message?: string | undefined;
        readonly signal?: number | undefined;
      }
    | undefined;
}

export interface KubeContainerStatusLike {
  readonly name: string;
  readonly state?: KubeContainerStateLike | undefined;
  readonly lastState?: KubeContainerStateLike | undefined;
  readonly ready?: boolean | undefined;
  readonly restartCount?: number | undefined;
}

/** The fields of a `v1.Pod` the mapping reads; a `V1Pod` or the raw JSON both fit. */
export interface KubePodLike {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly deletionTimestamp?: string | Date | undefined;
      }
    | undefined;
  readonly spec?: { readonly nodeName?: string | undefined } | undefined;
  readonly status?:
    | {
        readonly phase?: string | undefined;
        readonly reason?: string | undefined;
        readonly message?: string | undefined;
        readonly conditions?: readonly KubeConditionLike[] | undefined;
        readonly containerStatuses?: readonly KubeContainerStatusLike[] | undefined;
        readonly initContainerStatuses?: readonly KubeContainerStatusLike[] | undefined;
      }
    | undefined;
}

export interface KubePodObservation {
  /** The pod watch reported DELETED: the pod is gone (KILLED unless it had already ended). */
  readonly deleted?: boolean;
}

/** What the pod says about the task; the adapter adds id, node, ports and timestamps. */
export interface KubeTaskState {
  readonly state: TaskState;
  /** The pod phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`). */
  readonly rawState: string;
  readonly reason?: string;
  readonly message?: string;
  readonly exitCode?: number;
}

/** Waiting reasons that mean the image cannot be fetched (the task stays STAGING, with the reason). */
export const KUBE_IMAGE_PULL_REASONS = [
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
] as const;

const IMAGE_PULL: ReadonlySet<string> = new Set(KUBE_IMAGE_PULL_REASONS);
/** Waiting reasons of a container the kubelet is actively creating. */
const CREATING: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

function result(
  state: TaskState,
  rawState: string,
  reason?: string,
  message?: string,
  exitCode?: number,
): KubeTaskState {
  return {
    state,
    rawState,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(exitCode === undefined ? {} : { exitCode }),
  };
}

function containers(pod: KubePodLike): readonly KubeContainerStatusLike[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** The first terminated container that failed, or else the last terminated one. */
function terminated(pod: KubePodLike) {
  const all = (pod.status?.containerStatuses ?? []).flatMap((c) =>
    c.state?.terminated ? [c.state.terminated] : [],
  );
  return all.find((t) => t.exitCode !== 0) ?? all.at(-1);
}

/**
 * Map a pod to the unified state. The rules, in order:
 *
 * 1. phase `Unknown`, or `status.reason` `NodeLost` → UNREACHABLE (the node stopped reporting).
 * 2. phase `Succeeded` → FINISHED (exit code 0).
 * 3. phase `Failed`: reason `Evicted` → LOST (the node reclaimed resources; reschedule);
 *    `DeadlineExceeded` → FAILED; otherwise FAILED with the failing container's exit code and
 *    reason (`OOMKilled`, `Error`).
 * 4. the pod watch said DELETED → KILLED; `deletionTimestamp` set → KILLING.
 * 5. phase `Pending`: not yet bound to a node → PENDING, with the `PodScheduled` condition's reason
 *    (`Unschedulable`) and message; a container waiting on an image (`ErrImagePull`,
 *    `ImagePullBackOff`, …) → STAGING with that reason; a container being created or an init
 *    container running → STARTING; otherwise STAGING.
 * 6. phase `Running`: a container in `CrashLoopBackOff` (or any other waiting reason) → STARTING
 *    with that reason and the last exit code (the kubelet restarts it, so it is not terminal);
 *    otherwise RUNNING.
 */
export function fromKubernetesPod(pod: KubePodLike, observed: KubePodObservation = {}): KubeTaskState {
  const status = pod.status ?? {};
  const phase = status.phase ?? 'Pending';
  if (phase === 'Unknown' || status.reason === 'NodeLost') {
    return result('UNREACHABLE', phase, status.reason ?? 'NodeLost', status.message);
  }
  if (phase === 'Succeeded') return result('FINISHED', phase, status.reason, status.message, 0);
  if (phase === 'Failed') {
    if (status.reason === 'Evicted') return result('LOST', phase, 'Evicted', status.message);
    const t = terminated(pod);
    if (status.reason === 'DeadlineExceeded') {
      return result('FAILED', phase, 'DeadlineExceeded', status.message, t?.exitCode);
    }
    return result('FAILED', phase, status.reason ?? t?.reason, status.message ?? t?.message, t?.exitCode);
  }
  if (phase !== 'Pending' && phase !== 'Running') {
    throw new BerthError('UNSUPPORTED', `unknown Kubernetes pod phase ${JSON.stringify(phase)}`, {
      component: 'core/cluster',
      hint: 'Expected Pending, Running, Succeeded, Failed or Unknown; upgrade Berth if Kubernetes added a phase.',
      details: { pod: pod.metadata?.name, phase },
    });
  }
  if (observed.deleted) return result('KILLED', phase, 'Deleted', status.message);
  if (pod.metadata?.deletionTimestamp !== undefined) {
    return result('KILLING', phase, 'Terminating', status.message);
  }
  const all = containers(pod);
  const waiting = all.flatMap((c) => (c.state?.waiting ? [{ c, w: c.state.waiting }] : []));
  if (phase === 'Pending') {
    const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
    const bound = scheduled?.status === 'True' || Boolean(pod.spec?.nodeName);
    if (!bound) {
      return result('PENDING', phase, scheduled?.reason, scheduled?.message ?? status.message);
    }
    const pull = waiting.find(({ w }) => w.reason !== undefined && IMAGE_PULL.has(w.reason));
    if (pull) return result('STAGING', phase, pull.w.reason, pull.w.message);
    const other = waiting.find(({ w }) => w.reason !== undefined && !CREATING.has(w.reason));
    if (other) return result('STAGING', phase, other.w.reason, other.w.message);
    const creating = waiting.some(({ w }) => w.reason !== undefined && CREATING.has(w.reason));
    const initRunning = (status.initContainerStatuses ?? []).some((c) => c.state?.running);
    if (creating || initRunning) return result('STARTING', phase);
    return result('STAGING', phase);
  }
  // Running
  const stuck = waiting.find(({ w }) => w.reason !== undefined && !CREATING.has(w.reason));
  if (stuck) {
    const last = stuck.c.lastState?.terminated;
    return result('STARTING', phase, stuck.w.reason, stuck.w.message ?? last?.message, last?.exitCode);
  }
  return result('RUNNING', phase);
}
