/** Messages between `startJoinedCluster` (the test process) and `joined-cluster-process.ts`. */

/** Node label every node of one joined pool carries; tasks select it so other suites' nodes stay out. */
export const POOL_LABEL = 'berth.dev/real-k8s-pool';

/** One pod (one uid) as the real apiserver reported it to the probe's informer. */
export interface PodRecord {
  readonly uid: string;
  readonly schedulerName: string;
  /** Created with `spec.nodeName` already set (no scheduler involved). */
  readonly createdWithNode: boolean;
  nodeName: string;
  /** How many times `spec.nodeName` was set or changed after creation (a Binding each). */
  bindings: number;
  phase: string;
}

export type ProbeRequest = { id: number; op: 'pod'; key: string } | { id: number; op: 'close' };

export type ProbeReply =
  | { ready: readonly string[] }
  | { id: number; pods: readonly PodRecord[]; running: boolean }
  | { id: number; closed: true };
