/**
 * Child process of the scheduler bench: lists and watches the cluster of the kubeconfig in argv[2]
 * with the ClusterCache (or, with argv[3] = "baseline", only loads the same modules and a client),
 * then reports its RSS after a collection.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterCache } from '../src/cluster-cache.ts';
import { KubeClient } from '../src/kube-client.ts';

const kc = new KubeConfig();
kc.loadFromFile(process.argv[2]!);
const client = new KubeClient(kc);
let nodes = 0;
let pods = 0;
let cache: ClusterCache | undefined;
const t0 = performance.now();
if (process.argv[3] !== 'baseline') {
  cache = new ClusterCache({ client });
  await cache.start();
  nodes = cache.nodes.items.size;
  pods = cache.pods.items.size;
  cache.placementSnapshot();
} else await client.request('GET', '/version');
const ms = performance.now() - t0;
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 100));
(globalThis as { gc?: () => void }).gc?.();
const report = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, nodes, pods, ms };
await cache?.stop();
client.close();
// Exit only once the report has left: IPC is asynchronous and an early exit can drop it.
process.send?.(report, () => process.exit(0));
