// Public surface of devcluster/kube; re-exported from the package root.

export {
  type KubeApiServer,
  type KubeApiServerOptions,
  type MetricsProvider,
  type NodeMetricsSample,
  type PodLogProvider,
  type PodLogRequest,
  type PodMetricsSample,
  startKubeApiServer,
} from './api-server.ts';
export { createServingCertificates, type ServingCertificates } from './certificates.ts';
export { KUBE_VERSION } from './discovery.ts';
export {
  type DeleteOptions,
  type DeleteResult,
  type FieldValidation,
  KubeApi,
  type KubeApiOptions,
  type ListOptions,
  type ListResult,
  type PatchType,
  type PropagationPolicy,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
  type WriteResult,
} from './kube-api.ts';
export type { Json, JsonObject } from './patch.ts';
export { RESOURCES, type ResourceDef } from './resources.ts';
export { KubeStatusError, type StatusCause, type StatusObject, type StatusReason } from './status.ts';
