/**
 * Autoscaling end to end in delegate mode: the adapter creates an autoscaling/v2 (or v2beta2) HPA,
 * devcluster's HPA controller scales the Deployment from the virtual kubelet's metrics.k8s.io
 * (cpu from /proc of real processes), and the endpoint watch follows the replicas up and, once the
 * burn stops, back down. metrics.k8s.io cpu is in nanocores: an idle shell loop reports about
 * `1000000n` (1 millicore), not one cpu. The kubelet samples every second here so that the sample
 * after the burn stops does not straddle a long burning stretch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoscaledServiceDocument, cpuAutoscaling, cpuBurnCommand } from '@berth/adapter-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK8sAdapter, type K8sAdapter } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';
import { followEndpoints } from './follow-endpoints.ts';

let cluster: KubeTestCluster;
let adapter: K8sAdapter;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-k8s-autoscale-'));
  cluster = await startKubeTestCluster({
    metricsIntervalSeconds: 1,
    controllers: {
      onError: () => {},
      hpa: { syncPeriodMs: 500, decide: { cpuInitializationPeriodMs: 1500, initialReadinessDelayMs: 500 } },
    },
  });
  adapter = createK8sAdapter({ kubeConfig: cluster.kubeConfig(), backoff: { initialMs: 50, maxMs: 500 } });
  await adapter.connect();
}, 60_000);
afterAll(async () => {
  await adapter?.close();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Kubernetes autoscaling in delegate mode (HPA on devcluster)', { timeout: 60_000 }, () => {
  it('creates the HPA, which scales a cpu-burning service to max and back to min when the burn stops, and the endpoint watch follows', async () => {
    const flag = join(dir, 'burn');
    writeFileSync(flag, '');
    const doc = autoscaledServiceDocument('burner', {
      command: cpuBurnCommand(flag),
      autoscaling: cpuAutoscaling({ maxReplicas: 3, scaleDownWindowSeconds: 3 }),
    });
    const [result] = await adapter.submit([doc]);
    expect(result?.outcome).toBe('created');
    const version = adapter.getClient().apiVersions.autoscaling;
    const hpa = await adapter
      .getClient()
      .client.request<{ spec: { maxReplicas: number } }>(
        'GET',
        `/apis/autoscaling/${version}/namespaces/default/horizontalpodautoscalers/burner`,
      );
    expect(hpa.spec.maxReplicas).toBe(3);
    // The HPA scales it: Berth's own controller stays out, and no policy annotation is written.
    expect(adapter.getClient().autoscaler.services).toEqual([]);
    const deployment = await adapter
      .getClient()
      .client.request<{ metadata: { annotations?: Record<string, string> } }>(
        'GET',
        '/apis/apps/v1/namespaces/default/deployments/burner',
      );
    expect(deployment.metadata.annotations?.['berth.dev/autoscaling']).toBeUndefined();

    const endpoints = followEndpoints(adapter, 'burner');
    await endpoints.reach(3, 15_000);
    const running = await adapter.tasks({ service: 'burner', states: ['RUNNING'] });
    expect(running.length).toBe(3);

    // The load stops: after the 3 s scale-down window the HPA goes back to minReplicas.
    rmSync(flag);
    const stoppedAt = Date.now();
    await endpoints.reach(1, 30_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(3000);
    const status = await adapter
      .getClient()
      .client.request<{ status: { desiredReplicas: number } }>(
        'GET',
        `/apis/autoscaling/${version}/namespaces/default/horizontalpodautoscalers/burner`,
      );
    expect(status.status.desiredReplicas).toBe(1);
    const { added, removed } = await endpoints.finish(2);
    expect(added.size).toBeGreaterThanOrEqual(3);
    expect(removed.size).toBeGreaterThanOrEqual(2);
    for (const id of removed) expect(added.has(id)).toBe(true);
    expect(endpoints.seen.every((e) => e.endpoint.ports.http !== undefined)).toBe(true);

    await adapter.scale('burner', 0).catch(() => {});
  });
});
