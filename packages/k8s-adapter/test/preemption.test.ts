import { taskDocument, waitFor } from '@berth/adapter-testkit';
import { Resources } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthScheduler } from '../src/berth-scheduler.ts';
import { createK8sAdapter, type K8sAdapter } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';

const MiB = 1024 ** 2;
let cluster: KubeTestCluster;
let scheduler: BerthScheduler;
let adapter: K8sAdapter;
/** `status.nominatedNodeName` values seen on the pods before they were bound, by pod name. */
const nominations = new Map<string, string>();
let stopWatch: () => void = () => {};

beforeAll(async () => {
  cluster = await startKubeTestCluster({ nodes: 1 });
  stopWatch = cluster.server.store.watch('pods', '', {}, (e) => {
    const meta = (e.object.metadata ?? {}) as { name?: string };
    const spec = (e.object.spec ?? {}) as { nodeName?: string };
    const status = (e.object.status ?? {}) as { nominatedNodeName?: string };
    if (status.nominatedNodeName && !spec.nodeName && meta.name)
      nominations.set(meta.name, status.nominatedNodeName);
  });
  scheduler = await cluster.scheduler({ retryUnschedulableMs: 200 });
  adapter = createK8sAdapter({
    kubeConfig: cluster.kubeConfig(),
    mode: 'berth',
    backoff: { initialMs: 50, maxMs: 500 },
  });
  await adapter.connect();
}, 60_000);
afterAll(async () => {
  stopWatch();
  await adapter?.close();
  await cluster?.close();
});

const big = Resources.of({ cpu: 3000, memory: 64 * MiB });

describe('preemption in Berth scheduler mode (core DefaultPreemption)', () => {
  it('a high-priority pod evicts a low-priority one, is nominated, then bound once', async () => {
    await adapter.submit([
      taskDocument('pre-low', {
        requests: big,
        overrides: { priority: -1000, priorityClassName: 'low' },
      }),
    ]);
    await waitFor('pre-low RUNNING', async () => {
      const [s] = await adapter.tasks({ ids: ['pre-low'] });
      return s?.state === 'RUNNING' ? s : undefined;
    });
    await adapter.submit([
      taskDocument('pre-high', {
        requests: big,
        overrides: { priority: 1000, priorityClassName: 'high' },
      }),
    ]);
    const high = await waitFor(
      'pre-high RUNNING',
      async () => {
        const [s] = await adapter.tasks({ ids: ['pre-high'] });
        return s?.state === 'RUNNING' ? s : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const node = cluster.engine.nodes()[0]!.id;
    expect(high.nodeId).toBe(node);
    expect(nominations.get('pre-high')).toBe(node);
    const [low] = await adapter.tasks({ ids: ['pre-low'] });
    expect(low?.state).toMatch(/KILLED|KILLING|FAILED|LOST/);
    expect(cluster.engine.tasks().filter((t) => t.state === 'RUNNING').length).toBe(1);
    expect(scheduler.stats().evictions).toBe(1);
    expect(cluster.bindings.get('default/pre-high')).toBe(1);
    expect(cluster.bindings.get('default/pre-low')).toBe(1);
    expect(cluster.creations.get('default/pre-high')).toBe(1);
  });

  it('a pod of equal priority waits (Unschedulable) instead of evicting', async () => {
    await adapter.submit([
      taskDocument('pre-peer', {
        requests: big,
        overrides: { priority: 1000, priorityClassName: 'high' },
      }),
    ]);
    const s = await waitFor('pre-peer Unschedulable', async () => {
      const [t] = await adapter.tasks({ ids: ['pre-peer'] });
      return t?.reason === 'Unschedulable' ? t : undefined;
    });
    expect(s.state).toBe('PENDING');
    await new Promise((r) => setTimeout(r, 600));
    expect(scheduler.stats().evictions).toBe(1);
    const [high] = await adapter.tasks({ ids: ['pre-high'] });
    expect(high?.state).toBe('RUNNING');
    expect(nominations.has('pre-peer')).toBe(false);
  });
});
