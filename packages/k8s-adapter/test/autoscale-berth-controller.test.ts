/**
 * Berth's own HPA controller on Kubernetes, driven by a FakeClock: the adapter (delegate mode with
 * `autoscaling.controller: 'berth'`, so no HPA object) reads metrics.k8s.io and the informer cache,
 * and scales through the Deployment's `/scale` on devcluster's Kubernetes face over real HTTP. Pods
 * really run (virtual kubelet + engine); only the cpu figure metrics.k8s.io reports is the test's,
 * so each sync's input is known: 200m of a 100m request under load, 2m once idle.
 */
import { autoscaledServiceDocument, cpuAutoscaling, waitFor } from '@berth/adapter-testkit';
import { type AutoscalingSpec, type ClusterEvent, FakeClock } from '@berth/core';
import {
  type Engine,
  type KubeCluster,
  startEngine,
  startKubeCluster,
  startVirtualKubelet,
  type VirtualKubelet,
} from '@berth/devcluster';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentScaler, type ScaleObject } from '../src/deployment-scaler.ts';
import { createK8sAdapter, type K8sAdapter } from '../src/k8s-adapter.ts';
import type { KubeClient } from '../src/kube-client.ts';

const PERIOD = 15_000;

/** What metrics.k8s.io reports for every container: its cpu, or an outage. */
let load: 'burn' | 'idle' | 'down' = 'idle';
let server: KubeCluster;
let engine: Engine;
let kubelet: VirtualKubelet | undefined;
let kubeConfig: () => KubeConfig;

beforeAll(async () => {
  server = await startKubeCluster({
    podTerminationMs: null,
    bookmarkIntervalMs: 1000,
    metrics: () => {
      if (load === 'down') throw new Error('metrics-server is unavailable');
      const m = kubelet?.metrics() ?? { nodes: [], pods: [] };
      const cpu = load === 'burn' ? '200m' : '2m';
      return {
        nodes: m.nodes,
        pods: m.pods.map((p) => ({
          ...p,
          containers: p.containers.map((c) => ({ ...c, usage: { ...c.usage, cpu } })),
        })),
      };
    },
    controllers: { onError: () => {} },
  });
  kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    return kc;
  };
  engine = await startEngine({ preset: 'laptop' });
  kubelet = await startVirtualKubelet({
    kubeConfig: kubeConfig(),
    engine,
    heartbeatSeconds: 1,
    metricsIntervalSeconds: 1,
    backoff: { initialMs: 200, maxMs: 1000 },
    onError: () => {},
  });
}, 60_000);

afterAll(async () => {
  await kubelet?.close();
  await engine?.stop();
  await server?.close();
});

/** A service of `sleep` replicas (0.1 cpu each, no ports): the test sets the cpu metrics.k8s.io reports. */
const serviceDoc = (name: string, autoscaling?: AutoscalingSpec) =>
  autoscaledServiceDocument(name, {
    discovery: false,
    ...(autoscaling === undefined ? {} : { autoscaling }),
  });

const scalePath = (name: string) => `/apis/apps/v1/namespaces/default/deployments/${name}/scale`;

