/**
 * Child process for the conformance suite: devcluster's Kubernetes face, an engine joined by the
 * virtual kubelet and a Berth scheduler, answering probe questions over IPC. Running them outside
 * the test process keeps "close releases everything" about the adapter's own handles.
 */
import { serveChildFixture } from '@berth/adapter-testkit';
import { startKubeTestCluster } from './devcluster-fixture.ts';

const cluster = await startKubeTestCluster();
await cluster.scheduler();
serveChildFixture({
  ready: cluster.server.kubeconfigPath,
  probe: cluster.probe,
  close: () => cluster.close(),
});
