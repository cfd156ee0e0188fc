/**
 * Two in-memory clusters named like the devcluster contexts, for `pnpm --filter dashboard dev`,
 * `start` without real contexts, and the browser tests. When the Mesos and Kubernetes adapters
 * land, the same {@link DashboardContext} list is built from devcluster's faces instead.
 */
import { createMemoryAdapter, MemoryCluster, type MemoryNodeInit } from '@berth/adapter-testkit';
import {
  API_VERSION,
  type BerthDocument,
  type ClusterAdapter,
  PortRanges,
  Resources,
  SPEC_DEFAULTS,
  type TaskSpec,
} from '@berth/core';
import type { DashboardContext } from './live-hub.ts';

export interface DemoOptions {
  /** Nodes per context (default 6). */
  readonly nodes?: number;
  /** Start the demo workload (a web Service, batch tasks of two tenants, one unplaceable task; default true). */
  readonly workload?: boolean;
}

export interface DemoContexts extends AsyncDisposable {
  readonly contexts: readonly DashboardContext[];
  readonly clusters: ReadonlyMap<string, MemoryCluster>;
  /** Close the adapters and stop every simulated task. */
  close(): Promise<void>;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The context names devcluster's quick start writes (one per face). */
export const DEMO_CONTEXT_NAMES = { mesos: 'devcluster-mesos', kubernetes: 'devcluster-kubernetes' } as const;

function nodes(prefix: string, count: number): MemoryNodeInit[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i + 1}`,
    hostname: `${prefix}-${i + 1}.local`,
    labels: { 'berth.dev/zone': `zone-${(i % 3) + 1}`, rack: `r${Math.floor(i / 4) + 1}` },
    allocatable: Resources.of({
      cpu: 4000 * (1 + (i % 2)),
      memory: 8 * GiB * (1 + (i % 2)),
      disk: 50 * GiB,
      ports: PortRanges.of({ begin: 31000, end: 31999 }),
    }),
  }));
}

function spec(
  name: string,
  tenant: string,
  cpu: number,
  memoryMiB: number,
  command = 'sleep 86400',
): TaskSpec {
  return {
    name,
    command,
    env: {},
    resources: { requests: Resources.of({ cpu, memory: memoryMiB * MiB }) },
    ports: [],
    priority: SPEC_DEFAULTS.priority,
    tenant,
    constraints: [],
    nodeSelector: {},
    tolerations: [],
    restartPolicy: { policy: 'never' },
    killGracePeriodSeconds: 2,
    labels: {},
  };
}

/** The demo workload: a 3-replica web Service, batch tasks of two tenants and one task no node fits. */
export function demoWorkload(): BerthDocument[] {
  const task = (name: string, tenant: string, cpu: number, mem: number): BerthDocument => ({
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name, tenant, labels: {} },
    spec: spec(name, tenant, cpu, mem),
  });
  return [
    {
      apiVersion: API_VERSION,
      kind: 'Service',
      metadata: { name: 'web', tenant: 'frontend', labels: {} },
      spec: { template: spec('web', 'frontend', 500, 512), replicas: 3 },
    },
    task('etl-1', 'analytics', 2000, 4096),
    task('etl-2', 'analytics', 1500, 2048),
    task('report', 'analytics', 250, 256),
    task('giant', 'analytics', 512_000, 2048),
  ];
}

export async function createDemoContexts(options: DemoOptions = {}): Promise<DemoContexts> {
  const count = options.nodes ?? 6;
  const clusters = new Map<string, MemoryCluster>();
  const adapters: ClusterAdapter[] = [];
  const contexts: DashboardContext[] = [];
  for (const [backend, name] of Object.entries(DEMO_CONTEXT_NAMES)) {
    const cluster = new MemoryCluster({ nodes: nodes(backend === 'mesos' ? 'agent' : 'node', count) });
    const adapter = createMemoryAdapter({ cluster });
    await adapter.connect();
    clusters.set(name, cluster);
    adapters.push(adapter);
    contexts.push({ name, backend, adapter });
  }
  if (options.workload ?? true) {
    for (const a of adapters) await a.submit(demoWorkload());
  }
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      for (const a of adapters) await a.close();
      for (const c of clusters.values()) c.shutdown();
    })();
    return closed;
  };
  return { contexts, clusters, close, [Symbol.asyncDispose]: close };
}
