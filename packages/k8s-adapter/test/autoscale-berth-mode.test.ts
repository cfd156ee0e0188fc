/**
 * Autoscaling end to end in Berth scheduler mode: no HPA object; the adapter runs core's HPA
 * controller over metrics.k8s.io (the virtual kubelet's cpu from /proc of real processes, sampled
 * every second) and writes the Deployment's `/scale`; the Berth scheduler binds the new pods, and
 * the endpoint watch follows the replicas up and, once the burn stops and the (shortened) 3 s
 * scale-down window has passed, back down. Every decision is a ClusterEvent with its inputs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoscaledServiceDocument, cpuAutoscaling, cpuBurnCommand } from '@berth/adapter-testkit';
import type { ClusterEvent } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK8sAdapter, type K8sAdapter } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';
import { followEndpoints } from './follow-endpoints.ts';

let cluster: KubeTestCluster;
let adapter: K8sAdapter;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-k8s-autoscale-berth-'));
  cluster = await startKubeTestCluster({ metricsIntervalSeconds: 1, controllers: { onError: () => {} } });
  await cluster.scheduler({ retryUnschedulableMs: 200 });
  adapter = createK8sAdapter({
    kubeConfig: cluster.kubeConfig(),
    mode: 'berth',
    backoff: { initialMs: 50, maxMs: 500 },
    autoscaling: {
      syncPeriodMs: 500,
      decide: { cpuInitializationPeriodMs: 1500, initialReadinessDelayMs: 500 },
    },
  });
  await adapter.connect();
}, 60_000);
afterAll(async () => {
  await adapter?.close();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Kubernetes autoscaling in Berth scheduler mode (Berth’s controller on devcluster)', {
  timeout: 60_000,
}, () => {
  it('scales a cpu-burning service to max and back to min after the window, without an HPA, and the endpoint watch follows', async () => {
    const flag = join(dir, 'burn');
    writeFileSync(flag, '');
    const doc = autoscaledServiceDocument('burner', {
      command: cpuBurnCommand(flag),
      autoscaling: cpuAutoscaling({ maxReplicas: 3, scaleDownWindowSeconds: 3 }),
    });
    const events: ClusterEvent[] = [];
    const eventsDone = (async () => {
      for await (const e of adapter.events()) events.push(e);
    })();
    const [result] = await adapter.submit([doc]);
    expect(result?.outcome).toBe('created');
    const client = adapter.getClient().client;
    const version = adapter.getClient().apiVersions.autoscaling ?? 'v2';
    await expect(
      client.request(
        'GET',
        `/apis/autoscaling/${version}/namespaces/default/horizontalpodautoscalers/burner`,
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const endpoints = followEndpoints(adapter, 'burner');
    await endpoints.reach(3, 20_000);
    const running = await adapter.tasks({ service: 'burner', states: ['RUNNING'] });
    expect(running.length).toBe(3);
    // Berth's scheduler placed them (schedulerName berth → a Binding each).
    for (const t of running) expect(cluster.bindings.get(`default/${t.taskId}`)).toBe(1);
    const ups = events.filter((e) => e.kind === 'SuccessfulRescale');
    expect(ups[0]?.details).toMatchObject({ currentReplicas: 1, scaled: true, controller: 'berth' });
    expect(ups.at(-1)?.details).toMatchObject({ desiredReplicas: 3 });
    const up = ups[0]?.details as { metrics: { resource: string; utilization: number }[] } | undefined;
    expect(up?.metrics[0]?.resource).toBe('cpu');
    expect(up?.metrics[0]?.utilization).toBeGreaterThan(50);

    // The load stops: after the 3 s scale-down window Berth's controller goes back to minReplicas.
    rmSync(flag);
    const stoppedAt = Date.now();
    await endpoints.reach(1, 30_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(3000);
    // Down from 3 to 1, usually in one step (a sample straddling the stop may ask for 2 first).
    const downs = events.filter((e) => e.kind === 'SuccessfulRescale' && e.at >= stoppedAt);
    expect(downs[0]?.details).toMatchObject({ currentReplicas: 3, scaled: true });
    expect(downs.at(-1)?.details).toMatchObject({ desiredReplicas: 1 });
    expect(
      downs.every((e) => {
        const d = e.details as { currentReplicas: number; desiredReplicas: number };
        return d.desiredReplicas < d.currentReplicas;
      }),
    ).toBe(true);
    // Held back in between: decisions that kept 3 replicas because of the window.
    expect(
      events.some(
        (e) =>
          e.kind === 'AutoscaleDecision' &&
          (e.details as { reason?: string } | undefined)?.reason === 'ScaleDownStabilized',
      ),
    ).toBe(true);
    const scale = await client.request<{ spec: { replicas: number } }>(
      'GET',
      '/apis/apps/v1/namespaces/default/deployments/burner/scale',
    );
    expect(scale.spec.replicas).toBe(1);
    const { added, removed } = await endpoints.finish(2);
    expect(added.size).toBeGreaterThanOrEqual(3);
    expect(removed.size).toBeGreaterThanOrEqual(2);
    for (const id of removed) expect(added.has(id)).toBe(true);
    expect(endpoints.seen.every((e) => e.endpoint.ports.http !== undefined)).toBe(true);

    await adapter.close();
    await eventsDone;
    expect(adapter.getClient().autoscaler.running).toBe(false);
  });
});
