import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEvents } from '../test/recorded-exchange.ts';
import type { TaskStatus } from './proto/common.ts';
import { MesosStateStore } from './state-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mesos-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'state.sqlite');
}

/** The recorded UPDATE statuses of stream 15, in order. */
const recordedStatuses = (
  loadEvents('15-scheduler-subscribe') as { type: string; update?: { status: TaskStatus } }[]
)
  .filter((e) => e.type === 'UPDATE')
  .map((e) => e.update?.status as TaskStatus);
const AGENT = 'de646b14-c094-45bd-bcb9-7a221eaf2456-S0';
const spec = (cmd: string) => ({ command: cmd, cpus: 0.5 });

describe('MesosStateStore', () => {
  it('reopens after a restart with the same framework id and the desired tasks', () => {
    const path = tempFile();
    const store = new MesosStateStore(path);
    store.setFrameworkId('de646b14-c094-45bd-bcb9-7a221eaf2456-0000');
    expect(store.upsertDesired([{ taskId: 'task-sleep-1', specHash: 'h1', spec: spec('sleep 30') }])).toEqual(
      {
        added: ['task-sleep-1'],
        changed: [],
        unchanged: [],
      },
    );
    store.close();

    const reopened = new MesosStateStore(path);
    expect(reopened.frameworkId).toBe('de646b14-c094-45bd-bcb9-7a221eaf2456-0000');
    expect(reopened.task('task-sleep-1')).toMatchObject({
      specHash: 'h1',
      spec: spec('sleep 30'),
      phase: 'pending',
      goal: 'run',
    });
    expect(
      reopened.upsertDesired([{ taskId: 'task-sleep-1', specHash: 'h2', spec: spec('sleep 60') }]).changed,
    ).toEqual(['task-sleep-1']);
    reopened.close();
  });

  it('claims a task for launch once, even when the process restarts mid-launch', () => {
    const path = tempFile();
    const store = new MesosStateStore(path);
    store.upsertDesired([
      { taskId: 'a', specHash: 'h', spec: {} },
      { taskId: 'b', specHash: 'h', spec: {} },
    ]);
    const placement = { offerId: 'O0', agentId: AGENT };
    expect(store.claimForLaunch(['a', 'b', 'a', 'unknown'], placement)).toEqual(['a', 'b']);
    expect(store.claimForLaunch(['a'], { offerId: 'O1', agentId: AGENT })).toEqual([]);
    store.close();

    const restarted = new MesosStateStore(path);
    expect(restarted.claimForLaunch(['a', 'b'], placement)).toEqual([]);
    expect(
      restarted.tasks({ phase: 'launching' }).map((t) => [t.taskId, t.offerId, t.launchAttempts]),
    ).toEqual([
      ['a', 'O0', 1],
      ['b', 'O0', 1],
    ]);
    // Reconciliation: the master knows a (RUNNING) but never saw b (TASK_UNKNOWN) → only b is launched again.
    restarted.recordStatus({
      task_id: { value: 'a' },
      state: 'TASK_RUNNING',
      agent_id: { value: AGENT },
      timestamp: 1,
    });
    restarted.recordStatus({ task_id: { value: 'b' }, state: 'TASK_UNKNOWN', timestamp: 1 });
    expect(restarted.task('a')?.phase).toBe('launched');
    expect(restarted.task('b')?.phase).toBe('launching');
    expect(restarted.releaseLaunch('b')).toBe(true);
    expect(restarted.claimForLaunch(['a', 'b'], { offerId: 'O2', agentId: AGENT })).toEqual(['b']);
    expect(restarted.task('b')?.launchAttempts).toBe(2);
    restarted.close();
  });

  it('claims an offer round in one call: each pending task once, with its own offer and agent, in the order given', () => {
    const store = new MesosStateStore(tempFile());
    store.upsertDesired(['a', 'b', 'c', 'd'].map((taskId) => ({ taskId, specHash: 'h', spec: {} })));
    expect(store.claimForLaunch(['c'], { offerId: 'O9', agentId: 'S9' })).toEqual(['c']);
    const granted = store.claimMany([
      { taskId: 'b', offerId: 'O2', agentId: 'S2' },
      { taskId: 'a', offerId: 'O1', agentId: 'S1' },
      { taskId: 'b', offerId: 'O3', agentId: 'S3' },
      { taskId: 'c', offerId: 'O4', agentId: 'S4' },
      { taskId: 'unknown', offerId: 'O5', agentId: 'S5' },
    ]);
    expect(granted).toEqual([
      { taskId: 'b', offerId: 'O2', agentId: 'S2' },
      { taskId: 'a', offerId: 'O1', agentId: 'S1' },
    ]);
    expect(store.claimMany([{ taskId: 'a', offerId: 'O6', agentId: 'S6' }])).toEqual([]);
    expect(store.claimForLaunch(['d', 'a'], { offerId: 'O7', agentId: 'S7' })).toEqual(['d']);
    expect(
      store.tasks({ phase: 'launching' }).map((t) => [t.taskId, t.offerId, t.agentId, t.launchAttempts]),
    ).toEqual([
      ['a', 'O1', 'S1', 1],
      ['b', 'O2', 'S2', 1],
      ['c', 'O9', 'S9', 1],
      ['d', 'O7', 'S7', 1],
    ]);
    store.close();
  });

  it('records each recorded update with its pending acknowledgement, durably, until the ACK is done', () => {
    const path = tempFile();
    const store = new MesosStateStore(path);
    store.upsertDesired([{ taskId: 'task-sleep-1', specHash: 'h', spec: {} }]);
    store.claimForLaunch(['task-sleep-1'], { offerId: 'O0', agentId: AGENT });
    const results = recordedStatuses
      .filter((s) => s.task_id.value === 'task-sleep-1')
      .map((s) => store.recordStatus(s));
    store.close();

    const reopened = new MesosStateStore(path);
    // STARTING, RUNNING, KILLING, KILLED carry a uuid; the two reconciliation answers do not.
    expect(results.map((r) => r.ackRequired)).toEqual([true, true, false, false, true, true]);
    expect(reopened.pendingAcks().map((a) => a.uuid)).toEqual([
      'u7+DnFF+QxW3wYvbUiRBNg==',
      '8fWm6OBuT/S+HE7/BVClIw==',
      'V0NnNxPeQnWEFvJ1GYGqDw==',
      'yIeWOD9nQGeAsQoZxQFoMA==',
    ]);
    expect(reopened.task('task-sleep-1')).toMatchObject({
      state: 'TASK_KILLED',
      phase: 'launched',
      agentId: AGENT,
    });
    for (const ack of reopened.pendingAcks()) reopened.completeAck(ack.taskId, ack.uuid);
    expect(reopened.pendingAcks()).toEqual([]);
    reopened.close();
  });

  it('keeps the newer state when a duplicate or out-of-order update arrives, but still asks for its ACK', () => {
    const store = new MesosStateStore(':memory:');
    store.upsertDesired([{ taskId: 't', specHash: 'h', spec: {} }]);
    const running = {
      task_id: { value: 't' },
      agent_id: { value: AGENT },
      state: 'TASK_RUNNING',
      timestamp: 20,
      uuid: 'bmV3',
    };
    const starting = { ...running, state: 'TASK_STARTING', timestamp: 10, uuid: 'b2xk' };
    expect(store.recordStatus(running)).toEqual({ applied: true, ackRequired: true });
    expect(store.recordStatus(starting)).toEqual({ applied: false, ackRequired: true });
    expect(store.recordStatus(running)).toEqual({ applied: true, ackRequired: true });
    expect(store.task('t')?.state).toBe('TASK_RUNNING');
    expect(
      store
        .pendingAcks()
        .map((a) => a.uuid)
        .sort(),
    ).toEqual(['b2xk', 'bmV3']);
    store.close();
  });

  it('records a batch of updates in order in one call, with the same outcome as one by one', () => {
    const statuses = recordedStatuses.filter((s) => s.task_id.value === 'task-sleep-1');
    const one = new MesosStateStore(':memory:');
    const batch = new MesosStateStore(tempFile());
    for (const store of [one, batch]) {
      store.upsertDesired([{ taskId: 'task-sleep-1', specHash: 'h', spec: {} }]);
      store.claimForLaunch(['task-sleep-1'], { offerId: 'O0', agentId: AGENT });
    }
    // An older duplicate of the first update at the end must not undo the later ones.
    const withStale = [...statuses, { ...statuses[0]!, uuid: 'c3RhbGU=' }];
    const singly = withStale.map((s) => one.recordStatus(s));
    const together = batch.recordStatuses(withStale);

    expect(together).toEqual(singly);
    expect(together.at(-1)).toEqual({ applied: false, ackRequired: true });
    expect(batch.task('task-sleep-1')).toMatchObject({ state: 'TASK_KILLED', phase: 'launched' });
    expect(batch.pendingAcks()).toEqual(one.pendingAcks());
    batch.completeAcks(batch.pendingAcks().slice(1));
    expect(batch.pendingAcks().map((a) => a.uuid)).toEqual(['u7+DnFF+QxW3wYvbUiRBNg==']);
    one.close();
    batch.close();
  });

  it('finds a replacement incarnation by its Mesos task id when recording its update', () => {
    const store = new MesosStateStore(':memory:');
    store.upsertDesired([{ taskId: 'web-0', specHash: 'h', spec: {} }]);
    store.newIncarnation('web-0', 'web-0.1');
    const update = {
      task_id: { value: 'web-0.1' },
      agent_id: { value: AGENT },
      state: 'TASK_RUNNING',
      uuid: 'dQ==',
    };
    const stale = { ...update, task_id: { value: 'web-0' }, uuid: 'dg==' };
    expect(store.recordStatuses([update, stale])).toEqual([
      { applied: true, ackRequired: true },
      // The old incarnation's update is only acknowledged.
      { applied: false, ackRequired: true },
    ]);
    expect(store.task('web-0')?.state).toBe('TASK_RUNNING');
    store.close();
  });

  it('applies nothing of a batch with an invalid entry, naming each bad field', () => {
    const store = new MesosStateStore(':memory:');
    let error: unknown;
    try {
      store.upsertDesired([
        { taskId: 'ok', specHash: 'h', spec: {} },
        { taskId: 'ok', specHash: '', spec: {} },
      ]);
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
    expect(isBerthError(error) && error.issues.map((i) => i.path)).toEqual(['[1].taskId', '[1].specHash']);
    expect(store.tasks()).toEqual([]);
    expect(() => store.requestKill('nope')).toThrow(/not in the state store/);
    store.close();
  });

  it('never has a task claimed twice without a release in between, whatever the sequence and restarts', () => {
    const path = tempFile();
    const ids = ['t0', 't1', 't2'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('claim' as const), ids: fc.subarray(ids) }),
      fc.record({ kind: fc.constant('release' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('restart' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        rmSync(path, { force: true });
        rmSync(`${path}-wal`, { force: true });
        rmSync(`${path}-shm`, { force: true });
        let store = new MesosStateStore(path, { durability: 'normal' });
        store.upsertDesired(ids.map((taskId) => ({ taskId, specHash: 'h', spec: {} })));
        const inFlight = new Set<string>();
        for (const o of ops) {
          if (o.kind === 'claim') {
            for (const id of store.claimForLaunch(o.ids, { offerId: 'O', agentId: AGENT })) {
              expect(inFlight.has(id)).toBe(false);
              inFlight.add(id);
            }
          } else if (o.kind === 'release') {
            if (store.releaseLaunch(o.id)) inFlight.delete(o.id);
          } else {
            store.close();
            store = new MesosStateStore(path, { durability: 'normal' });
          }
        }
        expect(new Set(store.tasks({ phase: 'launching' }).map((t) => t.taskId))).toEqual(inFlight);
        store.close();
      }),
      { numRuns: 25 },
    );
  }, 15_000);
});
