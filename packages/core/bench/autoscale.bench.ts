/**
 * One autoscaling decision (`decideScale`: validation, grouping, utilization, behaviour) for a
 * service of 1,000 replicas with cpu and memory targets, against a baseline measured in the same
 * run: the bare Σusage/Σrequest loop over the same samples for both resources. Also endpoint
 * reconciliation: `EndpointRegistry.apply` of 1,000 RUNNING statuses against plain Map.set.
 */
import { Bench } from 'tinybench';
import type { BenchSuite } from '../../../bench/types.ts';
import {
  type AutoscalePolicy,
  type DiscoveryTaskStatus,
  decideScale,
  EndpointRegistry,
  emptyAutoscaleHistory,
  type PodMetricSample,
} from '../src/index.ts';

const N = 1000;
const NOW = 1_700_000_000_000;
const samples: PodMetricSample[] = Array.from({ length: N }, (_, i) => ({
  taskId: `web-${i}`,
  state: i % 50 === 0 ? 'STARTING' : 'RUNNING',
  ready: i % 37 !== 0,
  startedAt: NOW - (i % 10) * 60_000,
  requests: { cpu: 500, memory: 512 * 1024 ** 2 },
  ...(i % 41 === 0 ? {} : { usage: { cpu: 200 + (i % 400), memory: (200 + (i % 300)) * 1024 ** 2 } }),
}));
const policy: AutoscalePolicy = {
  minReplicas: 1,
  maxReplicas: 2000,
  metrics: [
    { resource: 'cpu', targetAverageUtilization: 60 },
    { resource: 'memory', targetAverageUtilization: 70 },
  ],
  behavior: {},
};
const statuses: DiscoveryTaskStatus[] = samples.map((s, i) => ({
  taskId: s.taskId,
  state: 'RUNNING',
  rawState: 'TASK_RUNNING',
  service: 'web',
  nodeId: `agent-${i % 100}`,
  hostname: `host-${i % 100}`,
  ports: { http: 31000 + (i % 1000) },
  timestamps: { updated: i },
  backend: 'mesos',
}));

const suite: BenchSuite = {
  name: 'core-autoscale',
  description:
    'decideScale on 1,000 replicas (cpu + memory) and EndpointRegistry.apply, each against a bare loop',
  async run() {
    const bench = new Bench({ time: 500 });
    let sink = 0;
    bench
      .add('baseline: Σusage/Σrequest for cpu and memory over 1,000 samples', () => {
        for (const r of ['cpu', 'memory'] as const) {
          let u = 0;
          let q = 0;
          for (const s of samples) {
            u += s.usage?.[r] ?? 0;
            q += s.requests[r] ?? 0;
          }
          sink += Math.ceil(((u * 100) / q / 60) * N);
        }
      })
      .add('decideScale on 1,000 replicas, 2 metrics', () => {
        sink += decideScale({
          currentReplicas: N,
          policy,
          samples,
          history: emptyAutoscaleHistory(),
          now: NOW,
        }).desiredReplicas;
      })
      .add('baseline: Map.set of 1,000 endpoints', () => {
        const m = new Map<string, DiscoveryTaskStatus>();
        for (const s of statuses) m.set(s.taskId, s);
        sink += m.size;
      })
      .add('EndpointRegistry.apply of 1,000 RUNNING statuses', () => {
        const reg = new EndpointRegistry();
        for (const s of statuses) reg.apply(s);
        sink += reg.endpoints('web').length;
      });
    await bench.run();
    if (sink === 0) throw new Error('benchmark bodies were optimised away');
    const [baseDecide, decide, baseReg, reg] = bench.tasks.map((t) => {
      const r = t.result;
      return r && 'throughput' in r ? r.throughput.mean : Number.NaN;
    }) as [number, number, number, number];
    return [
      {
        suite: suite.name,
        name: 'baseline: bare utilization loop (1,000 samples × 2)',
        value: baseDecide,
        unit: 'ops/s',
      },
      {
        suite: suite.name,
        name: 'decideScale, 1,000 replicas, cpu + memory',
        value: decide,
        unit: 'decisions/s',
        ratio: decide / baseDecide,
        baseline: 'bare utilization loop',
        notes: 'a controller makes one decision per service per 15 s',
      },
      { suite: suite.name, name: 'baseline: Map.set × 1,000', value: baseReg, unit: 'ops/s' },
      {
        suite: suite.name,
        name: 'EndpointRegistry.apply × 1,000 (new endpoints)',
        value: reg,
        unit: 'ops/s',
        ratio: reg / baseReg,
        baseline: 'Map.set × 1,000',
      },
    ];
  },
};
export default suite;
