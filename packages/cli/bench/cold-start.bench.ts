/**
 * `berth --help` cold start against a bare `node -e 0` in the same run: every run is a fresh
 * process, alternating the two so machine noise hits both alike. Uses the built CLI
 * (`dist/bin.js`) when it exists, else the source through the `@berth/source` condition.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from '../../../bench/types.ts';

const RUNS = 21;
const dist = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const source = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const useDist = existsSync(dist);
const berthArgs = useDist ? [dist, '--help'] : ['--conditions=@berth/source', source, '--help'];

function timeOnce(args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}`);
  return ms;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const suite: BenchSuite = {
  name: 'cli-cold-start',
  description: 'berth --help in a fresh process vs node -e 0',
  async run() {
    // Warm the OS file cache for both commands once.
    timeOnce(['-e', '0']);
    timeOnce(berthArgs);
    const base: number[] = [];
    const berth: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(timeOnce(['-e', '0']));
      berth.push(timeOnce(berthArgs));
    }
    const b = median(base);
    const ours = median(berth);
    return [
      { suite: suite.name, name: 'baseline: node -e 0', value: b, unit: 'ms (median)' },
      {
        suite: suite.name,
        name: `berth --help (${useDist ? 'dist/bin.js' : 'source via --conditions'})`,
        value: ours,
        unit: 'ms (median)',
        ratio: ours / b,
        baseline: 'node -e 0',
        goal: '≤ 3×',
      },
    ];
  },
};
export default suite;
