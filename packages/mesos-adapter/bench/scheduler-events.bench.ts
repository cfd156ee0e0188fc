import { readFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import type { BenchSuite } from '../../../bench/types.ts';
import { parseMesosJson } from '../src/json.ts';
import { parseSchedulerEvent } from '../src/proto/parse.ts';

// One OFFERS event of 1,000 offers, each a copy of the real master's recorded offer with its own ids.
const recorded = JSON.parse(
  readFileSync(
    new URL('../../../../shared/fixtures/mesos-real/15-scheduler-subscribe.events.json', import.meta.url),
    'utf8',
  ),
) as { type: string; offers?: { offers: Record<string, unknown>[] } }[];
const offer = recorded.find((e) => e.type === 'OFFERS')?.offers?.offers[0];
if (!offer) throw new Error('the recorded stream has no OFFERS event');
const offers = Array.from({ length: 1000 }, (_, i) => ({
  ...offer,
  id: { value: `de646b14-c094-45bd-bcb9-7a221eaf2456-O${i}` },
  agent_id: { value: `de646b14-c094-45bd-bcb9-7a221eaf2456-S${i}` },
  hostname: `agent-${i}`,
}));
const text = JSON.stringify({ type: 'OFFERS', offers: { offers } });

const suite: BenchSuite = {
  name: 'mesos-scheduler-events',
  description: 'Validating a 1,000-offer OFFERS event against the v1 schema, next to plain JSON.parse',
  async run() {
    const bench = new Bench({ time: 1000 });
    bench
      .add('baseline: JSON.parse', () => {
        JSON.parse(text);
      })
      .add('parseMesosJson + parseSchedulerEvent', () => {
        parseSchedulerEvent(parseMesosJson(text));
      });
    await bench.run();
    const [base, ours] = bench.tasks.map((t) => {
      const r = t.result;
      return r && 'latency' in r ? r.latency.mean : Number.NaN;
    });
    return [
      {
        suite: suite.name,
        name: 'baseline: JSON.parse of a 1,000-offer OFFERS event',
        value: base!,
        unit: 'ms/event',
        notes: `${(text.length / 1024).toFixed(0)} KiB of JSON`,
      },
      {
        suite: suite.name,
        name: 'parse + validate a 1,000-offer OFFERS event',
        value: ours!,
        unit: 'ms/event',
        ratio: ours! / base!,
        baseline: 'JSON.parse',
        goal: '≤ 40 ms (a fifth of the 200 ms ACCEPT budget)',
      },
    ];
  },
};
export default suite;
