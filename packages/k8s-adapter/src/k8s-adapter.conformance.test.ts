import { describeAdapterConformance } from '@berth/adapter-testkit';
import { afterAll, beforeAll } from 'vitest';
import { type RemoteKubeCluster, startRemoteKubeCluster } from '../test/remote-cluster.ts';
import { createK8sAdapter } from './k8s-adapter.ts';

let cluster: RemoteKubeCluster;
beforeAll(async () => {
  cluster = await startRemoteKubeCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

const NEEDS_DEPLOYMENT_CONTROLLER =
  'Service → Deployment needs a Deployment controller; devcluster has none until issue 12 (the real control plane has one: test/real-k8s)';

describeAdapterConformance({
  name: 'kubernetes, Berth scheduler mode (devcluster)',
  createAdapter: () =>
    createK8sAdapter({
      kubeConfig: cluster.kubeConfig(),
      mode: 'berth',
      backoff: { initialMs: 50, maxMs: 500 },
    }),
  probe: {
    launchCount: (id) => cluster.probe.launchCount(id),
    isRunning: (id) => cluster.probe.isRunning(id),
  },
  skip: {
    'service-scales': NEEDS_DEPLOYMENT_CONTROLLER,
    endpoints: NEEDS_DEPLOYMENT_CONTROLLER,
  },
  timeouts: { stateMs: 8_000, settleMs: 400 },
});
