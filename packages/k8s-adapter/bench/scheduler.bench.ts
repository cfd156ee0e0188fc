/**
 * Berth scheduler mode against devcluster's Kubernetes face (a bare API server in a child process,
 * 5,000 nodes registered through the API) on loopback: bind 10,000 pending pods
 * on 5,000 nodes (goal ≥ 1,000 pods/s; kube-scheduler's own test expects ≥ 680 for this shape),
 * against a same-run baseline of raw `pods/binding` POSTs with no placement; and the informer cache
 * holding 5,000 nodes + 50,000 pods (goal ≤ 400 MB RSS), measured in a child process against a
 * child that loads the same code but caches nothing.
 *
 * Both binding figures time the same window: the pods exist before the clock starts (and the
 * scheduler's cache has listed them), and it stops when the API server has seen the last pod bound.
 *
 * `BERTH_BENCH_CPU_PROF=<dir>` writes V8 CPU profiles of both processes over each timed window
 * there (`<round>-<what>-{bench,api-server}.cpuprofile`, for Chrome DevTools or speedscope).
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { type BerthScheduler, startBerthScheduler } from '../src/berth-scheduler.ts';
import { ClusterCache } from '../src/cluster-cache.ts';
import { KubeClient } from '../src/kube-client.ts';

const NODES = 5000;
const PODS = 10_000;
const CACHE_PODS = 50_000;
/** Binding POSTs in flight at once, for the baseline and the scheduler alike. */
const CONCURRENCY = 64;
/** Baseline and scheduler run alternately this many times; the rows report the medians. */
const ROUNDS = 3;

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

const kubeConfigOf = (path: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
};

/** devcluster's API server in a child process, driven over IPC (see api-server-child.ts). */
async function startServerChild() {
  const child = fork(fileURLToPath(new URL('./api-server-child.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@berth/source', '--no-warnings', '--max-old-space-size=4096'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let exited: Error | undefined;
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    child.on('message', (raw) => {
      const m = raw as { ready?: string; id?: number; value?: unknown };
      if (m.ready !== undefined) resolve(m.ready);
      else if (m.id !== undefined) {
        pending.get(m.id)?.resolve(m.value);
        pending.delete(m.id);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      // A crashed child fails whatever waits on it instead of hanging the bench.
      exited = new Error(`the API server child exited with ${code}`);
      reject(exited);
      for (const p of pending.values()) p.reject(exited);
      pending.clear();
    });
  });
  const call = <T = unknown>(op: string, args: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      if (exited !== undefined) return reject(exited);
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, ...args });
    });
  return { kubeconfigPath, call, close: () => call('close') };
}

type ServerChild = Awaited<ReturnType<typeof startServerChild>>;

/**
 * Seconds from just before `fn` starts to the moment the API server has seen all `PODS` pods
 * named `<prefix>-…` bound (the same stop line for the baseline and the scheduler). With
 * `BERTH_BENCH_CPU_PROF`, both processes are profiled over exactly that window.
 */
