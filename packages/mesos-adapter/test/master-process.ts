/**
 * Child process for the conformance suite: a devcluster engine and Mesos master with the tests'
 * timings, answering probe questions over IPC. Running them outside the test process keeps "close
 * releases everything" about the adapter's own handles, not the master's timers and sockets.
 */
import { serveChildFixture } from '@berth/adapter-testkit';
import { startTestCluster } from './devcluster-fixture.ts';

const cluster = await startTestCluster();
serveChildFixture({ ready: cluster.master.url, probe: cluster.probe, close: () => cluster.close() });
process.on('disconnect', () => void cluster.close().finally(() => process.exit(0)));
