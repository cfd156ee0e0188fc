export * from './engine/index.ts';
export * from './kube/index.ts';
export * from './kubelet/index.ts';
export * from './mesos/index.ts';
