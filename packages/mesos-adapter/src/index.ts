/** @deprecated Use `describeScaleDecision` from `@berth/core` (the same line). */
export { describeScaleDecision as describeDecision } from '@berth/core';
export {
  AGENT_API_PATH,
  type GetContainersOptions,
  MesosAgentClient,
  type MesosAgentClientOptions,
} from './agent-client.ts';
export { type BackoffPolicy, DEFAULT_BACKOFF, fullJitterDelay } from './backoff.ts';
export {
  type ContainersReader,
  cpuSeconds,
  cpuUsageMillicores,
  MesosContainerMetrics,
  type MesosContainerMetricsOptions,
  type MesosReplica,
  replicaReady,
} from './container-metrics.ts';
export { parseMesosJson } from './json.ts';
export {
  createMesosAdapter,
  defaultStateFile,
  type EndpointWatchOptions,
  type MesosAdapter,
  type MesosAdapterClientSet,
  type MesosAdapterClients,
  type MesosAdapterOptions,
  type MesosAutoscalingOptions,
  type MesosFrameworkOptions,
} from './mesos-adapter.ts';
export {
  httpError,
  isRetryable,
  leaderBaseFromLocation,
  type MesosCredentials,
  MesosHttp,
  type MesosHttpOptions,
  type MesosHttpRequest,
  type MesosHttpResponse,
  type MesosTlsOptions,
  normaliseMasterUrl,
} from './mesos-http.ts';
export {
  MesosOperatorClient,
  type MesosOperatorClientOptions,
  OPERATOR_API_PATH,
} from './operator-client.ts';
export * from './proto/index.ts';
export {
  type DecodeRecordIOJsonOptions,
  decodeRecordIOJson,
  RecordIODecoder,
  type RecordIODecoderOptions,
} from './recordio.ts';
export {
  agentBaseUrl,
  type FollowOptions,
  MesosSandboxFiles,
  type MesosSandboxFilesOptions,
  type SandboxChunk,
  type SandboxFileInfo,
  sandboxPath,
} from './sandbox-files.ts';
export {
  DEFAULT_FRAMEWORK_CAPABILITIES,
  type DistributiveOmit,
  type DriverPhase,
  type DriverState,
  type MesosLogger,
  MesosSchedulerDriver,
  type MesosSchedulerDriverOptions,
  SCHEDULER_API_PATH,
} from './scheduler-driver.ts';
export { hashOf, stableJson, taskSpecFromJson, taskSpecToJson } from './spec-codec.ts';
export {
  type DesiredGoal,
  type DesiredTask,
  type LaunchClaim,
  type LaunchPhase,
  MesosStateStore,
  type MesosStateStoreOptions,
  type PendingAck,
  type RecordStatusResult,
  type StoredTask,
  type StoredWorkload,
  type UpsertResult,
} from './state-store.ts';
export {
  BERTH_LABELS,
  buildTaskInfo,
  durationInfo,
  GROUP_EXECUTOR_RESOURCES,
  groupExecutorInfo,
  namedPorts,
  portEnvName,
  type TaskInfoInput,
  taskEnvironment,
  taskResources,
} from './task-info.ts';
