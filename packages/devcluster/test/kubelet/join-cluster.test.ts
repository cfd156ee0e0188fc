import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  joinCluster,
  type KubeApiServer,
  startEngine,
  startKubeApiServer,
  startVirtualKubelet,
} from '../../src/index.ts';

let face: KubeApiServer | undefined;
afterEach(async () => {
  await face?.close();
  face = undefined;
});

const phaseOf = (name: string) =>
  ((face?.store.get('pods', 'default', name).status ?? {}) as { phase?: string }).phase;
async function until(check: () => boolean, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('joinCluster', () => {
  it('joins N simulated nodes from a kubeconfig file and deletes them (and their leases) on close', async () => {
    face = await startKubeApiServer({ podTerminationMs: null });
    const joined = await joinCluster({
      kubeconfigPath: face.kubeconfigPath,
      nodes: 3,
      simulated: true,
      prefix: 'join',
    });
    const names = face.store.list('nodes', '').items.map((n) => (n.metadata as { name: string }).name);
    expect(names.sort()).toEqual(['join-1', 'join-2', 'join-3']);
    expect(face.store.list('leases', 'kube-node-lease').items).toHaveLength(3);

    // Simulated even with a command; the pod runs on the node it is bound to.
    face.store.create('pods', 'default', {
      metadata: { name: 'p' },
      spec: { nodeName: 'join-2', containers: [{ name: 'c', image: 'img', command: ['sleep', '100'] }] },
    });
    await until(() => phaseOf('p') === 'Running');
    expect(joined.engine.tasks()[0]?.mode).toBe('simulated');

    await joined.close();
    expect(face.store.list('nodes', '').items).toHaveLength(0);
    expect(face.store.list('leases', 'kube-node-lease').items).toHaveLength(0);
    expect(joined.engine.running).toBe(false);
  });

  it('refuses a node count that is not a whole number ≥ 1, and an unreadable kubeconfig', async () => {
    await expect(joinCluster({ kubeconfigPath: 'x', nodes: 0 })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('--nodes'),
    });
    await expect(
      joinCluster({ kubeconfigPath: new URL('./no-such-kubeconfig', import.meta.url).pathname, nodes: 1 }),
    ).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      hint: expect.stringContaining('--kubeconfig'),
    });
  });
});

describe('startVirtualKubelet', () => {
  it('rejects bad options before touching the cluster', async () => {
    face = await startKubeApiServer({});
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(face.kubeconfigPath);
    await using engine = await startEngine({
      nodes: [{ count: 1, capacity: { cpu: 1000, memory: 2 ** 30 } }],
    });
    await expect(
      startVirtualKubelet({ kubeConfig, engine, heartbeatSeconds: 40, leaseDurationSeconds: 40 }),
    ).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('heartbeatSeconds'),
    });
    await expect(startVirtualKubelet({ kubeConfig, engine, nodes: ['nope'] })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('nope'),
    });
    await expect(startVirtualKubelet({ kubeConfig, engine, maxPods: -1 })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
    });
    expect(face.store.list('nodes', '').items).toHaveLength(0);
  });

  it('refuses to take over a Node that another kubelet registered', async () => {
    face = await startKubeApiServer({});
    face.store.create('nodes', '', { metadata: { name: 'node-1' } });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(face.kubeconfigPath);
    await using engine = await startEngine({
      nodes: [{ count: 1, capacity: { cpu: 1000, memory: 2 ** 30 } }],
    });
    await expect(startVirtualKubelet({ kubeConfig, engine, onError: () => {} })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('relists after its watch expires (410 Gone) and keeps running new pods', async () => {
    face = await startKubeApiServer({ podTerminationMs: null });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(face.kubeconfigPath);
    await using engine = await startEngine({
      nodes: [{ count: 1, capacity: { cpu: 1000, memory: 2 ** 30 } }],
    });
    const errors: unknown[] = [];
    await using kubelet = await startVirtualKubelet({
      kubeConfig,
      engine,
      simulated: true,
      onError: (e) => errors.push(e),
    });
    face.store.create('pods', 'default', {
      metadata: { name: 'before' },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'i' }] },
    });
    await until(() => phaseOf('before') === 'Running');
    face.expireWatches();
    await new Promise((r) => setTimeout(r, 100));
    face.store.create('pods', 'default', {
      metadata: { name: 'after' },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'i' }] },
    });
    await until(() => phaseOf('after') === 'Running');
    expect(kubelet.requestStats().byKind['list pods']).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  });
});
