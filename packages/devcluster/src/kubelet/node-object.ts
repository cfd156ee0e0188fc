/**
 * How an engine node looks as a Kubernetes Node: capacity and allocatable, the well-known labels,
 * taints, addresses, the kubelet endpoint, nodeInfo and the four kubelet conditions.
 */
import { arch, platform, release } from 'node:os';
import type { V1Node, V1NodeCondition, V1NodeStatus, V1Taint } from '@kubernetes/client-node';
import type { EngineNode } from '../engine/index.ts';

/** The version string the virtual kubelet reports in `status.nodeInfo.kubeletVersion`. */
export const KUBELET_VERSION = 'v1.32.0-berth';

/** The taint a real control plane adds at admission and removes once the node is Ready. */
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

export const LABELS = {
  hostname: 'kubernetes.io/hostname',
  os: 'kubernetes.io/os',
  arch: 'kubernetes.io/arch',
  instanceType: 'node.kubernetes.io/instance-type',
  zone: 'topology.kubernetes.io/zone',
  region: 'topology.kubernetes.io/region',
  /** Marks Nodes a Berth virtual kubelet registered, as kwok's `type: kwok`. */
  virtual: 'berth.dev/virtual-kubelet',
} as const;

export interface NodeObjectOptions {
  readonly kubeletPort: number;
  /** Max pods per node (capacity `pods`), default 110 as the kubelet's `--max-pods`. */
  readonly maxPods: number;
  /** Now, for condition timestamps. */
  readonly now: Date;
  readonly ready: boolean;
}

const GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

export function goArch(): string {
  return GOARCH[arch()] ?? arch();
}

export function goOs(): string {
  return platform() === 'win32' ? 'windows' : platform();
}

/** `node.kubernetes.io/instance-type` when the engine gives none, e.g. `berth-4cpu-8gi`. */
function instanceType(node: EngineNode): string {
  const cpu = node.capacity.cpu / 1000;
  const gi = Math.round(node.capacity.memory / 2 ** 30);
  return `berth-${Number.isInteger(cpu) ? cpu : cpu.toFixed(1)}cpu-${gi}gi`;
}

export function nodeLabels(node: EngineNode): Record<string, string> {
  const zone = node.labels[LABELS.zone] ?? node.zone;
  return {
    [LABELS.os]: goOs(),
    [LABELS.arch]: goArch(),
    'beta.kubernetes.io/os': goOs(),
    'beta.kubernetes.io/arch': goArch(),
    [LABELS.instanceType]: instanceType(node),
    [LABELS.region]: 'devcluster',
    ...(zone === undefined ? {} : { [LABELS.zone]: zone }),
    [LABELS.virtual]: 'true',
    ...node.labels,
    [LABELS.hostname]: node.labels[LABELS.hostname] ?? node.hostname,
  };
}

export function nodeTaints(node: EngineNode): V1Taint[] {
  return node.taints.map((t) => ({
    key: t.key,
    effect: t.effect,
    ...(t.value === undefined ? {} : { value: t.value }),
  }));
}

/** Capacity as a Kubernetes ResourceList, with `pods` (host ports are not a Node resource). */
export function nodeCapacity(node: EngineNode, maxPods: number): Record<string, string> {
  const list = node.capacity.toQuantities();
  return {
    cpu: list.cpu ?? '0',
    memory: list.memory ?? '0',
    'ephemeral-storage': list['ephemeral-storage'] ?? '0',
    pods: String(maxPods),
    ...list,
  };
}

export function nodeConditions(ready: boolean, now: Date, since: Date): V1NodeCondition[] {
  const at = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
  });
  return [
    at('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    at('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    at('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready
      ? at('Ready', 'True', 'KubeletReady', 'Berth virtual kubelet is posting ready status')
      : at('Ready', 'False', 'KubeletNotReady', 'Berth virtual kubelet is starting'),
  ];
}

export function nodeStatus(node: EngineNode, options: NodeObjectOptions, since: Date): V1NodeStatus {
  const capacity = nodeCapacity(node, options.maxPods);
  return {
    capacity,
    allocatable: { ...capacity },
    conditions: nodeConditions(options.ready, options.now, since),
    addresses: [
      { type: 'InternalIP', address: node.address },
      // Every virtual node is this machine: `localhost` resolves, so an apiserver that prefers
      // Hostname addresses (kube-apiserver's default --kubelet-preferred-address-types) reaches
      // the kubelet API; the node's own name stays in the kubernetes.io/hostname label.
      { type: 'Hostname', address: 'localhost' },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: options.kubeletPort } },
    nodeInfo: {
      machineID: node.id,
      systemUUID: node.id,
      bootID: node.id,
      kernelVersion: release(),
      osImage: 'Berth devcluster virtual node',
      containerRuntimeVersion: 'berth://0.0.0',
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: goOs(),
      architecture: goArch(),
    },
  };
}

/** The Node the kubelet registers for an engine node. */
export function nodeObject(node: EngineNode, options: NodeObjectOptions): V1Node {
  const taints = nodeTaints(node);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.id,
      labels: nodeLabels(node),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'berth.dev/engine-node': node.id },
    },
    spec: taints.length === 0 ? {} : { taints },
    status: nodeStatus(node, options, options.now),
  };
}
