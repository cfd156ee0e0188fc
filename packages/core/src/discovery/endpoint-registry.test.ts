import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../cluster/clock.ts';
import { isBerthError } from '../cluster/errors.ts';
import { Subject, toAsyncIterable } from '../cluster/observable.ts';
import { TASK_STATES, type TaskState } from '../cluster/task-state.ts';
import { type EndpointEvent, EndpointRegistry } from './endpoint-registry.ts';
import { type DiscoveryTaskStatus, diffEndpoints, endpointFromStatus } from './endpoints.ts';

const T0 = 1_700_000_000_000;

function status(
  taskId: string,
  state: TaskState,
  updated: number,
  extra: Partial<DiscoveryTaskStatus> = {},
): DiscoveryTaskStatus {
  const i = Number(taskId.split('-').at(-1));
  return {
    taskId,
    state,
    rawState: `TASK_${state}`,
    service: 'web',
    nodeId: `agent-${i}`,
    hostname: `host-${i}.example`,
    ports: { http: 31000 + i, admin: 32000 + i },
    timestamps: { updated },
    backend: 'mesos',
    ...extra,
  };
}

const summary = (events: readonly EndpointEvent[]) =>
  events.map((e) => `${e.type} ${e.endpoint.taskId}${e.type === 'removed' ? ` ${e.reason}` : ''}`);

