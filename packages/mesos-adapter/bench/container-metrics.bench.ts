import { Bench } from 'tinybench';
import type { BenchSuite } from '../../../bench/types.ts';
import { MesosContainerMetrics, type MesosReplica } from '../src/container-metrics.ts';
import { parseMesosJson } from '../src/json.ts';
import { parseAgentResponse } from '../src/proto/parse.ts';

// 5,000 replicas of one Service on 500 agents (10 each): two polls of GET_CONTAINERS, as two
// autoscaler syncs 15 s apart read them.
const AGENTS = 500;
const PER_AGENT = 10;
const T = 1_700_000_000;
const agentUrl = (a: number) => `http://10.0.${a >> 8}.${a & 255}:5051`;
const replicas: MesosReplica[] = [];
for (let a = 0; a < AGENTS; a++) {
  for (let k = 0; k < PER_AGENT; k++) {
    const id = `web-${a * PER_AGENT + k}`;
    replicas.push({
      taskId: id,
      mesosTaskId: id,
      executorId: id,
      containerId: `ctr-${id}`,
      agentUrl: agentUrl(a),
      state: 'RUNNING',
      hasHealthCheck: false,
      startedAt: (T - 3600) * 1000,
      requests: { cpu: 250, memory: 128 * 1024 ** 2 },
    });
  }
}
const body = (a: number, t: number) =>
  JSON.stringify({
    type: 'GET_CONTAINERS',
    get_containers: {
      containers: Array.from({ length: PER_AGENT }, (_, k) => {
        const id = `web-${a * PER_AGENT + k}`;
        return {
          framework_id: { value: 'fw' },
          executor_id: { value: id },
          executor_name: `Command Executor (Task: ${id})`,
          container_id: { value: `ctr-${id}` },
          container_status: { container_id: { value: `ctr-${id}` }, executor_pid: 1000 + k },
          resource_statistics: {
            timestamp: t,
            processes: 1,
            threads: 1,
            cpus_user_time_secs: (t - T + 100) * 0.2,
            cpus_system_time_secs: (t - T + 100) * 0.02,
            cpus_limit: 0.25,
            mem_rss_bytes: 64 * 1024 ** 2 + k,
            mem_limit_bytes: 128 * 1024 ** 2,
          },
        };
      }),
    },
  });
const polls = [T, T + 15].map(
  (t) => new Map(Array.from({ length: AGENTS }, (_, a) => [agentUrl(a), body(a, t)])),
);

const suite: BenchSuite = {
  name: 'mesos-container-metrics',
  description:
    'MesosContainerMetrics.podMetrics over 5,000 replicas on 500 agents against parsing the same GET_CONTAINERS bodies alone',
  async run() {
    const bench = new Bench({ time: 1000 });
    bench
      .add('baseline: parse 2 × 500 GET_CONTAINERS bodies', () => {
        for (const poll of polls) for (const text of poll.values()) parseAgentResponse(parseMesosJson(text));
      })
      .add('podMetrics × 2 (parse, match, cpu rate, samples)', async () => {
        let i = 0;
        const metrics = new MesosContainerMetrics({
          replicas: () => replicas,
          containers: async (url) => parseAgentResponse(parseMesosJson(polls[i]!.get(url)!)).get_containers,
        });
        await metrics.podMetrics('web');
        i = 1;
        const samples = await metrics.podMetrics('web');
        if (samples[0]?.usage?.cpu !== 220) throw new Error('unexpected cpu usage');
      });
    await bench.run();
    const [base, ours] = bench.tasks.map((t) => {
      const r = t.result;
      return r && 'latency' in r ? r.latency.mean : Number.NaN;
    });
    return [
      { suite: suite.name, name: 'baseline: parse 1,000 bodies', value: base!, unit: 'ms' },
      {
        suite: suite.name,
        name: 'two podMetrics polls of 5,000 replicas',
        value: ours!,
        unit: 'ms',
        ratio: ours! / base!,
        baseline: 'parse 1,000 bodies',
        goal: '≤ 2× (the mapping costs no more than the parsing)',
      },
    ];
  },
};
export default suite;
