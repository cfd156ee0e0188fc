import { Bench } from 'tinybench';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { PortRanges, Quantity, Resources } from '../src/index.ts';

// 1,024 request/free pairs with 5 resources each, varied so branch prediction cannot settle on
// one answer; every benchmark iteration walks all of them.
const N = 1024;
const GI = 1024 ** 3;
let seed = 42;
const rand = (max: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % max;
};

interface Plain {
  cpu: number;
  memory: number;
  disk: number;
  gpus: number;
  fpga: number;
}
const plainRequests: Plain[] = [];
const plainFree: Plain[] = [];
const requests: Resources[] = [];
const free: Resources[] = [];
const portRequests: Resources[] = [];
const portFree: Resources[] = [];
for (let i = 0; i < N; i++) {
  const r = { cpu: rand(4000), memory: rand(8 * GI), disk: rand(100 * GI), gpus: rand(2), fpga: rand(2) };
  const f = { cpu: rand(8000), memory: rand(16 * GI), disk: rand(200 * GI), gpus: rand(4), fpga: rand(3) };
  plainRequests.push(r);
  plainFree.push(f);
  const { fpga: rf, ...rs } = r;
  const { fpga: ff, ...fs } = f;
  requests.push(Resources.of({ ...rs, extended: { 'example.com/fpga': rf } }));
  free.push(Resources.of({ ...fs, extended: { 'example.com/fpga': ff } }));
  // cpu, memory, disk, gpus and two requested ports against a node's free port ranges.
  const base = 31000 + rand(900);
  portRequests.push(Resources.of({ ...rs, ports: PortRanges.fromPorts([base, base + 7]) }));
  portFree.push(Resources.of({ ...fs, ports: PortRanges.parse(`31000-31099,31200-31499,31600-32000`) }));
}
const quantityStrings = ['500m', '1.5', '4Gi', '1536Mi', '100M', '2', '250m', '1e3'];

function plainFits(a: Plain, b: Plain): boolean {
  return a.cpu <= b.cpu && a.memory <= b.memory && a.disk <= b.disk && a.gpus <= b.gpus && a.fpga <= b.fpga;
}
function plainAdd(a: Plain, b: Plain): Plain {
  return {
    cpu: a.cpu + b.cpu,
    memory: a.memory + b.memory,
    disk: a.disk + b.disk,
    gpus: a.gpus + b.gpus,
    fpga: a.fpga + b.fpga,
  };
}

let sink = 0;
// Sums are stored so that neither side's allocation can be optimised away.
const plainOut: Plain[] = new Array(N);
const out: Resources[] = new Array(N);

const suite: BenchSuite = {
  name: 'core-resources',
  description: 'Resources.fits / add on 5-resource vectors against plain-object baselines in the same run',
  async run() {
    const bench = new Bench({ time: 500 });
    bench
      .add('baseline: plain object compare of 5 numbers', () => {
        let n = 0;
        for (let i = 0; i < N; i++) if (plainFits(plainRequests[i]!, plainFree[i]!)) n++;
        sink += n;
      })
      .add('Resources.fits (cpu, mem, disk, gpus, 1 extended)', () => {
        let n = 0;
        for (let i = 0; i < N; i++) if (requests[i]!.fits(free[i]!)) n++;
        sink += n;
      })
      .add('Resources.fits (cpu, mem, disk, gpus, ports)', () => {
        let n = 0;
        for (let i = 0; i < N; i++) if (portRequests[i]!.fits(portFree[i]!)) n++;
        sink += n;
      })
      .add('baseline: plain object add of 5 numbers', () => {
        let n = 0;
        for (let i = 0; i < N; i++) {
          const sum = plainAdd(plainRequests[i]!, plainFree[i]!);
          plainOut[i] = sum;
          n += sum.cpu;
        }
        sink += n;
      })
      .add('Resources.add (cpu, mem, disk, gpus, 1 extended)', () => {
        let n = 0;
        for (let i = 0; i < N; i++) {
          const sum = requests[i]!.add(free[i]!);
          out[i] = sum;
          n += sum.cpu;
        }
        sink += n;
      })
      .add('Resources.add (cpu, mem, disk, gpus, ports)', () => {
        let n = 0;
        for (let i = 0; i < N; i++) {
          const sum = portRequests[i]!.add(portFree[i]!);
          out[i] = sum;
          n += sum.cpu;
        }
        sink += n;
      })
      .add('Quantity.parse + milliValue', () => {
        let n = 0;
        for (let i = 0; i < N; i++) n += Quantity.parse(quantityStrings[i & 7]!).milliValue();
        sink += n;
      });
    await bench.run();
    if (sink === -1) console.log(sink);
    const ops = bench.tasks.map((t) => {
      const r = t.result;
      return r && 'throughput' in r ? r.throughput.mean * N : Number.NaN;
    });
    const [fitsBase, fitsExt, fitsPorts, addBase, addExt, addPorts, parse] = ops as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const row = (name: string, value: number, extra: Partial<BenchRow> = {}): BenchRow => ({
      suite: suite.name,
      name,
      value,
      unit: 'ops/s',
      ...extra,
    });
    return [
      row('baseline: fits as plain 5-number compare', fitsBase),
      row('Resources.fits, 5 scalars (1 extended)', fitsExt, {
        ratio: fitsExt / fitsBase,
        baseline: 'plain compare',
        goal: '≥ 0.25× and ≥ 1,000,000 ops/s',
      }),
      row('Resources.fits, 4 scalars + ports', fitsPorts, {
        ratio: fitsPorts / fitsBase,
        baseline: 'plain compare',
        goal: '≥ 0.25× and ≥ 1,000,000 ops/s',
      }),
      row('baseline: add as plain 5-number object', addBase),
      row('Resources.add, 5 scalars (1 extended)', addExt, {
        ratio: addExt / addBase,
        baseline: 'plain add',
        goal: '≥ 0.1×',
      }),
      row('Resources.add, 4 scalars + ports', addPorts, {
        ratio: addPorts / addBase,
        baseline: 'plain add',
        goal: '≥ 0.1×',
      }),
      row('Quantity.parse + milliValue', parse),
    ];
  },
};
export default suite;
