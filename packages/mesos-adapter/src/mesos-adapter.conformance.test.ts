import { describeAdapterConformance } from '@berth/adapter-testkit';
import { afterAll, beforeAll } from 'vitest';
import { type MesosTestCluster, startTestCluster } from '../test/devcluster-fixture.ts';

let cluster: MesosTestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster.close();
});

describeAdapterConformance({
  name: 'mesos (devcluster)',
  createAdapter: () => cluster.adapter(),
  probe: {
    launchCount: (id) => cluster.probe.launchCount(id),
    isRunning: (id) => cluster.probe.isRunning(id),
  },
  skip: {
    'close-releases':
      "the suite's async_hooks tracker counts every handle created in this process: devcluster's in-process master (allocation and failover timers, uuid random-bytes requests) and undici's per-request AsyncResources, which Node destroys only at garbage collection. The adapter's own release on close() is checked by 'close releases the clients, timers and watches' in mesos-adapter.test.ts.",
  },
  timeouts: { stateMs: 8_000, settleMs: 400 },
});
