import { describe, expectTypeOf, it } from 'vitest';
import type { Resources } from '../resources/index.ts';
import type { BerthDocument } from '../spec/index.ts';
import type {
  Capability,
  ClusterAdapter,
  ClusterEvent,
  ClusterNode,
  ClusterSnapshot,
  Endpoint,
  LogLine,
  NodeEvent,
  SubmitResult,
} from './adapter.ts';
import type { AbortSignalLike, Clock, TimerHandle } from './clock.ts';
import { FakeClock } from './clock.ts';
import type { Subscribable, Unsubscribe } from './observable.ts';
import { Subject, toAsyncIterable } from './observable.ts';
import {
  fromKubernetesPod,
  fromMesosTaskState,
  isTerminal,
  type KubeTaskState,
  type TaskState,
  type TaskStatus,
  type TerminalTaskState,
} from './task-state.ts';

describe('ClusterAdapter contract', () => {
  it('submits Berth documents and reports per task', () => {
    expectTypeOf<ClusterAdapter['submit']>().parameter(0).toEqualTypeOf<readonly BerthDocument[]>();
    expectTypeOf<ClusterAdapter['submit']>().returns.resolves.toEqualTypeOf<SubmitResult[]>();
    expectTypeOf<SubmitResult['outcome']>().toEqualTypeOf<'created' | 'unchanged' | 'conflict'>();
    expectTypeOf<SubmitResult['status']>().toEqualTypeOf<TaskStatus>();
  });

  it('exposes watches as async iterables', () => {
    expectTypeOf<ReturnType<ClusterAdapter['watchTasks']>>().toEqualTypeOf<AsyncIterable<TaskStatus>>();
    expectTypeOf<ReturnType<ClusterAdapter['watchNodes']>>().toEqualTypeOf<AsyncIterable<NodeEvent>>();
    expectTypeOf<ReturnType<ClusterAdapter['events']>>().toEqualTypeOf<AsyncIterable<ClusterEvent>>();
    expectTypeOf<ReturnType<ClusterAdapter['logs']>>().toEqualTypeOf<AsyncIterable<LogLine>>();
  });

  it('is async-disposable and reads nodes with exact Resources', () => {
    expectTypeOf<ClusterAdapter>().toExtend<AsyncDisposable>();
    expectTypeOf<ClusterAdapter['snapshot']>().returns.resolves.toEqualTypeOf<ClusterSnapshot>();
    expectTypeOf<ClusterNode['allocatable']>().toEqualTypeOf<Resources>();
    expectTypeOf<ClusterNode['allocated']>().toEqualTypeOf<Resources>();
    expectTypeOf<ClusterAdapter['endpoints']>().returns.resolves.toEqualTypeOf<Endpoint[]>();
    expectTypeOf<ClusterAdapter['capabilities']>().toEqualTypeOf<ReadonlySet<Capability>>();
    expectTypeOf<ClusterAdapter['kill']>()
      .parameter(1)
      .toEqualTypeOf<{ readonly gracePeriodSeconds?: number } | undefined>();
  });

  it('accepts a real AbortSignal where core takes AbortSignalLike', () => {
    expectTypeOf<AbortSignal>().toExtend<AbortSignalLike>();
  });

  it('rejects capabilities that do not exist', () => {
    // @ts-expect-error 'teleport' is not a Capability
    const c: Capability = 'teleport';
    void c;
  });
});

describe('task states', () => {
  it('maps to the closed TaskState union and narrows terminal states', () => {
    expectTypeOf(fromMesosTaskState).returns.toEqualTypeOf<TaskState>();
    expectTypeOf(fromKubernetesPod).returns.toEqualTypeOf<KubeTaskState>();
    const s = 'RUNNING' as TaskState;
    if (isTerminal(s)) expectTypeOf(s).toEqualTypeOf<TerminalTaskState>();
    expectTypeOf<TaskStatus['state']>().toEqualTypeOf<TaskState>();
    expectTypeOf<TaskStatus['ports']>().toEqualTypeOf<Readonly<Record<string, number>>>();
    expectTypeOf<TaskStatus['exitCode']>().toEqualTypeOf<number | undefined>();
  });
});

describe('time and observers', () => {
  it('FakeClock is a Clock with opaque timer handles', () => {
    expectTypeOf<FakeClock>().toExtend<Clock>();
    expectTypeOf(new FakeClock().setTimeout(() => {}, 1)).toEqualTypeOf<TimerHandle>();
    // @ts-expect-error a number is not a timer handle
    new FakeClock().clearTimeout(3);
  });

  it('subscribe returns an unsubscribe function and iterates typed values', () => {
    expectTypeOf<Subscribable<number>['subscribe']>().returns.toEqualTypeOf<Unsubscribe>();
    expectTypeOf(toAsyncIterable(new Subject<string>())).toEqualTypeOf<AsyncIterableIterator<string>>();
  });
});
