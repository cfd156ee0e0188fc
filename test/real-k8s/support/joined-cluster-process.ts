/**
 * Child process of `startJoinedCluster`: an engine whose nodes join the real apiserver through the
 * virtual kubelet, plus a pod informer on that apiserver that records what reached it (pods created
 * per name, bindings). It answers the parent's probe questions over IPC, so the conformance suite's
 * "close releases everything" is about the adapter's handles only.
 *
 * argv: <kubeconfig path> <node prefix> <pool label value>
 */
import { type Engine, startEngine, startVirtualKubelet, type VirtualKubelet } from '@berth/devcluster';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { POOL_LABEL, type PodRecord, type ProbeReply, type ProbeRequest } from './probe-protocol.ts';

const [kubeconfigPath, prefix, pool] = process.argv.slice(2);
if (kubeconfigPath === undefined || prefix === undefined || pool === undefined) {
  throw new Error('usage: joined-cluster-process.ts <kubeconfig> <node prefix> <pool label value>');
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);
const core = kubeConfig.makeApiClient(CoreV1Api);

/** Pods by `namespace/name`, each uid once, in the order the apiserver reported them. */
const pods = new Map<string, PodRecord[]>();

function observe(pod: V1Pod): void {
  const meta = pod.metadata;
  if (meta?.uid === undefined || meta.name === undefined) return;
  const key = `${meta.namespace ?? ''}/${meta.name}`;
  const list = pods.get(key) ?? [];
  if (!pods.has(key)) pods.set(key, list);
  let rec = list.find((r) => r.uid === meta.uid);
  const nodeName = pod.spec?.nodeName ?? '';
  if (rec === undefined) {
    rec = {
      uid: meta.uid,
      schedulerName: pod.spec?.schedulerName ?? '',
      createdWithNode: nodeName !== '',
      nodeName,
      bindings: 0,
      phase: pod.status?.phase ?? '',
    };
    list.push(rec);
    return;
  }
  if (rec.nodeName === '' && nodeName !== '') rec.bindings += 1;
  if (rec.nodeName !== '' && nodeName !== '' && nodeName !== rec.nodeName) rec.bindings += 1;
  if (nodeName !== '') rec.nodeName = nodeName;
  rec.phase = pod.status?.phase ?? rec.phase;
}

const informer = makeInformer<V1Pod>(kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces());
informer.on('add', observe);
informer.on('update', observe);
let stopped = false;
informer.on('error', () => {
  // The informer stops on an error (watch timeout, 410): start it again; uids dedupe the relist.
  if (!stopped) setTimeout(() => void informer.start().catch(() => {}), 500);
});
await informer.start();

const engine: Engine = await startEngine({
  nodes: [0, 1, 2].map((i) => ({
    count: 1,
    prefix: `${prefix}-${i + 1}`,
    capacity: { cpu: 2000, memory: 2 * 1024 ** 3, disk: 20 * 1024 ** 3 },
    // Each node its own port range, as the laptop preset does; away from the preset's 31000s.
    ports: {
      begin: 43000 + i * 1000 + (process.pid % 10) * 100,
      end: 43099 + i * 1000 + (process.pid % 10) * 100,
    },
    labels: { [POOL_LABEL]: pool, 'topology.kubernetes.io/zone': 'zone-a' },
  })),
});
const kubelet: VirtualKubelet = await startVirtualKubelet({
  kubeConfig,
  engine,
  heartbeatSeconds: 2,
  leaseDurationSeconds: 20,
  statusUpdateSeconds: 10,
  backoff: { initialMs: 200, maxMs: 1000 },
  onError: () => {},
});

function isRunning(key: string): boolean {
  return engine.tasks().some((t) => t.labels['berth.dev/pod'] === key && t.state === 'RUNNING');
}

async function close(): Promise<void> {
  stopped = true;
  await informer.stop();
  await kubelet.close({ deleteNodes: true });
  await engine.stop();
}

process.on('message', (raw) => {
  const m = raw as ProbeRequest;
  void (async () => {
    let reply: ProbeReply;
    if (m.op === 'pod') {
      reply = { id: m.id, pods: pods.get(m.key) ?? [], running: isRunning(m.key) };
    } else {
      await close();
      process.send?.({ id: m.id, closed: true } satisfies ProbeReply, () => process.exit(0));
      return;
    }
    process.send?.(reply);
  })();
});
process.on('disconnect', () => {
  // The parent went away without asking: stop the containers and leave.
  void close().finally(() => process.exit(0));
});
process.send?.({ ready: kubelet.nodeNames } satisfies ProbeReply);
