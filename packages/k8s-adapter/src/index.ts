export {
  type ApiGroupName,
  type ApiVersionChoice,
  chooseApiVersions,
  type DiscoveredGroup,
  requireApiVersion,
  SUPPORTED_GROUP_VERSIONS,
} from './api-versions.ts';
export {
  type BerthScheduler,
  type BerthSchedulerOptions,
  type BerthSchedulerStats,
  startBerthScheduler,
} from './berth-scheduler.ts';
export { ClusterCache, type ClusterCacheOptions } from './cluster-cache.ts';
export {
  type DeploymentRef,
  DeploymentScaler,
  type DeploymentScalerOptions,
  type ScaleObject,
  scalePath,
} from './deployment-scaler.ts';
export { Informer, type InformerHandler, type InformerOptions, type InformerStats } from './informer.ts';
export {
  createK8sAdapter,
  type K8sAdapter,
  type K8sAdapterOptions,
  type K8sClientHandle,
  loadKubeConfig,
  logLineOf,
} from './k8s-adapter.ts';
export {
  AUTOSCALING_ANNOTATION,
  chooseAutoscalingController,
  K8sAutoscaler,
  type K8sAutoscalerOptions,
  type K8sAutoscalingController,
  type K8sAutoscalingOptions,
} from './k8s-autoscaler.ts';
export {
  KubeClient,
  type KubeClientOptions,
  type KubeClientStats,
  type RawWatchEvent,
  type RequestInit,
  type WatchHandle,
} from './kube-client.ts';
export { kubeHttpError, type RbacRequest, rbacRequestOf } from './kube-errors.ts';
export {
  type KubeMetricsPod,
  type KubeMetricsTarget,
  KubePodMetrics,
  type KubePodMetricsOptions,
  type PodMetricsItem,
  parseGoDuration,
  podMetricSample,
  podUsageOf,
} from './kube-pod-metrics.ts';
export { type LeaderElectionOptions, LeaderElector } from './leader-election.ts';
export {
  BERTH_SCHEDULER_NAME,
  jobFor,
  type MappingOptions,
  objectsForService,
  podForTask,
  type SchedulingMode,
  specHash,
  translateConstraints,
} from './object-mapping.ts';
export {
  LABELS as BERTH_K8S_LABELS,
  type NodeRecord,
  nodeRecord,
  type PodRecord,
  podRecord,
} from './records.ts';
export { taskIdOf, taskStatusOf } from './task-status.ts';
