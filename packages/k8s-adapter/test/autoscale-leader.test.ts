/**
 * Berth's autoscaler on Kubernetes syncs in one adapter at a time: every adapter that autoscales a
 * service campaigns for the `berth-autoscaler` Lease, only the holder syncs, and closing it hands
 * the Lease over at once. The metrics source is the test's (every replica at 200 % of its request,
 * or idle), so the only thing under test is who syncs; the Deployment's `/scale` is real.
 */
import { autoscaledServiceDocument, cpuAutoscaling, waitFor } from '@berth/adapter-testkit';
import type { ClusterEvent, MetricsSource, PodMetricSample } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { K8sAdapter } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';

let cluster: KubeTestCluster;

beforeAll(async () => {
  cluster = await startKubeTestCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

/** Replicas of `web` as the test says they use cpu: `cpu` millicores each of a 100m request. */
let cpu = 200;
const metrics: MetricsSource = {
  async podMetrics(): Promise<PodMetricSample[]> {
    return [
      {
        taskId: 'web-0',
        state: 'RUNNING',
        ready: true,
        startedAt: Date.now() - 3_600_000,
        requests: { cpu: 100 },
        usage: { cpu },
      },
    ];
  },
};

const LEASE = {
  namespace: 'default',
  name: 'berth-autoscaler-test',
  leaseDurationSeconds: 2,
  retryPeriodMs: 100,
};

function candidate(events: ClusterEvent[]): K8sAdapter {
  const adapter = cluster.adapter({
    backoff: { initialMs: 50, maxMs: 500 },
    autoscaling: {
      controller: 'berth',
      syncPeriodMs: 100,
      metrics,
      kubernetesEvents: false,
      leaderElection: LEASE,
    },
  });
  void (async () => {
    for await (const e of adapter.events()) if (e.service === 'web') events.push(e);
  })();
  return adapter;
}

const decisions = (events: readonly ClusterEvent[]) =>
  events.filter((e) => e.kind === 'SuccessfulRescale' || e.kind === 'AutoscaleDecision').length;

describe('Berth’s autoscaler leader election (devcluster face)', { timeout: 60_000 }, () => {
  it('syncs only in the adapter holding the Lease, and a standby takes over when the leader closes', async () => {
    const aEvents: ClusterEvent[] = [];
    const bEvents: ClusterEvent[] = [];
    const a = candidate(aEvents);
    await a.connect();
    await a.submit([
      autoscaledServiceDocument('web', {
        discovery: false,
        autoscaling: cpuAutoscaling({ maxReplicas: 2, scaleDownWindowSeconds: 0 }),
      }),
    ]);
    // A leads (it autoscales a service), decides, and scales 1 → 2.
    await waitFor('a scales web to 2', () =>
      aEvents.some((e) => e.kind === 'SuccessfulRescale') ? true : undefined,
    );
    // B adopts the same service from its annotation but stands by while A holds the Lease.
    const b = candidate(bEvents);
    await b.connect();
    expect(b.getClient().autoscaler.services).toEqual(['web']);
    const aBefore = decisions(aEvents);
    await new Promise((r) => setTimeout(r, 800));
    expect(decisions(aEvents)).toBeGreaterThan(aBefore);
    expect(decisions(bEvents)).toBe(0);
    expect(b.getClient().autoscaler.running).toBe(false);

    // A closes and gives the Lease back: B takes over well within the 2 s lease and scales down.
    cpu = 1;
    const handedOver = Date.now();
    await a.close();
    const down = await waitFor(
      'b scales web back to 1',
      () => bEvents.find((e) => e.kind === 'SuccessfulRescale') ?? undefined,
    );
    expect(Date.now() - handedOver).toBeLessThan(2_000);
    expect(down.details).toMatchObject({ currentReplicas: 2, desiredReplicas: 1, controller: 'berth' });
    await b.close();
  });
});
