// Public surface of core/cluster; re-exported from the package root.

export {
  type AbortSignalLike,
  type Clock,
  FakeClock,
  sleep,
  systemClock,
  type TimerHandle,
} from './clock.ts';
export {
  BERTH_ERROR_CODES,
  BerthError,
  type BerthErrorCode,
  type BerthErrorIssue,
  type BerthErrorOptions,
  isBerthError,
  toBerthError,
} from './errors.ts';
export {
  type Observer,
  Subject,
  type Subscribable,
  type ToAsyncIterableOptions,
  toAsyncIterable,
  type Unsubscribe,
} from './observable.ts';
export {
  type BackendKind,
  fromKubernetesPod,
  fromMesosTaskState,
  isTaskState,
  isTerminal,
  KUBE_IMAGE_PULL_REASONS,
  type KubeConditionLike,
  type KubeContainerStateLike,
  type KubeContainerStatusLike,
  type KubePodLike,
  type KubePodObservation,
  type KubeTaskState,
  MESOS_TASK_STATE_MAP,
  MESOS_TASK_STATES,
  type MesosTaskState,
  TASK_STATES,
  type TaskState,
  type TaskStatus,
  type TaskTimestamps,
  TERMINAL_TASK_STATES,
  type TerminalTaskState,
} from './task-state.ts';