describe('EndpointRegistry', () => {
  it('makes RUNNING replicas endpoints with host, node, named ports and health', () => {
    const reg = new EndpointRegistry({ clock: new FakeClock(T0) });
    reg.apply(status('web-0', 'STAGING', 1));
    reg.apply(status('web-0', 'RUNNING', 2, { healthy: true, zone: 'zone-a' }));
    reg.apply(status('web-1', 'RUNNING', 3));
    expect(reg.endpoints('web')).toEqual([
      {
        service: 'web',
        taskId: 'web-0',
        nodeId: 'agent-0',
        host: 'host-0.example',
        ports: { admin: 32000, http: 31000 },
        health: 'healthy',
        zone: 'zone-a',
        backend: 'mesos',
      },
      {
        service: 'web',
        taskId: 'web-1',
        nodeId: 'agent-1',
        host: 'host-1.example',
        ports: { admin: 32001, http: 31001 },
        health: 'unchecked',
        backend: 'mesos',
      },
    ]);
    expect(reg.services()).toEqual(['web']);
  });

  it('is not an endpoint while starting, nor when running without a reported host', () => {
    const reg = new EndpointRegistry();
    for (const s of ['PENDING', 'STAGING', 'STARTING'] as const)
      expect(reg.apply(status('web-0', s, 1))).toEqual([]);
    const { hostname: _, ...noHost } = status('web-0', 'RUNNING', 2);
    expect(reg.apply(noHost)).toEqual([]);
    expect(endpointFromStatus(noHost).reason).toBe('NoHost');
    expect(reg.endpoints('web')).toEqual([]);
  });

  it('withdraws an endpoint when its health check fails and restores it when it passes again', () => {
    const clock = new FakeClock(T0);
    const reg = new EndpointRegistry({ clock });
    reg.apply(status('web-0', 'RUNNING', 1, { healthy: true }));
    clock.advance(5000);
    const down = reg.apply(status('web-0', 'RUNNING', 2, { healthy: false }));
    expect(summary(down)).toEqual(['removed web-0 Unhealthy']);
    expect(down[0]?.at).toBe(T0 + 5000);
    expect(reg.endpoints('web')).toEqual([]);
    expect(summary(reg.apply(status('web-0', 'RUNNING', 3, { healthy: true })))).toEqual(['added web-0']);
  });

  it('withdraws an endpoint when the task is being killed, and forgets it once killed', () => {
    const reg = new EndpointRegistry();
    reg.apply(status('web-0', 'RUNNING', 1));
    expect(summary(reg.apply(status('web-0', 'KILLING', 2)))).toEqual(['removed web-0 NotRunning']);
    expect(reg.apply(status('web-0', 'KILLED', 3))).toEqual([]);
    // A stale RUNNING status delivered after the terminal one cannot bring it back.
    expect(reg.apply(status('web-0', 'RUNNING', 2))).toEqual([]);
    expect(reg.apply(status('web-0', 'RUNNING', 4))).toEqual([]);
    expect(reg.endpoints('web')).toEqual([]);
  });

  it('withdraws endpoints of lost, failed and unreachable replicas', () => {
    const reg = new EndpointRegistry();
    for (const i of [0, 1, 2]) reg.apply(status(`web-${i}`, 'RUNNING', 1));
    const events = [
      ...reg.apply(status('web-0', 'LOST', 2)),
      ...reg.apply(status('web-1', 'FAILED', 2)),
      ...reg.apply(status('web-2', 'UNREACHABLE', 2)),
    ];
    expect(summary(events)).toEqual([
      'removed web-0 NotRunning',
      'removed web-1 NotRunning',
      'removed web-2 NotRunning',
    ]);
  });

  it('ignores a status older than the last one seen for the task', () => {
    const reg = new EndpointRegistry();
    reg.apply(status('web-0', 'RUNNING', 10));
    expect(reg.apply(status('web-0', 'STARTING', 5))).toEqual([]);
    expect(reg.endpoints('web')).toHaveLength(1);
  });

  it('reports a port or host change of a running replica as changed, with the previous endpoint', () => {
    const reg = new EndpointRegistry();
    reg.apply(status('web-0', 'RUNNING', 1));
    const [e] = reg.apply(status('web-0', 'RUNNING', 2, { ports: { http: 31555, admin: 32000 } }));
    expect(e?.type).toBe('changed');
    expect(e?.type === 'changed' && [e.previous.ports.http, e.endpoint.ports.http]).toEqual([31000, 31555]);
    expect(reg.apply(status('web-0', 'RUNNING', 3, { ports: { http: 31555, admin: 32000 } }))).toEqual([]);
  });

  it('publishes only the ports the service lists', () => {
    const reg = new EndpointRegistry({ publishedPorts: (s) => (s === 'web' ? ['http'] : undefined) });
    reg.apply(status('web-0', 'RUNNING', 1));
    reg.apply(status('api-0', 'RUNNING', 1, { service: 'api' }));
    expect(reg.endpoints('web')[0]?.ports).toEqual({ http: 31000 });
    expect(reg.endpoints('api')[0]?.ports).toEqual({ admin: 32000, http: 31000 });
  });

  it('ignores tasks that are not replicas of a service', () => {
    const reg = new EndpointRegistry();
    const { service: _, ...plain } = status('batch-0', 'RUNNING', 1);
    expect(reg.apply(plain)).toEqual([]);
    expect(reg.services()).toEqual([]);
  });

  it('withdraws replicas missing from a full resync and adds new ones, scoped to one service', () => {
    const reg = new EndpointRegistry();
    for (const i of [0, 1, 2]) reg.apply(status(`web-${i}`, 'RUNNING', 1));
    reg.apply(status('api-0', 'RUNNING', 1, { service: 'api' }));
    const events = reg.reconcile([status('web-1', 'RUNNING', 2), status('web-3', 'RUNNING', 2)], {
      service: 'web',
    });
    expect(summary(events)).toEqual(['removed web-0 Gone', 'removed web-2 Gone', 'added web-3']);
    expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(['web-1', 'web-3']);
    expect(reg.endpoints('api')).toHaveLength(1);
    expect(summary(reg.dropService('api'))).toEqual(['removed api-0 Gone']);
    expect(reg.services()).toEqual(['web']);
  });

  it('applies nothing when one status of a resync is malformed', () => {
    const reg = new EndpointRegistry();
    reg.apply(status('web-0', 'RUNNING', 1));
    const bad = { ...status('web-1', 'RUNNING', 2), timestamps: {} } as unknown as DiscoveryTaskStatus;
    let caught: unknown;
    try {
      reg.reconcile([status('web-2', 'RUNNING', 2), bad], { service: 'web' });
    } catch (err) {
      caught = err;
    }
    expect(isBerthError(caught, 'SPEC_INVALID') && caught.message).toContain(
      'statuses[1].timestamps.updated',
    );
    expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(['web-0']);
  });

  it('numbers events in order and delivers them to subscribers, per service if asked', () => {
    const reg = new EndpointRegistry();
    const all: string[] = [];
    const api: string[] = [];
    const offAll = reg.subscribe((e) => all.push(`${e.seq} ${e.type} ${e.endpoint.taskId}`));
    const offApi = reg.subscribe((e) => api.push(e.endpoint.taskId), { service: 'api' });
    reg.apply(status('web-0', 'RUNNING', 1));
    reg.apply(status('api-0', 'RUNNING', 1, { service: 'api' }));
    offAll();
    reg.apply(status('web-0', 'KILLING', 2));
    offApi();
    reg.apply(status('api-0', 'KILLING', 2, { service: 'api' }));
    expect(all).toEqual(['1 added web-0', '2 added api-0']);
    expect(api).toEqual(['api-0']);
  });

  it('follows a task watch: endpoints track RUNNING healthy replicas as statuses stream in', async () => {
    const reg = new EndpointRegistry();
    const statuses = new Subject<DiscoveryTaskStatus>();
    const done = reg.follow(toAsyncIterable(statuses));
    const flush = () => new Promise((r) => setTimeout(r, 0));
    statuses.emit(status('web-0', 'RUNNING', 1));
    statuses.emit(status('web-1', 'RUNNING', 1));
    await flush();
    expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(['web-0', 'web-1']);
    statuses.emit(status('web-1', 'RUNNING', 2, { healthy: false }));
    statuses.emit(status('web-2', 'RUNNING', 2));
    statuses.complete();
    await done;
    expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(['web-0', 'web-2']);
  });

  it('stops following when the signal aborts, leaving the source unsubscribed', async () => {
    const reg = new EndpointRegistry();
    const statuses = new Subject<DiscoveryTaskStatus>();
    const ac = new AbortController();
    const done = reg.follow(toAsyncIterable(statuses), { signal: ac.signal });
    statuses.emit(status('web-0', 'RUNNING', 1));
    await new Promise((r) => setTimeout(r, 0));
    ac.abort();
    await done;
    expect(statuses.observerCount).toBe(0);
    statuses.emit(status('web-1', 'RUNNING', 1));
    expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(['web-0']);
  });
});

