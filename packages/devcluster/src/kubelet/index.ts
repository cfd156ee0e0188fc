// Public surface of devcluster/kubelet; re-exported from the package root.
export { type JoinClusterOptions, type JoinedCluster, joinCluster } from './join-cluster.ts';
export type { KubeletRequestStats } from './kube-client.ts';
export { createKubeletLogProxy, type KubeletLogProxyOptions } from './log-proxy.ts';
export { LEASE_NAMESPACE } from './node-agent.ts';
export { KUBELET_VERSION, LABELS as KUBELET_NODE_LABELS, NOT_READY_TAINT } from './node-object.ts';
export {
  type BackoffOptions,
  BOUND_PODS_SELECTOR,
  type ContainerLogOptions,
  SIMULATION_ANNOTATIONS,
} from './pod-manager.ts';
export { startVirtualKubelet, type VirtualKubelet, type VirtualKubeletOptions } from './virtual-kubelet.ts';
