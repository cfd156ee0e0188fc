import { describeAdapterConformance } from '@berth/adapter-testkit';
import { afterAll, beforeAll } from 'vitest';
import { type RemoteMesosCluster, startRemoteMesosCluster } from '../test/remote-master.ts';

// devcluster's engine and Mesos master run in a child process, so that "close releases
// everything" counts the adapter's handles only, not the master's timers and sockets.
let cluster: RemoteMesosCluster;
beforeAll(async () => {
  cluster = await startRemoteMesosCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

describeAdapterConformance({
  name: 'mesos (devcluster)',
  createAdapter: () => cluster.adapter(),
  probe: {
    launchCount: (id) => cluster.probe.launchCount(id),
    isRunning: (id) => cluster.probe.isRunning(id),
  },
  // settleMs covers undici's shared timer wheel, which ticks every ~0.5 s and lets its timer
  // go only on the first tick after the adapter's last request ended.
  timeouts: { stateMs: 8_000, settleMs: 1_500 },
});
