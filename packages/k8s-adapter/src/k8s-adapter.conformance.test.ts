import { describeAdapterConformance } from '@berth/adapter-testkit';
import { afterAll, beforeAll } from 'vitest';
import { type RemoteKubeCluster, startRemoteKubeCluster } from '../test/remote-cluster.ts';
import { createK8sAdapter } from './k8s-adapter.ts';

// One devcluster (face + controllers + virtual kubelet + a Berth scheduler) in a child process
// serves both modes: devcluster's default scheduler places delegate-mode pods, the Berth
// scheduler the pods with `schedulerName: berth`.
let cluster: RemoteKubeCluster;
beforeAll(async () => {
  cluster = await startRemoteKubeCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

for (const mode of ['delegate', 'berth'] as const) {
  describeAdapterConformance({
    name: `kubernetes, ${mode === 'berth' ? 'Berth scheduler' : 'delegate'} mode (devcluster)`,
    createAdapter: () =>
      createK8sAdapter({
        kubeConfig: cluster.kubeConfig(),
        mode,
        backoff: { initialMs: 50, maxMs: 500 },
      }),
    probe: {
      launchCount: (id) => cluster.probe.launchCount(id),
      isRunning: (id) => cluster.probe.isRunning(id),
    },
    // settleMs covers undici's shared timer wheel, which ticks every ~0.5 s and lets its timer
    // go only on the first tick after the adapter's last request ended.
    timeouts: { stateMs: 8_000, settleMs: 1_500 },
  });
}
