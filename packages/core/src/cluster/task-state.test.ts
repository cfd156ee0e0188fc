import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBerthError } from './errors.ts';
import {
  fromKubernetesPod,
  fromMesosTaskState,
  isTaskState,
  isTerminal,
  type KubePodLike,
  MESOS_TASK_STATES,
  TASK_STATES,
} from './task-state.ts';

describe('isTerminal', () => {
  it('treats exactly FINISHED, FAILED, KILLED, LOST and ERROR as terminal', () => {
    expect(TASK_STATES.filter(isTerminal)).toEqual(['FINISHED', 'FAILED', 'KILLED', 'LOST', 'ERROR']);
  });

  it('narrows untrusted strings to task states', () => {
    expect(isTaskState('RUNNING')).toBe(true);
    expect(isTaskState('running')).toBe(false);
    expect(isTaskState(3)).toBe(false);
  });
});

describe('fromMesosTaskState', () => {
  it.each([
    ['TASK_STAGING', 'STAGING'],
    ['TASK_STARTING', 'STARTING'],
    ['TASK_RUNNING', 'RUNNING'],
    ['TASK_KILLING', 'KILLING'],
    ['TASK_FINISHED', 'FINISHED'],
    ['TASK_FAILED', 'FAILED'],
    ['TASK_KILLED', 'KILLED'],
    ['TASK_ERROR', 'ERROR'],
    ['TASK_LOST', 'LOST'],
    ['TASK_DROPPED', 'LOST'],
    ['TASK_UNREACHABLE', 'UNREACHABLE'],
    ['TASK_GONE', 'LOST'],
    ['TASK_GONE_BY_OPERATOR', 'LOST'],
    ['TASK_UNKNOWN', 'LOST'],
  ])('maps %s to %s', (mesos, berth) => {
    expect(fromMesosTaskState(mesos)).toBe(berth);
  });

  it('covers every state of mesos.v1.TaskState', () => {
    expect(MESOS_TASK_STATES).toHaveLength(14);
    for (const s of MESOS_TASK_STATES) expect(TASK_STATES).toContain(fromMesosTaskState(s));
  });

  it('accepts the protobuf enum numbers', () => {
    expect(fromMesosTaskState(6)).toBe('STAGING');
    expect(fromMesosTaskState(0)).toBe('STARTING');
    expect(fromMesosTaskState(8)).toBe('KILLING');
    expect(fromMesosTaskState(10)).toBe('UNREACHABLE');
  });

  it('reports a refused task description as ERROR whatever terminal state carried it', () => {
    expect(fromMesosTaskState('TASK_LOST', 'REASON_TASK_INVALID')).toBe('ERROR');
    expect(fromMesosTaskState('TASK_DROPPED', 'REASON_TASK_UNAUTHORIZED')).toBe('ERROR');
    expect(fromMesosTaskState('TASK_LOST', 'REASON_AGENT_REMOVED')).toBe('LOST');
    expect(fromMesosTaskState('TASK_FAILED', 'REASON_CONTAINER_LIMITATION_MEMORY')).toBe('FAILED');
  });

  it('rejects an unknown state with UNSUPPORTED naming the expected values', () => {
    const err = (() => {
      try {
        fromMesosTaskState('TASK_EXPLODED');
      } catch (e) {
        return e;
      }
    })();
    expect(isBerthError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('TASK_EXPLODED');
    expect(() => fromMesosTaskState(99)).toThrow(/99/);
    expect(() => fromMesosTaskState('toString')).toThrow(/unknown Mesos task state/);
  });

  it('never returns anything but a TaskState or a BerthError for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), fc.option(fc.string(), { nil: undefined }), (s, r) => {
        try {
          expect(TASK_STATES).toContain(fromMesosTaskState(s, r));
        } catch (e) {
          expect(isBerthError(e, 'UNSUPPORTED')).toBe(true);
        }
      }),
    );
  });
});

function pod(status: NonNullable<KubePodLike['status']>, extra: Partial<KubePodLike> = {}): KubePodLike {
  return { metadata: { name: 'web-1' }, ...extra, status };
}

