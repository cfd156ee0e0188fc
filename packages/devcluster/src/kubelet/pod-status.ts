/**
 * What the kubelet reports for a pod, computed from its containers' runtime states: the phase
 * (kubelet's getPhase rules), the four conditions and `containerStatuses`.
 */
import type { V1ContainerState, V1ContainerStatus, V1PodCondition } from '@kubernetes/client-node';

export interface TerminatedState {
  readonly exitCode: number;
  readonly signal?: number;
  /** `Completed`, `Error`, `OOMKilled`, … */
  readonly reason: string;
  readonly message?: string;
  readonly startedAt?: Date;
  readonly finishedAt: Date;
  readonly containerID?: string;
}

export type RuntimeState =
  | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly kind: 'running'; readonly startedAt: Date }
  | ({ readonly kind: 'terminated' } & TerminatedState);

export interface ContainerRuntime {
  readonly name: string;
  readonly image: string;
  readonly restartCount: number;
  readonly state: RuntimeState;
  readonly lastTerminated?: TerminatedState;
  readonly ready: boolean;
  readonly containerID?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/**
 * The pod phase from its containers, as the kubelet's getPhase: Pending while a container has
 * never started; Running while one runs or will be restarted; once all are terminated for good,
 * Failed if any failed, else Succeeded.
 */
export function podPhase(containers: readonly ContainerRuntime[]): PodPhase {
  if (containers.length === 0) return 'Pending';
  let pending = 0;
  let running = 0;
  let restarting = 0;
  let failed = 0;
  for (const c of containers) {
    if (c.state.kind === 'running') running++;
    else if (c.state.kind === 'waiting') {
      if (c.lastTerminated === undefined) pending++;
      else restarting++;
    } else if (c.state.exitCode !== 0) failed++;
  }
  if (pending > 0) return 'Pending';
  if (running > 0 || restarting > 0) return 'Running';
  return failed > 0 ? 'Failed' : 'Succeeded';
}

function terminatedJson(t: TerminatedState): V1ContainerState {
  return {
    terminated: {
      exitCode: t.exitCode,
      ...(t.signal === undefined ? {} : { signal: t.signal }),
      reason: t.reason,
      ...(t.message === undefined ? {} : { message: t.message }),
      ...(t.startedAt === undefined ? {} : { startedAt: t.startedAt }),
      finishedAt: t.finishedAt,
      ...(t.containerID === undefined ? {} : { containerID: t.containerID }),
    },
  };
}

export function containerStatus(c: ContainerRuntime): V1ContainerStatus {
  const s = c.state;
  const state: V1ContainerState =
    s.kind === 'waiting'
      ? { waiting: { reason: s.reason, ...(s.message === undefined ? {} : { message: s.message }) } }
      : s.kind === 'running'
        ? { running: { startedAt: s.startedAt } }
        : terminatedJson(s);
  return {
    name: c.name,
    image: c.image,
    imageID: `berth://image/${c.image}`,
    ...(c.containerID === undefined ? {} : { containerID: c.containerID }),
    ready: c.ready,
    started: s.kind === 'running',
    restartCount: c.restartCount,
    state,
    lastState: c.lastTerminated === undefined ? {} : terminatedJson(c.lastTerminated),
  };
}

/**
 * PodScheduled, Initialized, ContainersReady and Ready, keeping `lastTransitionTime` of a
 * condition whose status did not change.
 */
export function podConditions(
  phase: PodPhase,
  containers: readonly ContainerRuntime[],
  previous: readonly V1PodCondition[],
  now: Date,
  /** Init containers that have not completed yet (the pod is not Initialized while any remain). */
  pendingInits: readonly string[] = [],
): V1PodCondition[] {
  const allReady = containers.length > 0 && containers.every((c) => c.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReady = containers.filter((c) => !c.ready).map((c) => c.name);
  const make = (type: string, ok: boolean, reason?: string, message?: string): V1PodCondition => {
    const status = ok ? 'True' : 'False';
    const before = previous.find((p) => p.type === type);
    return {
      type,
      status,
      lastTransitionTime:
        before !== undefined && before.status === status && before.lastTransitionTime
          ? before.lastTransitionTime
          : now,
      ...(reason === undefined ? {} : { reason }),
      ...(message === undefined ? {} : { message }),
    };
  };
  const why = terminal
    ? { reason: 'PodCompleted' }
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
  const ready = allReady && !terminal;
  return [
    pendingInits.length > 0
      ? make(
          'Initialized',
          false,
          'ContainersNotInitialized',
          `containers with incomplete status: [${pendingInits.join(' ')}]`,
        )
      : make('Initialized', true, ...(terminal ? (['PodCompleted'] as const) : [])),
    ready ? make('Ready', true) : make('Ready', false, why.reason, why.message),
    ready ? make('ContainersReady', true) : make('ContainersReady', false, why.reason, why.message),
    make('PodScheduled', true),
  ];
}