describe('Berth’s autoscaling controller on Kubernetes (FakeClock, devcluster face)', {
  timeout: 60_000,
}, () => {
  let adapter: K8sAdapter;
  const clock = new FakeClock(Date.now());
  const events: ClusterEvent[] = [];

  beforeAll(async () => {
    adapter = createK8sAdapter({
      kubeConfig: kubeConfig(),
      clock,
      backoff: { initialMs: 50, maxMs: 500 },
      autoscaling: { controller: 'berth', syncPeriodMs: PERIOD, decide: { cpuInitializationPeriodMs: 0 } },
    });
    await adapter.connect();
    void (async () => {
      for await (const e of adapter.events()) events.push(e);
    })();
  });

  /** One sync period of fake time; resolves once that sync's requests are done. */
  const sync = async () => {
    const before = events.length;
    await clock.advanceAsync(PERIOD);
    await adapter.getClient().autoscaler.whenIdle();
    await waitFor('the sync’s event', () => (events.length > before ? true : undefined));
    return events.slice(before).filter((e) => e.service === 'burner');
  };
  /** `n` replicas running, Ready, and sampled by the kubelet. */
  const settled = (n: number) =>
    waitFor(
      `${n} ready replicas with metrics`,
      async () => {
        const running = await adapter.tasks({ service: 'burner', states: ['RUNNING'] });
        const pods = [...(adapter.getClient().cache?.podList() ?? [])].filter(
          (p) => p.labels['berth.dev/service'] === 'burner' && p.deletionTimestamp === undefined,
        );
        const sampled = new Set(kubelet?.metrics().pods.map((p) => p.name));
        const ready = pods.filter((p) =>
          p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return running.length === n &&
          pods.length === n &&
          ready.every((p) => sampled.has(p.name)) &&
          ready.length === n
          ? true
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
  const replicas = async () =>
    (await adapter.getClient().client.request<ScaleObject>('GET', scalePath('burner'))).spec?.replicas;

  it('scales up to max under load, holds through the scale-down window, then scales down; survives a metrics outage', async () => {
    const autoscaling = cpuAutoscaling({
      maxReplicas: 4,
      scaleDownWindowSeconds: 60,
      scaleDownPeriodSeconds: 15,
    });
    const [result] = await adapter.submit([serviceDoc('burner', autoscaling)]);
    expect(result?.outcome).toBe('created');
    const client = adapter.getClient().client;
    // No HPA: the policy rides on the Deployment for Berth's controller.
    await expect(
      client.request('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/burner'),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const deployment = await client.request<{ metadata: { annotations: Record<string, string> } }>(
      'GET',
      '/apis/apps/v1/namespaces/default/deployments/burner',
    );
    expect(JSON.parse(deployment.metadata.annotations['berth.dev/autoscaling'] ?? '{}')).toEqual(autoscaling);
    expect(adapter.getClient().autoscaler.services).toEqual(['burner']);
    await settled(1);

    // Under load: 200 % of the request against a 50 % target → 4 replicas, the max.
    load = 'burn';
    const upAt = clock.now() + PERIOD;
    const [up] = await sync();
    expect(up).toMatchObject({ kind: 'SuccessfulRescale', level: 'info', service: 'burner' });
    expect(up?.details).toMatchObject({
      currentReplicas: 1,
      desiredReplicas: 4,
      scaled: true,
      minReplicas: 1,
      maxReplicas: 4,
      recommendedReplicas: 4,
      metrics: [
        {
          resource: 'cpu',
          status: 'ok',
          utilization: 200,
          targetAverageUtilization: 50,
          ready: 1,
          missing: 0,
        },
      ],
    });
    expect(up?.message).toMatch(/^autoscale burner: 1 → 4 replicas/);
    expect(await replicas()).toBe(4);
    await waitFor('a SuccessfulRescale Event on the Deployment', async () => {
      const list = await client.request<{
        items: { reason: string; involvedObject: { kind: string; name: string }; message: string }[];
      }>('GET', '/api/v1/namespaces/default/events');
      return list.items.find(
        (e) =>
          e.reason === 'SuccessfulRescale' &&
          e.involvedObject.kind === 'Deployment' &&
          e.involvedObject.name === 'burner',
      );
    });
    await settled(4);

    // The load stops: 2 % asks for 1 replica, but the 60 s window still holds the 4 from the scale-up.
    load = 'idle';
    const held: ClusterEvent[] = [];
    while (clock.now() + PERIOD < upAt + 60_000) held.push(...(await sync()));
    expect(held.length).toBe(3);
    for (const e of held) {
      expect(e.kind).toBe('AutoscaleDecision');
      expect(e.details).toMatchObject({
        currentReplicas: 4,
        desiredReplicas: 4,
        reason: 'ScaleDownStabilized',
      });
      expect(e.details?.metrics).toEqual([
        expect.objectContaining({ utilization: 2, replicas: 1, ready: 4 }),
      ]);
    }
    expect(await replicas()).toBe(4);
    // The window has passed: down to the minimum in one step (Percent 100).
    const [down] = await sync();
    expect(clock.now() - upAt).toBe(60_000);
    expect(down).toMatchObject({ kind: 'SuccessfulRescale' });
    expect(down?.details).toMatchObject({ currentReplicas: 4, desiredReplicas: 1, scaled: true });
    expect(await replicas()).toBe(1);
    await settled(1);

    // metrics.k8s.io fails: a warning, the count stays, and the next period works again.
    load = 'down';
    const [failed] = await sync();
    expect(failed).toMatchObject({ kind: 'FailedGetResourceMetric', level: 'warning', service: 'burner' });
    expect(failed?.details).toMatchObject({ stage: 'metrics' });
    expect(await replicas()).toBe(1);
    load = 'idle';
    const [again] = await sync();
    expect(again).toMatchObject({ kind: 'AutoscaleDecision' });
    expect(again?.details).toMatchObject({ currentReplicas: 1, desiredReplicas: 1 });

    // A restarted adapter adopts the Deployment from its annotation.
    const second = createK8sAdapter({
      kubeConfig: kubeConfig(),
      clock,
      autoscaling: { controller: 'berth' },
    });
    await second.connect();
    expect(second.getClient().autoscaler.services).toEqual(['burner']);
    await second.close();

    await adapter.close();
    // close() leaves no timer behind: not the autoscaler's, nor anything else on the adapter's clock.
    expect(clock.pendingTimers).toBe(0);
    expect(adapter.getClient().autoscaler.running).toBe(false);
  });

  it('retries a /scale write that lost a race (409) on a fresh read, and never overwrites blindly', async () => {
    const other = createK8sAdapter({ kubeConfig: kubeConfig(), backoff: { initialMs: 50, maxMs: 500 } });
    await other.connect();
    try {
      await other.submit([serviceDoc('racer')]);
      const real = other.getClient().client;
      let puts = 0;
      let raced = false;
      // Another writer scales the Deployment between our read and our write, once.
      const racing: Pick<KubeClient, 'request'> = {
        request: async <T>(method: string, path: string, init?: Parameters<KubeClient['request']>[2]) => {
          if (method === 'PUT') {
            puts++;
            if (!raced) {
              raced = true;
              const cur = await real.request<ScaleObject>('GET', path);
              await real.request('PUT', path, { body: { ...cur, spec: { replicas: 2 } } });
            }
          }
          return real.request<T>(method, path, init);
        },
      };
      const scaler = new DeploymentScaler({
        client: racing,
        deployment: (s) => (s === 'racer' ? { namespace: 'default', name: 'racer' } : undefined),
      });
      await scaler.scale('racer', 3);
      expect(puts).toBe(2);
      expect(await scaler.currentReplicas('racer')).toBe(3);
      await expect(scaler.currentReplicas('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(scaler.scale('racer', -1)).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    } finally {
      await other.scale('racer', 0).catch(() => {});
      await other.close();
    }
  });
});