async function timed(server: ServerChild, label: string, prefix: string, fn: () => Promise<unknown>) {
  const dir = process.env.BERTH_BENCH_CPU_PROF;
  let session: Session | undefined;
  if (dir) {
    await mkdir(dir, { recursive: true });
    await server.call('profile');
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  await server.call('watchBound', { prefix, count: PODS });
  const t0 = performance.timeOrigin + performance.now();
  await fn();
  const end = await server.call<number>('bound', { prefix });
  if (dir && session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(join(dir, `${label}-bench.cpuprofile`), JSON.stringify(profile));
    await server.call('profile', { dir, name: `${label}-api-server` });
  }
  return (end - t0) / 1000;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

function childRss(kubeconfig: string, mode: 'cache' | 'baseline') {
  return new Promise<{ rss: number; nodes: number; pods: number; ms: number }>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./cache-child.ts', import.meta.url)), [kubeconfig, mode], {
      execArgv: ['--conditions=@berth/source', '--expose-gc', '--no-warnings'],
    });
    child.once('message', (m) => resolve(m as { rss: number; nodes: number; pods: number; ms: number }));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the cache child (${mode}) exited with ${code} before reporting`)),
    );
  });
}

const suite: BenchSuite = {
  name: 'k8s-scheduler',
  description: 'Berth scheduler mode: 10,000 pods on 5,000 nodes over loopback, and the informer cache RSS',
  async run() {
    const rows: BenchRow[] = [];
    const server = await startServerChild();
    try {
      // Nodes are registered through the API, as kubelets register themselves.
      const setup = new KubeClient(kubeConfigOf(server.kubeconfigPath), { concurrency: 64 });
      await pool(
        Array.from({ length: NODES }, (_, i) => i),
        64,
        (i) => setup.request('POST', '/api/v1/nodes', { body: node(i) }),
      );
      setup.close();
      const kc = kubeConfigOf(server.kubeconfigPath);
      const raw: number[] = [];
      const berth: number[] = [];
      const notes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Baseline: raw binding POSTs of pre-chosen nodes over the same client (keep-alive agent,
        // same bounded concurrency), no informer, no placement.
        await server.call('pods', { prefix: 'raw', count: PODS, scheduler: 'nobody' });
        const client = new KubeClient(kc, { concurrency: CONCURRENCY });
        const rawSeconds = await timed(server, `${round}-raw`, 'raw', () =>
          pool(
            Array.from({ length: PODS }, (_, i) => i),
            CONCURRENCY,
            (i) =>
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
        raw.push(PODS / rawSeconds);
        client.close();
        await server.call('clear');

        // Berth scheduler mode: the pods exist and the scheduler's cache has listed them (as a
        // running scheduler's has) before the clock starts; the window is placing and binding.
        await server.call('pods', { prefix: 'web', count: PODS, scheduler: 'berth' });
        const schedulerClient = new KubeClient(kc, { concurrency: CONCURRENCY });
        const cache = new ClusterCache({ client: schedulerClient });
        const tl = performance.now();
        await cache.start();
        const listMs = performance.now() - tl;
        let scheduler: BerthScheduler | undefined;
        const seconds = await timed(server, `${round}-berth`, 'web', async () => {
          scheduler = await startBerthScheduler({ client: schedulerClient, cache, leaderElection: false });
        });
        const stats = scheduler!.stats();
        await scheduler!.close();
        await cache.stop();
        schedulerClient.close();
        await server.call('clear');
        berth.push(PODS / seconds);
        notes.push(
          `round ${round + 1}: raw ${Math.round(raw[round]!)}, berth ${Math.round(berth[round]!)} pods/s (${stats.cycles} cycles, ${stats.bindFailures} failed bindings; initial list ${Math.round(listMs)} ms, untimed)`,
        );
      }
      const rawRate = median(raw);
      const rate = median(berth);
      rows.push(
        {
          suite: suite.name,
          name: `baseline: raw pods/binding POSTs (no placement), median of ${ROUNDS}`,
          value: rawRate,
          unit: 'pods/s',
        },
        {
          suite: suite.name,
          name: `Berth scheduler: ${PODS} pods on ${NODES} nodes (place + bind), median of ${ROUNDS}`,
          value: rate,
          unit: 'pods/s',
          ratio: rate / rawRate,
          baseline: 'raw pods/binding POSTs',
          goal: '≥ 1,000 pods/s',
          notes: notes.join('; '),
        },
      );
      process.stderr.write(`${notes.join('\n')}\n`);

      // Cache memory: 5,000 nodes + 50,000 pods (bound, like a busy cluster).
      await server.call('clear');
      await server.call('pods', {
        prefix: 'c',
        count: CACHE_PODS,
        scheduler: 'default-scheduler',
        nodes: NODES,
      });
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