describe('EndpointRegistry.watch', () => {
  it('yields the current endpoints first, then changes, and ends cleanly on abort', async () => {
    const reg = new EndpointRegistry();
    reg.apply(status('web-0', 'RUNNING', 1));
    reg.apply(status('api-0', 'RUNNING', 1, { service: 'api' }));
    const ac = new AbortController();
    const seen: string[] = [];
    const watcher = (async () => {
      for await (const e of reg.watch({ service: 'web', initial: true, signal: ac.signal })) {
        seen.push(`${e.type} ${e.endpoint.taskId}`);
        if (seen.length === 3) ac.abort();
      }
      return 'ended';
    })();
    const flush = () => new Promise((r) => setTimeout(r, 0));
    await flush();
    reg.apply(status('api-1', 'RUNNING', 2, { service: 'api' }));
    reg.apply(status('web-1', 'RUNNING', 2));
    await flush();
    reg.apply(status('web-0', 'RUNNING', 3, { healthy: false }));
    await flush(); // the watcher aborts after this third event
    reg.apply(status('web-2', 'RUNNING', 4));
    await expect(watcher).resolves.toBe('ended');
    expect(seen).toEqual(['added web-0', 'added web-1', 'removed web-0']);
  });

  it('ends every watch when the registry is closed', async () => {
    const reg = new EndpointRegistry();
    const it1 = reg.watch();
    const next = it1.next();
    reg.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });

  it('returns at once for a signal that is already aborted', async () => {
    const reg = new EndpointRegistry();
    const ac = new AbortController();
    ac.abort();
    const got: EndpointEvent[] = [];
    for await (const e of reg.watch({ signal: ac.signal })) got.push(e);
    expect(got).toEqual([]);
  });
});

describe('endpoint properties', () => {
  const stateArb = fc.constantFrom(...TASK_STATES);
  const updateArb = fc.record({
    task: fc.integer({ min: 0, max: 5 }),
    state: stateArb,
    healthy: fc.option(fc.boolean(), { nil: undefined }),
    port: fc.integer({ min: 31000, max: 31005 }),
  });

  it('after any sequence of statuses, the endpoints are exactly the live RUNNING, not-unhealthy replicas, and replaying the events rebuilds them', () => {
    fc.assert(
      fc.property(fc.array(updateArb, { maxLength: 60 }), (updates) => {
        const reg = new EndpointRegistry();
        const replay = new Map<string, string>();
        reg.subscribe((e) => {
          if (e.type === 'removed') replay.delete(e.endpoint.taskId);
          else replay.set(e.endpoint.taskId, JSON.stringify(e.endpoint));
        });
        const last = new Map<string, DiscoveryTaskStatus>();
        const ended = new Set<string>();
        updates.forEach((u, i) => {
          const id = `web-${u.task}`;
          const s = status(id, u.state, i, {
            ports: { http: u.port },
            ...(u.healthy === undefined ? {} : { healthy: u.healthy }),
          });
          reg.apply(s);
          if (!ended.has(id)) last.set(id, s);
          if (['FINISHED', 'FAILED', 'KILLED', 'LOST', 'ERROR'].includes(u.state)) ended.add(id);
        });
        const expected = [...last.values()]
          .filter((s) => s.state === 'RUNNING' && s.healthy !== false)
          .map((s) => s.taskId)
          .sort();
        expect(reg.endpoints('web').map((e) => e.taskId)).toEqual(expected);
        expect([...replay.keys()].sort()).toEqual(expected);
        expect(reg.endpoints('web').map((e) => JSON.stringify(e))).toEqual(
          expected.map((id) => replay.get(id)),
        );
      }),
    );
  });

  it('diffEndpoints turns one list into the other', () => {
    const epArb = fc.record({ task: fc.integer({ min: 0, max: 8 }), port: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(fc.array(epArb), fc.array(epArb), (a, b) => {
        const list = (xs: { task: number; port: number }[]) => {
          const m = new Map(xs.map((x) => [x.task, x]));
          return [...m.values()].map(
            (x) =>
              endpointFromStatus(status(`web-${x.task}`, 'RUNNING', 1, { ports: { http: x.port } }))
                .endpoint!,
          );
        };
        const before = list(a);
        const after = list(b);
        const state = new Map(before.map((e) => [e.taskId, e]));
        for (const c of diffEndpoints(before, after)) {
          if (c.type === 'removed') state.delete(c.endpoint.taskId);
          else state.set(c.endpoint.taskId, c.endpoint);
        }
        expect([...state.values()].sort((x, y) => x.taskId.localeCompare(y.taskId))).toEqual(
          [...after].sort((x, y) => x.taskId.localeCompare(y.taskId)),
        );
      }),
    );
  });
});
