import { Bench } from 'tinybench';
import type { BenchSuite } from '../../../bench/types.ts';
import { RecordIODecoder } from '../src/recordio.ts';

const enc = new TextEncoder();
const event = JSON.stringify({
  type: 'UPDATE',
  update: {
    status: { task_id: { value: 'web-1' }, state: 'TASK_RUNNING', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==' },
  },
});
const records = Array.from({ length: 1000 }, () => event);
const framed = enc.encode(records.map((r) => `${enc.encode(r).length}\n${r}`).join(''));
const plain = records.map((r) => enc.encode(r));
// Deliver the stream in 4 KiB chunks, as a socket would.
const chunks: Uint8Array[] = [];
for (let i = 0; i < framed.length; i += 4096) chunks.push(framed.subarray(i, i + 4096));

const suite: BenchSuite = {
  name: 'mesos-recordio',
  description: 'RecordIO framing overhead on top of JSON decoding of the same records',
  async run() {
    const td = new TextDecoder();
    const bench = new Bench({ time: 500 });
    bench
      .add('baseline: decode + JSON.parse 1,000 pre-split records', () => {
        for (const p of plain) JSON.parse(td.decode(p));
      })
      .add('RecordIODecoder + JSON.parse 1,000 records in 4 KiB chunks', () => {
        const d = new RecordIODecoder();
        for (const c of chunks) for (const r of d.push(c)) JSON.parse(td.decode(r));
      });
    await bench.run();
    const [base, ours] = bench.tasks.map((t) => {
      const r = t.result;
      return r && 'throughput' in r ? r.throughput.mean * 1000 : Number.NaN;
    });
    return [
      { suite: suite.name, name: 'baseline: JSON.parse only', value: base!, unit: 'records/s' },
      {
        suite: suite.name,
        name: 'RecordIO decode + JSON.parse',
        value: ours!,
        unit: 'records/s',
        ratio: ours! / base!,
        baseline: 'JSON.parse only',
        goal: '≥ 0.5×',
      },
    ];
  },
};
export default suite;