describe('fromKubernetesPod', () => {
  it('keeps an unschedulable pod PENDING with the scheduler explanation', () => {
    const s = fromKubernetesPod(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient cpu.',
          },
        ],
      }),
    );
    expect(s).toEqual({
      state: 'PENDING',
      rawState: 'Pending',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient cpu.',
    });
  });

  it('treats a pod with no status yet as PENDING', () => {
    expect(fromKubernetesPod({}).state).toBe('PENDING');
  });

  it.each(['ErrImagePull', 'ImagePullBackOff'])(
    'reports %s on a bound pod as STAGING with the reason',
    (r) => {
      const s = fromKubernetesPod(
        pod(
          {
            phase: 'Pending',
            conditions: [{ type: 'PodScheduled', status: 'True' }],
            containerStatuses: [
              { name: 'main', state: { waiting: { reason: r, message: 'no such image' } } },
            ],
          },
          { spec: { nodeName: 'n1' } },
        ),
      );
      expect(s).toMatchObject({ state: 'STAGING', reason: r, message: 'no such image' });
    },
  );

  it('reports ContainerCreating as STARTING and a bound pod without containers as STAGING', () => {
    const bound = { spec: { nodeName: 'n1' } };
    expect(fromKubernetesPod(pod({ phase: 'Pending' }, bound)).state).toBe('STAGING');
    const creating = pod(
      {
        phase: 'Pending',
        containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ContainerCreating' } } }],
      },
      bound,
    );
    expect(fromKubernetesPod(creating).state).toBe('STARTING');
    const init = pod(
      { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { running: {} } }] },
      bound,
    );
    expect(fromKubernetesPod(init).state).toBe('STARTING');
  });

  it('reports a running pod as RUNNING', () => {
    const s = fromKubernetesPod(
      pod({ phase: 'Running', containerStatuses: [{ name: 'main', state: { running: {} } }] }),
    );
    expect(s).toEqual({ state: 'RUNNING', rawState: 'Running' });
  });

  it('reports CrashLoopBackOff as a non-terminal STARTING with the last exit code', () => {
    const s = fromKubernetesPod(
      pod({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'main',
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting' } },
            lastState: { terminated: { exitCode: 2, reason: 'Error' } },
          },
        ],
      }),
    );
    expect(s).toEqual({
      state: 'STARTING',
      rawState: 'Running',
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting',
      exitCode: 2,
    });
  });

  it('reports Succeeded as FINISHED with exit code 0', () => {
    expect(fromKubernetesPod(pod({ phase: 'Succeeded' }))).toMatchObject({ state: 'FINISHED', exitCode: 0 });
  });

  it('reports OOMKilled as FAILED with the container exit code', () => {
    const s = fromKubernetesPod(
      pod({
        phase: 'Failed',
        containerStatuses: [
          { name: 'side', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'main', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
        ],
      }),
    );
    expect(s).toEqual({ state: 'FAILED', rawState: 'Failed', reason: 'OOMKilled', exitCode: 137 });
  });

  it('reports Evicted as LOST and DeadlineExceeded as FAILED', () => {
    expect(
      fromKubernetesPod(
        pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      ),
    ).toEqual({
      state: 'LOST',
      rawState: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
    expect(fromKubernetesPod(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }))).toMatchObject({
      state: 'FAILED',
      reason: 'DeadlineExceeded',
    });
  });

  it('reports a lost node as UNREACHABLE', () => {
    expect(fromKubernetesPod(pod({ phase: 'Unknown' }))).toMatchObject({
      state: 'UNREACHABLE',
      reason: 'NodeLost',
    });
    expect(
      fromKubernetesPod(
        pod({ phase: 'Running', reason: 'NodeLost' }, { metadata: { deletionTimestamp: new Date() } }),
      ),
    ).toMatchObject({ state: 'UNREACHABLE' });
  });

  it('reports a terminating pod as KILLING and a deleted one as KILLED', () => {
    const p = pod({ phase: 'Running' }, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    expect(fromKubernetesPod(p).state).toBe('KILLING');
    expect(fromKubernetesPod(p, { deleted: true }).state).toBe('KILLED');
    expect(fromKubernetesPod(pod({ phase: 'Succeeded' }), { deleted: true }).state).toBe('FINISHED');
  });

  it('rejects an unknown phase with UNSUPPORTED', () => {
    expect(() => fromKubernetesPod(pod({ phase: 'Hibernating' }))).toThrow(
      /unknown Kubernetes pod phase "Hibernating"/,
    );
  });
});
