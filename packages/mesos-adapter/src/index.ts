export { type BackoffPolicy, DEFAULT_BACKOFF, fullJitterDelay } from './backoff.ts';
export { parseMesosJson } from './json.ts';
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
export {
  type DesiredGoal,
  type DesiredTask,
  type LaunchPhase,
  MesosStateStore,
  type MesosStateStoreOptions,
  type PendingAck,
  type RecordStatusResult,
  type StoredTask,
  type UpsertResult,
} from './state-store.ts';
