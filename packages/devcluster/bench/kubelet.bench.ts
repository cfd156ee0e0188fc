/**
 * 5,000 simulated nodes joined by one virtual kubelet to devcluster's Kubernetes face, kubelet
 * defaults (40 s leases renewed every 10 s, status every 300 s). After registration, a measured
 * window counts the API requests the heartbeats cost per second and checks that no lease went
 * stale. Baseline, from the same run: the theoretical minimum of one lease renewal per node per
 * renew interval (N / heartbeatSeconds requests/s). `BERTH_BENCH_VK_NODES` and
 * `BERTH_BENCH_VK_WINDOW_S` shrink it for a quick look.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Resources } from '@berth/core';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';

const NODES = Number(process.env.BERTH_BENCH_VK_NODES ?? 5_000);
const WINDOW_S = Number(process.env.BERTH_BENCH_VK_WINDOW_S ?? 40);
const HEARTBEAT_S = 10;
const LEASE_S = 40;

/** The face runs in its own process (as an apiserver would), so the window measures the kubelet. */
async function faceChild(): Promise<void> {
  const { startKubeApiServer } = await import('../src/index.ts');
  const face = await startKubeApiServer({});
  process.stdout.write(`${JSON.stringify({ kubeconfigPath: face.kubeconfigPath })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void face.close().then(() => process.exit(0));
  });
}

async function startFace(): Promise<{ kubeconfigPath: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@berth/source', fileURLToPath(import.meta.url), '--child=face'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the face exited with ${code}`)));
  });
  const { kubeconfigPath } = JSON.parse(line) as { kubeconfigPath: string };
  return { kubeconfigPath, stop: () => child.stdin.end() };
}

async function run(): Promise<BenchRow[]> {
  const { startEngine, startVirtualKubelet } = await import('../src/index.ts');
  const suite = 'devcluster-kubelet';
  const face = await startFace();
  const engine = await startEngine({
    nodes: [
      {
        count: NODES,
        prefix: 'bench-node',
        capacity: Resources.fromQuantities({ cpu: '8', memory: '32Gi' }),
        zones: 3,
      },
    ],
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(face.kubeconfigPath);
  const errors: unknown[] = [];
  const joinStart = performance.now();
  const kubelet = await startVirtualKubelet({
    kubeConfig,
    engine,
    simulated: true,
    leaseDurationSeconds: LEASE_S,
    heartbeatSeconds: HEARTBEAT_S,
    onError: (e) => errors.push(e),
  });
  const joinMs = performance.now() - joinStart;
  const joinRequests = kubelet.requestStats().total;

  const before = kubelet.requestStats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Sample lease staleness through the window (read in process, not counted as kubelet traffic).
  let worstAgeS = 0;
  const observer = kubeConfig.makeApiClient(CoordinationV1Api);
  const renewTimes = async () =>
    (await observer.listNamespacedLease({ namespace: 'kube-node-lease' })).items.map((l) =>
      Date.parse(String(l.spec?.renewTime ?? '')),
    );
  while (performance.now() - t0 < WINDOW_S * 1000) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = Date.now();
    const times = await renewTimes();
    for (const t of times) worstAgeS = Math.max(worstAgeS, (now - t) / 1000);
  }
  const windowS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = kubelet.requestStats();
  const requests = after.total - before.total;
  const rate = requests / windowS;
  const renewals = (after.byKind['renew lease'] ?? 0) - (before.byKind['renew lease'] ?? 0);
  const baseline = NODES / HEARTBEAT_S;
  const nodesReady = (await kubeConfig.makeApiClient(CoreV1Api).listNode()).items.filter((n) =>
    (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;

  await kubelet.close({ deleteNodes: false });
  await engine.stop();
  face.stop();

  const base = `${NODES} nodes, ${HEARTBEAT_S} s renew interval`;
  return [
    {
      suite,
      name: `join ${NODES} nodes (Node + status + Lease each)`,
      value: joinMs / 1000,
      unit: 's',
      notes: `${joinRequests} requests`,
    },
    {
      suite,
      name: `heartbeat API requests/s over ${windowS.toFixed(0)} s (${base})`,
      value: rate,
      unit: 'req/s',
      ratio: rate / baseline,
      baseline: `min ${baseline} req/s (1 renewal/node/interval)`,
      goal: '≤ 1.1× the minimum',
      notes: `${renewals} lease renewals, ${requests - renewals} other requests`,
    },
    {
      suite,
      name: 'oldest lease renewTime seen in the window',
      value: worstAgeS,
      unit: 's',
      ratio: worstAgeS / LEASE_S,
      baseline: `lease duration ${LEASE_S} s`,
      goal: `< ${LEASE_S} s (no node goes stale)`,
    },
    {
      suite,
      name: 'kubelet process CPU during the window (face in its own process)',
      value: ((cpu.user + cpu.system) / 1e6 / windowS) * 100,
      unit: '% of a core',
    },
    {
      suite,
      name: 'Nodes Ready at the end / API errors',
      value: nodesReady,
      unit: `nodes of ${NODES}`,
      notes: `${errors.length} errors`,
    },
  ];
}

const suite: BenchSuite = {
  name: 'devcluster-kubelet',
  description: `${NODES} simulated nodes heartbeating into devcluster's Kubernetes face`,
  run,
};
export default suite;

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg === '--child=face') await faceChild();
