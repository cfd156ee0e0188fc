/**
 * Child process for the conformance suite: a devcluster engine and Mesos master with the tests'
 * timings, answering probe questions over IPC. Running them outside the test process keeps "close
 * releases everything" about the adapter's own handles, not the master's timers and sockets.
 */
import { startTestCluster } from './devcluster-fixture.ts';

type Request = { id: number; op: 'launchCount' | 'isRunning'; taskId: string } | { id: number; op: 'close' };

const cluster = await startTestCluster();
process.on('message', (raw) => {
  const m = raw as Request;
  void (async () => {
    let value: unknown;
    if (m.op === 'launchCount') value = await cluster.probe.launchCount(m.taskId);
    else if (m.op === 'isRunning') value = cluster.probe.isRunning(m.taskId);
    else {
      await cluster.close();
      process.send?.({ id: m.id, value: true }, () => process.exit(0));
      return;
    }
    process.send?.({ id: m.id, value });
  })();
});
process.on('disconnect', () => void cluster.close().finally(() => process.exit(0)));
process.send?.({ ready: cluster.master.url });
