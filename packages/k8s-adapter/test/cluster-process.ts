/**
 * Child process for the conformance suite: devcluster's Kubernetes face, an engine joined by the
 * virtual kubelet and a Berth scheduler, answering probe questions over IPC. Running them outside
 * the test process keeps "close releases everything" about the adapter's own handles.
 */
import { startKubeTestCluster } from './devcluster-fixture.ts';

type Request = { id: number; op: 'launchCount' | 'isRunning'; taskId: string } | { id: number; op: 'close' };

const cluster = await startKubeTestCluster();
await cluster.scheduler();
process.on('message', (raw) => {
  const m = raw as Request;
  void (async () => {
    let value: unknown;
    if (m.op === 'launchCount') value = await cluster.probe.launchCount(m.taskId);
    else if (m.op === 'isRunning') value = await cluster.probe.isRunning(m.taskId);
    else {
      await cluster.close();
      process.send?.({ id: m.id, value: true }, () => process.exit(0));
      return;
    }
    process.send?.({ id: m.id, value });
  })();
});
process.send?.({ ready: cluster.server.kubeconfigPath });
