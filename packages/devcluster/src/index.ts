export {
  DEFAULT_KUBE_PORT,
  DEFAULT_MESOS_PORT,
  type Devcluster,
  type DevclusterOptions,
  isPortFree,
  startDevcluster,
} from './devcluster.ts';
export * from './engine/index.ts';
export * from './kube/index.ts';
export * from './kube-controllers/index.ts';
export * from './kubelet/index.ts';
export * from './mesos/index.ts';
