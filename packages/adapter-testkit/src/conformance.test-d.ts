import type { ClusterAdapter } from '@berth/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { ConformanceCase, ConformanceCaseId, ConformanceContext } from './cases.ts';
import { type ConformanceOptions, describeAdapterConformance, runConformanceCase } from './conformance.ts';
import { createMemoryAdapter } from './memory-adapter.ts';
import { MemoryCluster } from './memory-cluster.ts';
import type { BackendProbe } from './probe.ts';

describe('adapter-testkit public API', () => {
  it('takes a factory, a probe and reasoned skips keyed by case id', () => {
    expectTypeOf<ConformanceOptions['createAdapter']>().returns.toEqualTypeOf<
      ClusterAdapter | Promise<ClusterAdapter>
    >();
    expectTypeOf<ConformanceOptions['probe']>().toEqualTypeOf<BackendProbe>();
    expectTypeOf<'kill'>().toExtend<ConformanceCaseId>();
    expectTypeOf(describeAdapterConformance).returns.toBeVoid();
    const cluster = new MemoryCluster();
    describeAdapterConformance({
      name: 'x',
      createAdapter: () => createMemoryAdapter({ cluster }),
      probe: cluster,
      // @ts-expect-error not a conformance case id
      skip: { 'no-such-case': 'reason' },
    });
  });

  it('lets extra cases use the same context', () => {
    expectTypeOf<ConformanceCase['run']>().parameter(0).toEqualTypeOf<ConformanceContext>();
    expectTypeOf(runConformanceCase).returns.resolves.toEqualTypeOf<
      { readonly status: 'passed' } | { readonly status: 'skipped'; readonly reason: string }
    >();
  });

  it('gives a memory cluster that is its own backend probe', () => {
    expectTypeOf<MemoryCluster>().toExtend<BackendProbe>();
    expectTypeOf(createMemoryAdapter).returns.toEqualTypeOf<ClusterAdapter>();
  });
});
