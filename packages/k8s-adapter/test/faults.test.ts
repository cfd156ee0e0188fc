import { serviceDocument, taskDocument, waitFor } from '@berth/adapter-testkit';
import { isBerthError } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK8sAdapter, type K8sAdapter } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

let cluster: KubeTestCluster;
let proxy: FaultProxy;
let adapter: K8sAdapter;
let n = 0;
const name = (s: string) => `ft${++n}-${s}`;

beforeAll(async () => {
  cluster = await startKubeTestCluster();
  proxy = await startFaultProxy(cluster.server);
  // The scheduler and the adapter both talk through the proxy, so both see every fault.
  await cluster.scheduler({
    kubeConfig: proxy.kubeConfig(),
    leaderElection: false,
    retryUnschedulableMs: 200,
  });
  adapter = createK8sAdapter({
    kubeConfig: proxy.kubeConfig(),
    mode: 'berth',
    backoff: { initialMs: 20, maxMs: 200 },
  });
  await adapter.connect();
}, 60_000);
afterAll(async () => {
  await adapter?.close();
  await cluster?.close();
  await proxy?.close();
});

async function runs(id: string) {
  await waitFor(
    `${id} RUNNING`,
    async () => {
      const [s] = await adapter.tasks({ ids: [id] });
      if (s?.state !== 'RUNNING') throw new Error(`last ${s?.state}`);
      return s;
    },
    { timeoutMs: 10_000, intervalMs: 20 },
  );
}

const onceEach = (ids: string[]) => {
  for (const id of ids) {
    expect(cluster.creations.get(`default/${id}`), `${id} created`).toBe(1);
    expect(cluster.bindings.get(`default/${id}`), `${id} bound`).toBe(1);
  }
};

describe('faults between Berth and the API server', () => {
  it('relists after 410 Gone and loses no pod, binding each once', async () => {
    const a = name('gone-a');
    await adapter.submit([taskDocument(a)]);
    await runs(a);
    const relists = adapter.getClient().cache!.pods.stats().relists;
    cluster.server.expireWatches();
    const b = name('gone-b');
    await adapter.submit([taskDocument(b)]);
    await runs(b);
    await waitFor('a relist', () =>
      adapter.getClient().cache!.pods.stats().relists > relists ? true : undefined,
    );
    onceEach([a, b]);
  });

  it('recovers from dropped watch streams with back-off, nothing lost', async () => {
    const before = adapter.getClient().cache!.pods.stats().watches;
    proxy.dropWatches();
    const id = name('drop');
    await adapter.submit([taskDocument(id)]);
    await runs(id);
    expect(adapter.getClient().cache!.pods.stats().watches).toBeGreaterThan(before);
    onceEach([id]);
  });

  it('survives an apiserver restart: watches resume, pending pods are bound once', async () => {
    const id = name('restart');
    await adapter.submit([taskDocument(id)]);
    await proxy.restart(300);
    await runs(id);
    const after = name('after-restart');
    await adapter.submit([taskDocument(after)]);
    await runs(after);
    onceEach([id, after]);
  });

  it('retries a 429 after its Retry-After and creates the pod once', async () => {
    const id = name('throttled');
    proxy.inject({
      method: 'POST',
      path: '/namespaces/default/pods',
      status: 429,
      headers: { 'Retry-After': '1' },
    });
    const t0 = Date.now();
    const [r] = await adapter.submit([taskDocument(id)]);
    expect(r?.outcome).toBe('created');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await runs(id);
    onceEach([id]);
  });

  it('retries an update that got 409 Conflict on a fresh read', async () => {
    const svc = name('svc');
    await adapter.submit([serviceDocument(svc, 1)]);
    proxy.inject({
      method: 'PUT',
      path: `/deployments/${svc}/scale`,
      status: 409,
      body: { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' },
    });
    await adapter.scale(svc, 3);
    const d = cluster.server.store.get('deployments', 'default', svc) as { spec: { replicas: number } };
    expect(d.spec.replicas).toBe(3);
  });

  it('maps 401 to AUTH_FAILED and 403 to FORBIDDEN naming the verb and resource', async () => {
    proxy.inject({
      method: 'POST',
      path: '/namespaces/default/pods',
      status: 403,
      body: { kind: 'Status', code: 403, message: 'pods is forbidden' },
    });
    const err = await adapter.submit([taskDocument(name('forbidden'))]).catch((e: unknown) => e);
    expect(isBerthError(err, 'FORBIDDEN')).toBe(true);
    expect((err as Error).message).toMatch(/not allowed to create pods in namespace default/);
    proxy.inject({ method: 'GET', path: '/apis', status: 401 });
    const other = createK8sAdapter({ kubeConfig: proxy.kubeConfig() });
    const e401 = await other.connect().catch((e: unknown) => e);
    await other.close();
    expect(isBerthError(e401, 'AUTH_FAILED')).toBe(true);
  });

  it('never places on a NotReady node', async () => {
    const nodes = cluster.kubelet.nodeNames;
    const sick = nodes[0]!;
    const node = cluster.server.store.get('nodes', '', sick) as {
      status: { conditions: { type: string; status: string }[] };
    };
    // The kubelet's next status report would heal it: use a scheduler-only check on the cache view.
    const conditions = node.status.conditions.map((c) =>
      c.type === 'Ready' ? { ...c, status: 'False' } : c,
    );
    cluster.server.store.patch(
      'nodes',
      '',
      sick,
      'merge',
      { status: { conditions } },
      { subresource: 'status' },
    );
    await waitFor('the cache to see NotReady', () =>
      adapter.getClient().cache!.node(sick)?.ready === false ? true : undefined,
    );
    const ids = [name('nr-a'), name('nr-b'), name('nr-c')];
    await adapter.submit(ids.map((id) => taskDocument(id)));
    for (const id of ids) {
      const [s] = await waitFor(`${id} bound`, async () => {
        const list = await adapter.tasks({ ids: [id] });
        return list[0]?.nodeId === undefined ? undefined : list;
      });
      expect(s?.nodeId).not.toBe(sick);
    }
  });
});

describe('connection errors', () => {
  it('names the server URL when the connection is refused', async () => {
    const closed = await startFaultProxy(cluster.server);
    await closed.close();
    const kc = closed.kubeConfig();
    const b = createK8sAdapter({ kubeConfig: kc });
    const err = await b.connect().catch((e: unknown) => e);
    expect(isBerthError(err, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`${closed.url}: connection refused`);
    await b.close();
  });
});
