import { request } from 'node:https';
import type { BenchSuite } from '../../../bench/types.ts';
import { type KubeApiServer, startKubeApiServer } from '../src/kube/index.ts';

const PODS = 5000;
const ROUNDS = 5;

function get(server: KubeApiServer, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(
      new URL(path, server.url),
      { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(performance.now() - started));
      },
    )
      .on('error', reject)
      .end();
  });
}

async function median(times: () => Promise<number>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) samples.push(await times());
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

const suite: BenchSuite = {
  name: 'devcluster-kube-api',
  description: `Kubernetes face with ${PODS} pods: create, full list, paged and selected lists over HTTPS`,
  async run() {
    const server = await startKubeApiServer({});
    try {
      const started = performance.now();
      for (let i = 0; i < PODS; i++) {
        server.store.create('pods', 'default', {
          metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
          spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
        });
      }
      const createUs = ((performance.now() - started) / PODS) * 1000;
      const items = server.store.list('pods', 'default').items;
      const baseline = await median(async () => {
        const t = performance.now();
        JSON.stringify({ kind: 'PodList', items });
        return performance.now() - t;
      });
      const full = await median(() => get(server, '/api/v1/pods'));
      const paged = await median(() => get(server, '/api/v1/pods?limit=500'));
      const selected = await median(() => get(server, '/api/v1/pods?labelSelector=shard%3D3'));
      return [
        {
          suite: suite.name,
          name: 'create one pod (in-process, defaults + validation)',
          value: createUs,
          unit: 'µs',
        },
        { suite: suite.name, name: `baseline: JSON.stringify ${PODS} pods`, value: baseline, unit: 'ms' },
        {
          suite: suite.name,
          name: `GET /api/v1/pods (${PODS} pods)`,
          value: full,
          unit: 'ms',
          ratio: full / baseline,
          baseline: 'JSON.stringify of the same pods',
          goal: '≤ 4×',
        },
        {
          suite: suite.name,
          name: 'GET ?limit=500',
          value: paged,
          unit: 'ms',
          ratio: paged / full,
          baseline: 'full list',
          goal: '≤ 0.3×',
        },
        {
          suite: suite.name,
          name: 'GET ?labelSelector=shard=3 (10%)',
          value: selected,
          unit: 'ms',
          ratio: selected / full,
          baseline: 'full list',
          goal: '≤ 0.3×',
        },
      ];
    } finally {
      await server.close();
    }
  },
};
export default suite;
