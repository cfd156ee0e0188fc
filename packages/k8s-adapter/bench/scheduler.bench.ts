/**
 * Berth scheduler mode against devcluster's Kubernetes face on loopback: bind 10,000 pending pods
 * on 5,000 nodes (goal ≥ 1,000 pods/s; kube-scheduler's own test expects ≥ 680 for this shape),
 * against a same-run baseline of raw `pods/binding` POSTs with no placement; and the informer cache
 * holding 5,000 nodes + 50,000 pods (goal ≤ 400 MB RSS), measured in a child process against a
 * child that loads the same code but caches nothing.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type KubeApiServer, startKubeApiServer } from '@berth/devcluster';
import { KubeConfig } from '@kubernetes/client-node';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { startBerthScheduler } from '../src/berth-scheduler.ts';
import { KubeClient } from '../src/kube-client.ts';

const NODES = 5000;
const PODS = 10_000;
const CACHE_PODS = 50_000;

function node(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `node-${i}`,
      labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` },
    },
    status: {
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(name: string, scheduler: string, nodeName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name.replace(/-\d+$/, '') } },
    spec: {
      schedulerName: scheduler,
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: [
        { name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      ],
    },
  };
}

const kubeConfigOf = (server: KubeApiServer) => {
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  return kc;
};

function childRss(kubeconfig: string, mode: 'cache' | 'baseline') {
  return new Promise<{ rss: number; nodes: number; pods: number; ms: number }>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./cache-child.ts', import.meta.url)), [kubeconfig, mode], {
      execArgv: ['--conditions=@berth/source', '--expose-gc', '--no-warnings'],
    });
    child.once('message', (m) => resolve(m as { rss: number; nodes: number; pods: number; ms: number }));
    child.once('error', reject);
  });
}

const suite: BenchSuite = {
  name: 'k8s-scheduler',
  description: 'Berth scheduler mode: 10,000 pods on 5,000 nodes over loopback, and the informer cache RSS',
  async run() {
    const rows: BenchRow[] = [];
    const server = await startKubeApiServer({ retainedEvents: 50_000 });
    try {
      for (let i = 0; i < NODES; i++) server.store.create('nodes', '', node(i));
      // Baseline: raw binding POSTs of pre-chosen nodes, same client, same concurrency, no placement.
      for (let i = 0; i < PODS; i++) server.store.create('pods', 'default', pod(`raw-${i}`, 'nobody'));
      const client = new KubeClient(kubeConfigOf(server));
      const tb = performance.now();
      await Promise.all(
        Array.from({ length: PODS }, (_, i) =>
          client.request('POST', `/api/v1/namespaces/default/pods/raw-${i}/binding`, {
            body: {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: { name: `raw-${i}` },
              target: { name: `node-${i % NODES}` },
            },
          }),
        ),
      );
      const rawRate = PODS / ((performance.now() - tb) / 1000);
      client.close();
      server.store.deleteCollection('pods', 'default', {}, { gracePeriodSeconds: 0 });

      // Berth scheduler mode: the pods exist; measure from scheduler start (list included) to all bound.
      for (let i = 0; i < PODS; i++) server.store.create('pods', 'default', pod(`web-${i}`, 'berth'));
      let bound = 0;
      let resolveAll: () => void = () => {};
      const all = new Promise<void>((r) => {
        resolveAll = r;
      });
      const stop = server.store.watch('pods', 'default', {}, (e) => {
        const spec = e.object.spec as { nodeName?: string };
        if (e.type === 'MODIFIED' && spec.nodeName && ++bound === PODS) resolveAll();
      });
      const ts = performance.now();
      const scheduler = await startBerthScheduler({
        kubeConfig: kubeConfigOf(server),
        leaderElection: false,
      });
      await all;
      const seconds = (performance.now() - ts) / 1000;
      const stats = scheduler.stats();
      await scheduler.close();
      stop();
      const rate = PODS / seconds;
      rows.push(
        {
          suite: suite.name,
          name: 'baseline: raw pods/binding POSTs (no placement)',
          value: rawRate,
          unit: 'pods/s',
        },
        {
          suite: suite.name,
          name: `Berth scheduler: ${PODS} pods on ${NODES} nodes (list + place + bind)`,
          value: rate,
          unit: 'pods/s',
          ratio: rate / rawRate,
          baseline: 'raw pods/binding POSTs',
          goal: '≥ 1,000 pods/s',
          notes: `${stats.cycles} cycles, ${stats.bindFailures} failed bindings`,
        },
      );

      // Cache memory: 5,000 nodes + 50,000 pods (bound, like a busy cluster).
      server.store.deleteCollection('pods', 'default', {}, { gracePeriodSeconds: 0 });
      for (let i = 0; i < CACHE_PODS; i++)
        server.store.create('pods', 'default', pod(`c-${i}`, 'default-scheduler', `node-${i % NODES}`));
      const base = await childRss(server.kubeconfigPath, 'baseline');
      const full = await childRss(server.kubeconfigPath, 'cache');
      const mb = (b: number) => b / 1024 ** 2;
      rows.push(
        {
          suite: suite.name,
          name: 'baseline: child RSS with the code loaded, nothing cached',
          value: mb(base.rss),
          unit: 'MB',
        },
        {
          suite: suite.name,
          name: `informer cache RSS: ${full.nodes} nodes + ${full.pods} pods`,
          value: mb(full.rss),
          unit: 'MB',
          ratio: full.rss / base.rss,
          baseline: 'child with nothing cached',
          goal: '≤ 400 MB',
          notes: `initial list + snapshot ${Math.round(full.ms)} ms`,
        },
      );
    } finally {
      await server.close();
    }
    return rows;
  },
};
export default suite;
