import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ContainerRuntime,
  containerStatus,
  podConditions,
  podPhase,
  type RuntimeState,
} from './pod-status.ts';

const at = new Date('2026-01-01T00:00:00Z');
const c = (state: RuntimeState, extra: Partial<ContainerRuntime> = {}): ContainerRuntime => ({
  name: 'c',
  image: 'img',
  restartCount: 0,
  state,
  ready: state.kind === 'running',
  ...extra,
});
const waiting: RuntimeState = { kind: 'waiting', reason: 'ContainerCreating' };
const running: RuntimeState = { kind: 'running', startedAt: at };
const exited = (exitCode: number): RuntimeState => ({
  kind: 'terminated',
  exitCode,
  reason: exitCode === 0 ? 'Completed' : 'Error',
  finishedAt: at,
});

describe('podPhase', () => {
  it('is Pending while a container has never started, even if another runs', () => {
    expect(podPhase([c(waiting), c(running)])).toBe('Pending');
  });

  it('is Running while a container runs or waits to restart after a crash', () => {
    expect(podPhase([c(running), c(exited(0))])).toBe('Running');
    expect(
      podPhase([
        c(
          { kind: 'waiting', reason: 'CrashLoopBackOff' },
          { lastTerminated: { exitCode: 1, reason: 'Error', finishedAt: at } },
        ),
      ]),
    ).toBe('Running');
  });

  it('is Failed once all are terminated and one failed, else Succeeded', () => {
    expect(podPhase([c(exited(0)), c(exited(2))])).toBe('Failed');
    expect(podPhase([c(exited(0)), c(exited(0))])).toBe('Succeeded');
  });

  it('is terminal exactly when every container is terminated', () => {
    const state = fc.oneof(
      fc.constant(waiting),
      fc.constant(running),
      fc.integer({ min: 0, max: 3 }).map(exited),
    );
    fc.assert(
      fc.property(fc.array(state, { minLength: 1, maxLength: 5 }), (states) => {
        const phase = podPhase(states.map((s) => c(s)));
        const allDone = states.every((s) => s.kind === 'terminated');
        expect(phase === 'Succeeded' || phase === 'Failed').toBe(allDone);
      }),
    );
  });
});

describe('podConditions', () => {
  it('keeps lastTransitionTime of a condition whose status did not change', () => {
    const first = podConditions('Running', [c(running)], [], at);
    const later = new Date(at.getTime() + 60_000);
    const again = podConditions('Running', [c(running)], first, later);
    expect(again.find((x) => x.type === 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: at });
    const notReady = podConditions('Running', [c(running, { ready: false })], again, later);
    expect(notReady.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [c]',
      lastTransitionTime: later,
    });
  });

  it('reports PodCompleted for a finished pod', () => {
    const done = podConditions('Succeeded', [c(exited(0))], [], at);
    expect(done.map((x) => [x.type, x.status, x.reason])).toEqual([
      ['Initialized', 'True', 'PodCompleted'],
      ['Ready', 'False', 'PodCompleted'],
      ['ContainersReady', 'False', 'PodCompleted'],
      ['PodScheduled', 'True', undefined],
    ]);
  });
});

describe('containerStatus', () => {
  it('shows the previous termination as lastState and the image identity', () => {
    const s = containerStatus(
      c(
        { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 10s' },
        {
          restartCount: 2,
          lastTerminated: { exitCode: 1, reason: 'Error', finishedAt: at },
          containerID: 'berth://t',
        },
      ),
    );
    expect(s).toMatchObject({
      restartCount: 2,
      ready: false,
      started: false,
      imageID: 'berth://image/img',
      containerID: 'berth://t',
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
  });
});
