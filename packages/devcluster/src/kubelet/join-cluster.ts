/**
 * `berth devcluster join`: a fresh engine with N nodes joined to the cluster of a kubeconfig;
 * closing detaches (deletes its Nodes and Leases) and stops the engine.
 */

import { BerthError, Resources } from '@berth/core';
import { KubeConfig } from '@kubernetes/client-node';
import { type Engine, startEngine } from '../engine/index.ts';
import { COMPONENT } from './kube-client.ts';
import { startVirtualKubelet, type VirtualKubelet, type VirtualKubeletOptions } from './virtual-kubelet.ts';

export interface JoinClusterOptions extends Omit<VirtualKubeletOptions, 'kubeConfig' | 'engine' | 'nodes'> {
  /** The kubeconfig file of the cluster to join (its current context). */
  readonly kubeconfigPath: string;
  /** Use this context instead of the file's current one. */
  readonly context?: string;
  /** How many nodes to add. */
  readonly nodes: number;
  /** Node names are `<prefix>-<n>` (default `berth-vk`). */
  readonly prefix?: string;
  /** Capacity of every node as Kubernetes quantities (default 4 cpu, 8Gi memory, 100Gi disk). */
  readonly capacity?: {
    readonly cpu?: string;
    readonly memory?: string;
    readonly 'ephemeral-storage'?: string;
  };
  /** Spread the nodes over this many zones (default 1). */
  readonly zones?: number;
}

export interface JoinedCluster {
  readonly engine: Engine;
  readonly kubelet: VirtualKubelet;
  /** Deletes the Nodes this join registered, stops their pods and the engine. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function joinCluster(options: JoinClusterOptions): Promise<JoinedCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) {
    throw new BerthError('SPEC_INVALID', `--nodes must be a whole number ≥ 1, got ${String(options.nodes)}`, {
      component: COMPONENT,
      hint: 'Pass how many virtual nodes to join, e.g. --nodes 3.',
    });
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(options.kubeconfigPath);
    if (options.context !== undefined) kubeConfig.setCurrentContext(options.context);
  } catch (cause) {
    throw new BerthError(
      'SPEC_INVALID',
      `cannot read the kubeconfig ${options.kubeconfigPath}: ${(cause as Error).message}`,
      {
        component: COMPONENT,
        hint: 'Pass --kubeconfig <file> of the cluster to join (the file kubectl uses).',
        cause,
      },
    );
  }
  const capacity = Resources.fromQuantities({
    cpu: '4',
    memory: '8Gi',
    'ephemeral-storage': '100Gi',
    ...options.capacity,
  });
  const engine = await startEngine({
    nodes: [
      {
        count: options.nodes,
        prefix: options.prefix ?? 'berth-vk',
        capacity,
        ...(options.zones === undefined ? {} : { zones: options.zones }),
      },
    ],
  });
  let kubelet: VirtualKubelet;
  try {
    const {
      kubeconfigPath: _path,
      context: _context,
      nodes: _nodes,
      prefix: _prefix,
      capacity: _capacity,
      zones: _zones,
      ...rest
    } = options;
    kubelet = await startVirtualKubelet({ ...rest, kubeConfig, engine });
  } catch (error) {
    await engine.stop();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await kubelet.close({ deleteNodes: true });
      await engine.stop();
    })();
    return closing;
  };
  return { engine, kubelet, close, [Symbol.asyncDispose]: close };
}
