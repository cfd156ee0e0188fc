/**
 * The devcluster engine at `large` scale: 5,000 simulated nodes starting, then 50,000 simulated
 * tasks held. Each measurement runs in a fresh child process (`--expose-gc`), so heaps of earlier
 * suites do not blur the numbers; the baseline — 50,000 plain objects with the same fields as a
 * task's record — is measured the same way in the same run.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';

const NODES = 5_000;
const TASKS = 50_000;

interface Measure {
  /** Process RSS after GC, everything included (Node itself, loaded modules). */
  readonly rssBytes: number;
  /** Heap growth over the measured structure, after GC. */
  readonly heapBytes: number;
  readonly startMs?: number;
  readonly launchMs?: number;
}

/** Runs in a fresh child: `node --expose-gc engine.bench.ts --child=baseline|engine`. */
async function child(mode: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const settle = () => {
    for (let i = 0; i < 3; i++) gc();
  };
  // Both modes load the same code, so the RSS difference is the data alone. The code is the
  // engine's own (its module, not the package entry): the package entry also loads the faces,
  // the virtual kubelet and @kubernetes/client-node, about 78 MB more RSS that the engine does
  // not use.
  const { FakeClock, Resources } = await import('@berth/core');
  const { createEngine } = await import('../src/engine/index.ts');
  settle();
  const heap0 = process.memoryUsage().heapUsed;

  if (mode === 'baseline') {
    // Plain objects with the fields of a task's record and status, and nothing around them.
    const plain: object[] = [];
    for (let i = 0; i < TASKS; i++) {
      plain.push({
        id: `task-${i}`,
        nodeId: `large-node-${(i % NODES) + 1}`,
        name: `task-${i}`,
        mode: 'simulated',
        state: 'RUNNING',
        cpu: 100,
        memory: 128 * 2 ** 20,
        ports: [],
        created: i,
        started: i,
        exitCode: undefined,
        status: { taskId: `task-${i}`, state: 'RUNNING', rawState: 'RUNNING', updated: i },
      });
    }
    settle();
    const out: Measure = {
      rssBytes: process.memoryUsage().rss,
      heapBytes: process.memoryUsage().heapUsed - heap0,
    };
    process.stdout.write(`${JSON.stringify(out)} ${plain.length}\n`);
    return;
  }

  const t0 = performance.now();
  const engine = await createEngine({ preset: 'large', clock: new FakeClock(0) }).start();
  const startMs = performance.now() - t0;
  if (engine.nodeCount !== NODES) throw new Error(`expected ${NODES} nodes, got ${engine.nodeCount}`);
  const resources = Resources.of({ cpu: 100, memory: 128 * 2 ** 20 });
  const simulated = { durationMs: 3_600_000 };
  const t1 = performance.now();
  for (let i = 0; i < TASKS; i++) {
    engine.launch({ id: `task-${i}`, nodeId: `large-node-${(i % NODES) + 1}`, resources, simulated });
  }
  const launchMs = performance.now() - t1;
  settle();
  const mem = process.memoryUsage();
  const running = engine.tasks().filter((t) => t.state === 'RUNNING').length;
  if (running !== TASKS) throw new Error(`expected ${TASKS} running tasks, got ${running}`);
  const out: Measure = { rssBytes: mem.rss, heapBytes: mem.heapUsed - heap0, startMs, launchMs };
  await engine.stop();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function measure(mode: 'baseline' | 'engine'): Measure {
  const text = execFileSync(
    process.execPath,
    ['--expose-gc', '--conditions=@berth/source', fileURLToPath(import.meta.url), `--child=${mode}`],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(text.trim().split('\n').at(-1)!.split(' ')[0]!) as Measure;
}

const MB = 2 ** 20;

const suite: BenchSuite = {
  name: 'devcluster-engine',
  description:
    'large preset: 5,000 simulated nodes start; 50,000 simulated tasks held (child process, --expose-gc)',
  async run() {
    const base = measure('baseline');
    const m = measure('engine');
    const n = (x: number) => x.toLocaleString('en-US');
    const rows: BenchRow[] = [
      {
        suite: suite.name,
        name: `start ${n(NODES)} simulated nodes (large preset)`,
        value: m.startMs!,
        unit: 'ms',
        goal: '< 2,000 ms',
      },
      {
        suite: suite.name,
        name: `launch ${n(TASKS)} simulated tasks`,
        value: m.launchMs!,
        unit: 'ms',
        notes: `${n(Math.round((TASKS / m.launchMs!) * 1000))} launches/s`,
      },
      {
        suite: suite.name,
        name: `baseline: process RSS holding ${n(TASKS)} plain task-shaped objects`,
        value: base.rssBytes / MB,
        unit: 'MB',
        notes: `heap ${(base.heapBytes / MB).toFixed(1)} MB`,
      },
      {
        suite: suite.name,
        name: `process RSS holding ${n(NODES)} nodes + ${n(TASKS)} running simulated tasks`,
        value: m.rssBytes / MB,
        unit: 'MB',
        ratio: m.rssBytes / base.rssBytes,
        baseline: 'plain objects',
        goal: '< 300 MB',
      },
      {
        suite: suite.name,
        name: `heap held by the engine (nodes + tasks + event buffer)`,
        value: m.heapBytes / MB,
        unit: 'MB',
        ratio: m.heapBytes / base.heapBytes,
        baseline: 'plain objects',
      },
    ];
    return rows;
  },
};
export default suite;

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg !== undefined) await child(childArg.slice('--child='.length));
