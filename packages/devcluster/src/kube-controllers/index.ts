// Public surface of devcluster/kube-controllers; re-exported from the package root.

export type { Controller, ControllerContext } from './controller.ts';
export { POD_TEMPLATE_HASH, REVISION_ANNOTATION, templateHash } from './deployment-controller.ts';
export { MANAGED_BY, SERVICE_NAME_LABEL } from './endpoints-controller.ts';
export type { GarbageCollectorOptions } from './garbage-collector.ts';
export type { HpaControllerOptions } from './hpa-controller.ts';
export type { JobControllerOptions } from './job-controller.ts';
export { type KubeCluster, type KubeClusterOptions, startKubeCluster } from './kube-cluster.ts';
export {
  CONTROLLER_NAMES,
  type ControllerName,
  type KubeControllers,
  type KubeControllersOptions,
  startKubeControllers,
} from './kube-controllers.ts';
export { type NodeLifecycleOptions, UNREACHABLE_TAINT } from './node-lifecycle.ts';
export {
  DEFAULT_SCHEDULER_NAME,
  failedSchedulingMessage,
  placementTaskOfPod,
  type SchedulerOptions,
  type SchedulerStats,
  SelectorSpread,
} from './scheduler.ts';
