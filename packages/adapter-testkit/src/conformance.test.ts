import { describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, type ConformanceCaseId } from './cases.ts';
import {
  ConformanceError,
  type ConformanceOptions,
  describeAdapterConformance,
  runConformanceCase,
} from './conformance.ts';
import { createMemoryAdapter, MEMORY_ADAPTER_FAULTS, type MemoryAdapterFault } from './memory-adapter.ts';
import { MemoryCluster } from './memory-cluster.ts';

const timeouts = { stateMs: 400, settleMs: 60 };

function options(
  faults: readonly MemoryAdapterFault[] = [],
): ConformanceOptions & { cluster: MemoryCluster } {
  const cluster = new MemoryCluster();
  return {
    name: `memory with ${faults.join(', ') || 'no faults'}`,
    cluster,
    createAdapter: () => createMemoryAdapter({ cluster, faults }),
    probe: cluster,
    timeouts,
  };
}

/** Each deliberately broken behaviour, the case that must catch it, and what its failure must say. */
const BROKEN: readonly [MemoryAdapterFault, ConformanceCaseId, RegExp][] = [
  ['no-nodes', 'connect-and-list-nodes', /listed no nodes/],
  [
    'never-running',
    'submit-runs',
    /\(a submitted task never reported RUNNING\); last error: last seen STARTING/,
  ],
  ['duplicate-launch', 'resubmit-is-noop', /launched it 4 times on the backend; submit must be idempotent/],
  ['finish-without-exit-code', 'finishing-command', /FINISHED task reports exit code undefined, not 0/],
  ['fail-without-details', 'failing-command', /FAILED task reports exit code undefined, not the command's 3/],
  ['kill-ignored', 'kill', /to end KILLED within its 1s grace period; last error: still RUNNING/],
  ['pending-without-reason', 'impossible-stays-pending', /PENDING with no reason or message/],
  [
    'scale-down-ignored',
    'service-scales',
    /exactly 1 RUNNING replicas \(after scale down to 1\).*3 RUNNING of 3 live/,
  ],
  ['endpoints-wrong-ports', 'endpoints', /lists port http=\d+, the task's status says \d+/],
  ['events-out-of-order', 'events-in-order', /events arrived out of order: seq \d+ after \d+/],
  ['leak-timer-on-close', 'close-releases', /close\(\) leaked handles still open \d+ ms later: 1 Timeout/],
  ['watch-survives-close', 'close-releases', /watches were still open \d+ ms after close\(\)/],
];

describe('the conformance suite', () => {
  it('has one broken variant per case, so no case can pass vacuously', () => {
    expect(new Set(BROKEN.map(([, id]) => id))).toEqual(new Set(CONFORMANCE_CASES.map((c) => c.id)));
    expect(new Set(BROKEN.map(([f]) => f))).toEqual(new Set(MEMORY_ADAPTER_FAULTS));
  });

  it.each(BROKEN)('catches the %s adapter in case %s', async (fault, caseId, message) => {
    const opts = options([fault]);
    const err = await runConformanceCase(caseId, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConformanceError);
    expect((err as ConformanceError).caseId).toBe(caseId);
    expect((err as Error).message).toMatch(message);
    opts.cluster.shutdown();
  });

  it('passes every case against the reference adapter', async () => {
    const opts = options();
    for (const c of CONFORMANCE_CASES)
      await expect(runConformanceCase(c.id, opts)).resolves.toEqual({ status: 'passed' });
    opts.cluster.shutdown();
  });

  it('skips a case whose capability the adapter lacks, and says which', async () => {
    const opts = options();
    const noServices: ConformanceOptions = {
      ...opts,
      createAdapter: () => {
        const a = createMemoryAdapter({ cluster: opts.cluster });
        return {
          ...a,
          name: a.name,
          capabilities: new Set([...a.capabilities].filter((c) => c !== 'services')),
        };
      },
    };
    await expect(runConformanceCase('service-scales', noServices)).resolves.toEqual({
      status: 'skipped',
      reason: 'adapter memory does not declare services',
    });
  });

  it('skips a case with the written reason and refuses a skip without one', async () => {
    const opts = options();
    await expect(
      runConformanceCase('kill', { ...opts, skip: { kill: 'the backend cannot stop tasks' } }),
    ).resolves.toEqual({
      status: 'skipped',
      reason: 'the backend cannot stop tasks',
    });
    await expect(runConformanceCase('kill', { ...opts, skip: { kill: ' ' } })).rejects.toThrow(
      /skip.kill: a skipped case needs a written reason/,
    );
    expect(() => describeAdapterConformance({ ...opts, skip: { kil: 'typo' } as never })).toThrow(
      /skip.kil: no conformance case has this id/,
    );
  });

  it('runs extra cases with the same context and names them in failures', async () => {
    const opts = options();
    const extra = {
      id: 'always-three-nodes',
      title: 'the memory cluster has three nodes',
      async run(ctx: Parameters<(typeof CONFORMANCE_CASES)[number]['run']>[0]) {
        const adapter = await ctx.open();
        const n = (await adapter.snapshot()).nodes.length;
        ctx.check(n === 4, `expected 4 nodes, saw ${n}`);
      },
    };
    await expect(runConformanceCase(extra, opts)).rejects.toThrow(
      '[conformance: the memory cluster has three nodes] expected 4 nodes, saw 3',
    );
  });
});
