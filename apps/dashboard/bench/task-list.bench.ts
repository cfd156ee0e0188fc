/**
 * The Tasks view's list of 50,000 tasks: the compact rows the API sends (`/api/contexts/:ctx/tasks`)
 * against the baseline of sending the adapters' TaskStatus objects as they are. Measures the
 * encoded size and the server's time to build and stringify the page, in the same run.
 */
import type { TaskStatus } from '@berth/core';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { taskRow } from '../src/server/views.ts';
import { TASK_COLUMNS } from '../src/shared/api.ts';

const N = 50_000;
const STATES = ['RUNNING', 'RUNNING', 'RUNNING', 'PENDING', 'FINISHED', 'KILLED'] as const;

function statuses(): TaskStatus[] {
  return Array.from({ length: N }, (_, i) => {
    const state = STATES[i % STATES.length]!;
    return {
      taskId: `batch-${String(i).padStart(5, '0')}`,
      state,
      rawState: `TASK_${state}`,
      ...(state === 'PENDING'
        ? { reason: 'Unschedulable', message: '0/5000 nodes available: 5000 insufficient cpu' }
        : { nodeId: `node-${i % 5000}`, hostname: `10.0.${(i % 5000) >> 8}.${i % 256}` }),
      ports: state === 'RUNNING' ? { http: 31000 + (i % 1000) } : {},
      ...(i % 3 === 0 ? { service: `svc-${i % 50}` } : {}),
      timestamps: { created: 1_700_000_000_000 + i, updated: 1_700_000_100_000 + i },
      backend: 'mesos',
    };
  });
}

function time(fn: () => string, rounds = 5): { ms: number; bytes: number } {
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const s = fn();
    best = Math.min(best, performance.now() - t0);
    bytes = Buffer.byteLength(s);
  }
  return { ms: best, bytes };
}

const suite: BenchSuite = {
  name: 'dashboard-task-list',
  description: '50,000-task list as compact rows vs full TaskStatus objects',
  async run(): Promise<BenchRow[]> {
    const all = statuses();
    const base = time(() => JSON.stringify({ total: N, tasks: all }));
    const compact = time(() => JSON.stringify({ columns: TASK_COLUMNS, total: N, rows: all.map(taskRow) }));
    const baseline = 'JSON of the TaskStatus objects';
    return [
      { suite: suite.name, name: 'baseline: TaskStatus JSON size', value: base.bytes / 1e6, unit: 'MB' },
      { suite: suite.name, name: 'baseline: TaskStatus JSON build', value: base.ms, unit: 'ms' },
      {
        suite: suite.name,
        name: 'compact rows size',
        value: compact.bytes / 1e6,
        unit: 'MB',
        ratio: compact.bytes / base.bytes,
        baseline,
        goal: 'smaller than the baseline',
      },
      {
        suite: suite.name,
        name: 'compact rows build',
        value: compact.ms,
        unit: 'ms',
        ratio: compact.ms / base.ms,
        baseline,
      },
    ];
  },
};

export default suite;
