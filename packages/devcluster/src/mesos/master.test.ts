import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Engine, startEngine } from '../engine/index.ts';
import {
  type Ev,
  isUpdate,
  nextOffer,
  type PlainOffer,
  post,
  RecordReader,
  type Subscription,
  schedulerCall,
  statusOf,
  subscribeFramework,
} from './__tests__/plain-client.ts';
import { type MesosMaster, startMesosMaster } from './master.ts';

const GiB = 1024 ** 3;
const FRAMEWORK = {
  user: 'root',
  name: 'life-test',
  roles: ['*'],
  failover_timeout: 3600,
  capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
};

let engine: Engine;
let master: MesosMaster;
const readers: RecordReader[] = [];

beforeEach(async () => {
  engine = await startEngine({
    nodes: [{ count: 2, capacity: { cpu: 2000, memory: 2 * GiB, disk: 4 * GiB } }],
  });
  master = await startMesosMaster({
    engine,
    allocationIntervalMs: 50,
    heartbeatIntervalSeconds: 0.2,
    statusUpdateRetryMs: 300,
  });
});

afterEach(async () => {
  for (const r of readers.splice(0)) r.cancel();
  await master.close();
  await engine.stop({ gracePeriodMs: 0 });
});

const subscribe = (info: object = FRAMEWORK, frameworkId?: string) =>
  subscribeFramework(master.url, info, readers, frameworkId);
type Sub = Subscription;
const call = (sub: Sub, body: Record<string, unknown>) => schedulerCall(master.url, sub, body);
type Offer = PlainOffer;

function launch(
  sub: Sub,
  offer: Offer,
  taskId: string,
  command: string,
  extra: Record<string, unknown> = {},
) {
  return call(sub, {
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              {
                name: taskId,
                task_id: { value: taskId },
                agent_id: offer.agent_id,
                resources: [
                  { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } },
                  { name: 'mem', type: 'SCALAR', scalar: { value: 32 }, allocation_info: { role: '*' } },
                ],
                command: { shell: true, value: command },
                ...extra,
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0.05 },
    },
  });
}

async function ack(sub: Sub, e: Ev) {
  const s = statusOf(e);
  const res = await call(sub, {
    type: 'ACKNOWLEDGE',
    acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid },
  });
  expect(res.status).toBe(202);
}

describe('startMesosMaster: a framework life over plain HTTP', () => {
  it('subscribes with a stream id, gets SUBSCRIBED, an immediate HEARTBEAT, periodic ones and offers', async () => {
    const sub = await subscribe();
    expect(sub.res.headers.get('content-type')).toBe('application/json');
    expect(sub.streamId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sub.reader.all[0]).toMatchObject({
      subscribed: { heartbeat_interval_seconds: 0.2, master_info: { port: master.port, version: '1.12.0' } },
    });
    expect((await sub.reader.next()).type).toBe('HEARTBEAT');
    const offer = await nextOffer(sub);
    expect(offer.agent_id.value).toBe(master.agentId('node-1') ?? master.agentId('node-2'));
    expect(offer).toMatchObject({ hostname: expect.any(String), url: { scheme: 'http', path: '/slave(1)' } });
    expect(offer.resources).toContainEqual({
      name: 'cpus',
      type: 'SCALAR',
      scalar: { value: 2 },
      role: '*',
      allocation_info: { role: '*' },
    });
    await sub.reader.next((e) => e.type === 'HEARTBEAT');
  });

  it('runs a real sh -c command to TASK_FAILED with its exit code, updates acknowledged one by one', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    expect((await launch(sub, offer, 'exit-3', 'echo hello; exit 3')).status).toBe(202);
    const starting = await sub.reader.next(isUpdate('TASK_STARTING', 'exit-3'));
    expect(statusOf(starting)).toMatchObject({ source: 'SOURCE_EXECUTOR', executor_id: { value: 'exit-3' } });
    expect(statusOf(starting).uuid).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    await ack(sub, starting);
    const running = await sub.reader.next(isUpdate('TASK_RUNNING', 'exit-3'));
    await ack(sub, running);
    const failed = await sub.reader.next(isUpdate('TASK_FAILED', 'exit-3'));
    expect(statusOf(failed).message).toBe('Command exited with status 3');
    await ack(sub, failed);

    // The sandbox is readable through the agent's file API, as a real agent serves it.
    const base = master.agentUrl(offer.agent_id.value)!;
    const path = `/frameworks/${sub.id}/executors/exit-3/runs/latest/stdout`;
    const read = await fetch(`${base}/files/read?path=${encodeURIComponent(path)}&offset=0&length=100`);
    expect(await read.json()).toEqual({ data: 'hello\n', offset: 0 });
    const size = await fetch(`${base}/files/read?path=${encodeURIComponent(path)}&offset=-1`);
    expect(await size.json()).toEqual({ data: '', offset: 6 });
    const browse = await fetch(
      `${base}/files/browse?path=${encodeURIComponent(path.replace('/stdout', ''))}`,
    );
    expect(((await browse.json()) as { path: string }[]).map((f) => f.path)).toContain(path);
  });

  it('retries an unacknowledged update with the same uuid and holds the next one back', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, 'quick', 'exit 0');
    const first = await sub.reader.next(isUpdate('TASK_STARTING', 'quick'));
    const again = await sub.reader.next((e) => e.type === 'UPDATE');
    expect(statusOf(again).state).toBe('TASK_STARTING');
    expect(statusOf(again).uuid).toBe(statusOf(first).uuid);
    await ack(sub, again);
    await ack(sub, await sub.reader.next(isUpdate('TASK_RUNNING', 'quick')));
    const finished = await sub.reader.next(isUpdate('TASK_FINISHED', 'quick'));
    expect(statusOf(finished).message).toBe('Command exited with status 0');
  });

  it('kills a sleep through TASK_KILLING to TASK_KILLED and reconciles known and unknown tasks', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, 'sleeper', 'sleep 30', {
      kill_policy: { grace_period: { nanoseconds: 500_000_000 } },
    });
    await ack(sub, await sub.reader.next(isUpdate('TASK_STARTING', 'sleeper')));
    await ack(sub, await sub.reader.next(isUpdate('TASK_RUNNING', 'sleeper')));

    const rec = await call(sub, {
      type: 'RECONCILE',
      reconcile: { tasks: [{ task_id: { value: 'sleeper' } }, { task_id: { value: 'no-such-task' } }] },
    });
    expect(rec.status).toBe(202);
    const known = statusOf(await sub.reader.next(isUpdate('TASK_RUNNING', 'sleeper')));
    expect(known).toMatchObject({ reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' });
    expect(known.uuid).toBeUndefined();
    const unknown = statusOf(await sub.reader.next(isUpdate('TASK_UNKNOWN', 'no-such-task')));
    expect(unknown.message).toBe('Reconciliation: Task is unknown');

    await call(sub, { type: 'RECONCILE', reconcile: { tasks: [] } });
    expect(statusOf(await sub.reader.next(isUpdate('TASK_RUNNING', 'sleeper'))).reason).toBe(
      'REASON_RECONCILIATION',
    );

    expect((await call(sub, { type: 'KILL', kill: { task_id: { value: 'sleeper' } } })).status).toBe(202);
    await ack(sub, await sub.reader.next(isUpdate('TASK_KILLING', 'sleeper')));
    const killed = await sub.reader.next(isUpdate('TASK_KILLED', 'sleeper'));
    expect(statusOf(killed).message).toBe('Command terminated with signal Terminated');
  });

  it('refuses a task asking for more than the offer with TASK_ERROR from the master, without a uuid', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await call(sub, {
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 'too-big',
                  task_id: { value: 'too-big' },
                  agent_id: offer.agent_id,
                  resources: [
                    { name: 'cpus', type: 'SCALAR', scalar: { value: 100 }, allocation_info: { role: '*' } },
                  ],
                  command: { value: 'true' },
                },
              ],
            },
          },
        ],
      },
    });
    const err = statusOf(await sub.reader.next(isUpdate('TASK_ERROR', 'too-big')));
    expect(err).toMatchObject({ reason: 'REASON_TASK_INVALID', source: 'SOURCE_MASTER' });
    expect(err.message).toMatch(
      /^Total resources cpus\(allocated: \*\):100 required by task and its executor is more than available /,
    );
    expect(err.uuid).toBeUndefined();

    // A used offer is no longer valid: the task is dropped.
    await launch(sub, offer, 'late', 'true');
    const dropped = statusOf(await sub.reader.next(isUpdate('TASK_DROPPED', 'late')));
    expect(dropped).toMatchObject({ reason: 'REASON_INVALID_OFFERS' });
  });

  it('fails the old stream over on re-SUBSCRIBE, rejects its stream id, and tears down', async () => {
    const sub = await subscribe();
    await nextOffer(sub);
    const second = await subscribe(FRAMEWORK, sub.id);
    expect(second.id).toBe(sub.id);
    expect(second.streamId).not.toBe(sub.streamId);
    expect(await sub.reader.next((e) => e.type === 'ERROR')).toEqual({
      type: 'ERROR',
      error: { message: 'Framework failed over' },
    });
    await sub.reader.end();

    const stale = await call(sub, { type: 'REVIVE' });
    expect(stale.status).toBe(400);
    expect(await stale.text()).toBe(
      `The stream ID '${sub.streamId}' included in this request didn't match the stream ID currently associated with framework ID ${sub.id}`,
    );

    expect((await call(second, { type: 'TEARDOWN' })).status).toBe(202);
    await second.reader.end();
    const after = await call(second, { type: 'REVIVE' });
    expect([after.status, await after.text()]).toEqual([400, 'Framework cannot be found']);
    const fws = await post(`${master.url}/api/v1`, { type: 'GET_FRAMEWORKS' });
    const body = (await fws.json()) as {
      get_frameworks: { frameworks: unknown[]; completed_frameworks: unknown[] };
    };
    expect(body.get_frameworks.frameworks).toHaveLength(0);
    expect(body.get_frameworks.completed_frameworks).toHaveLength(1);
  });

  it('removes a framework that stays away past its failover_timeout and kills its tasks', async () => {
    const sub = await subscribe({ ...FRAMEWORK, failover_timeout: 0.3 });
    const offer = await nextOffer(sub);
    await launch(sub, offer, 'orphan', 'sleep 30', { kill_policy: { grace_period: { nanoseconds: 0 } } });
    await sub.reader.next(isUpdate('TASK_STARTING', 'orphan'));
    expect(master.faults.dropSchedulerStream(sub.id)).toBe(1);
    await expect(engine.waitForTask('orphan')).resolves.toMatchObject({ state: 'KILLED' });
    const again = await post(`${master.url}/api/v1/scheduler`, {
      framework_id: { value: sub.id },
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { ...FRAMEWORK, id: { value: sub.id } } },
    });
    const reader = new RecordReader(again.body!);
    readers.push(reader);
    expect(await reader.next()).toEqual({ type: 'ERROR', error: { message: 'Framework has been removed' } });
  });
});

describe('startMesosMaster: allocation', () => {
  it('does not re-offer a declined agent to the framework within refuse_seconds, and REVIVE lifts it', async () => {
    const sub = await subscribe();
    const a = (await sub.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] };
    const ids = a.offers.map((o) => o.id);
    await call(sub, { type: 'DECLINE', decline: { offer_ids: ids, filters: { refuse_seconds: 30 } } });
    await expect(sub.reader.next((e) => e.type === 'OFFERS', 400)).rejects.toThrow('timed out');
    await call(sub, { type: 'REVIVE' });
    await sub.reader.next((e) => e.type === 'OFFERS');
  });

  it('sends no offers while suppressed', async () => {
    const sub = await subscribe();
    await call(sub, { type: 'SUPPRESS' });
    const offers = (await sub.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] };
    await call(sub, {
      type: 'DECLINE',
      decline: { offer_ids: offers.offers.map((o) => o.id), filters: { refuse_seconds: 0 } },
    });
    await expect(sub.reader.next((e) => e.type === 'OFFERS', 400)).rejects.toThrow('timed out');
  });

  it('shares agents between two frameworks by DRF, ties going to fewer allocations', async () => {
    const one = await subscribe({ ...FRAMEWORK, name: 'one' });
    const first = (await one.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] };
    expect(first.offers).toHaveLength(2); // alone, it gets both agents
    const two = await subscribe({ ...FRAMEWORK, name: 'two' });
    await call(one, {
      type: 'DECLINE',
      decline: { offer_ids: first.offers.map((o) => o.id), filters: { refuse_seconds: 0 } },
    });
    // Both at share 0: "two" (no allocations yet) gets the first agent, then "one" the second.
    const o2 = (await two.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] };
    const o1 = (await one.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] };
    expect(o2.offers).toHaveLength(1);
    expect(o1.offers).toHaveLength(1);
    expect(o1.offers[0]!.agent_id).not.toEqual(o2.offers[0]!.agent_id);
  });

  it('rescinds offers that outlive offerTimeoutMs', async () => {
    await master.close();
    master = await startMesosMaster({ engine, allocationIntervalMs: 50, offerTimeoutMs: 150 });
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    const rescind = await sub.reader.next((e) => e.type === 'RESCIND');
    expect(rescind).toEqual({ type: 'RESCIND', rescind: { offer_id: offer.id } });
  });
});

describe('startMesosMaster: faults', () => {
  it('fails over to a standby: the old address answers 307 to the leader and frameworks re-subscribe', async () => {
    const standby = await startMesosMaster({ engine, leader: false });
    try {
      const r = await fetch(`${standby.url}/master/redirect`, { redirect: 'manual' });
      expect([r.status, r.headers.get('location')]).toEqual([307, `//localhost:${master.port}`]);
      const sub = await subscribe();
      master.faults.failover();
      await sub.reader.end();
      expect(standby.isLeader).toBe(true);
      const moved = await post(`${master.url}/api/v1/scheduler`, { type: 'SUBSCRIBE' });
      expect([moved.status, moved.headers.get('location')]).toEqual([
        307,
        `//localhost:${standby.port}/api/v1/scheduler`,
      ]);
      const res = await post(`${standby.url}/api/v1/scheduler`, {
        framework_id: { value: sub.id },
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { ...FRAMEWORK, id: { value: sub.id } } },
      });
      const reader = new RecordReader(res.body!);
      readers.push(reader);
      const subscribed = await reader.next();
      expect(subscribed).toMatchObject({
        subscribed: { framework_id: { value: sub.id }, master_info: { id: standby.id } },
      });
      expect(res.headers.get('mesos-stream-id')).not.toBe(sub.streamId);
    } finally {
      await standby.close();
    }
  });

  it('reports TASK_UNREACHABLE to partition-aware frameworks and TASK_LOST to others; AGENT_REMOVED to operators', async () => {
    const ops = await post(`${master.url}/api/v1`, { type: 'SUBSCRIBE' });
    const opReader = new RecordReader(ops.body!);
    readers.push(opReader);
    await opReader.next((e) => e.type === 'SUBSCRIBED');
    const aware = await subscribe();
    const all = ((await aware.reader.next((e) => e.type === 'OFFERS')).offers as { offers: Offer[] }).offers;
    const oa = all[0]!;
    const plain = await subscribe({ ...FRAMEWORK, name: 'plain', capabilities: [] });
    if (all.length > 1) {
      await call(aware, {
        type: 'DECLINE',
        decline: { offer_ids: [all[1]!.id], filters: { refuse_seconds: 30 } },
      });
    }
    const op = await nextOffer(plain);
    await launch(aware, oa, 'pa-task', 'sleep 30');
    await launch(plain, op, 'plain-task', 'sleep 30');
    await ack(aware, await aware.reader.next(isUpdate('TASK_STARTING', 'pa-task')));
    await ack(plain, await plain.reader.next(isUpdate('TASK_STARTING', 'plain-task')));
    await aware.reader.next(isUpdate('TASK_RUNNING', 'pa-task'));
    await plain.reader.next(isUpdate('TASK_RUNNING', 'plain-task'));
    master.faults.agentUnreachable(oa.agent_id.value);
    if (op.agent_id.value !== oa.agent_id.value) master.faults.agentUnreachable(op.agent_id.value);
    expect(statusOf(await aware.reader.next(isUpdate('TASK_UNREACHABLE', 'pa-task'))).source).toBe(
      'SOURCE_MASTER',
    );
    await plain.reader.next(isUpdate('TASK_LOST', 'plain-task'));
    expect(await opReader.next((e) => e.type === 'AGENT_REMOVED')).toMatchObject({
      agent_removed: { agent_id: { value: expect.any(String) } },
    });
  });

  it('duplicates updates on request, and answers injected 5xx', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    master.faults.duplicateUpdates(1);
    await launch(sub, offer, 'dup', 'sleep 30');
    const a = await sub.reader.next((e) => e.type === 'UPDATE');
    const b = await sub.reader.next((e) => e.type === 'UPDATE');
    expect(b).toEqual(a);

    const res = await post(`${master.url}/__berth/faults/http-errors`, { status: 503, times: 1 });
    expect(res.status).toBe(200);
    expect((await post(`${master.url}/api/v1`, { type: 'GET_HEALTH' })).status).toBe(503);
    expect((await post(`${master.url}/api/v1`, { type: 'GET_HEALTH' })).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate without valid framework credentials', async () => {
    await master.close();
    master = await startMesosMaster({ engine, authenticate: [{ principal: 'ops', secret: 's3cret' }] });
    const denied = await post(`${master.url}/api/v1/scheduler`, { type: 'SUBSCRIBE' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Basic realm="mesos"');
    const ok = await post(
      `${master.url}/api/v1/scheduler`,
      { type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK } },
      { Authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` },
    );
    expect(ok.status).toBe(200);
    new RecordReader(ok.body!).cancel();
  });
});

describe('startMesosMaster: operator view of tasks', () => {
  it("echoes the task's discovery info and kill policy in GET_TASKS, as a master's Task message does", async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    const discovery = {
      visibility: 'FRAMEWORK',
      name: 'web',
      ports: { ports: [{ number: 31005, name: 'http', protocol: 'tcp' }] },
    };
    await launch(sub, offer, 'named', 'sleep 30', {
      discovery,
      kill_policy: { grace_period: { nanoseconds: 2_000_000_000 } },
    });
    await sub.reader.next(isUpdate('TASK_STARTING', 'named'));
    const res = await post(`${master.url}/api/v1`, { type: 'GET_TASKS' });
    const body = (await res.json()) as { get_tasks: { tasks: Record<string, unknown>[] } };
    const task = body.get_tasks.tasks.find((t) => (t.task_id as { value: string }).value === 'named')!;
    expect(task.discovery).toEqual(discovery);
    expect(task.kill_policy).toEqual({ grace_period: { nanoseconds: 2_000_000_000 } });
    expect(task).not.toHaveProperty('health_check');
  });
});

describe('startMesosMaster: agent operator API', () => {
  it('reports resource statistics of running tasks in GET_CONTAINERS', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, 'busy', 'sleep 30');
    await sub.reader.next(isUpdate('TASK_STARTING', 'busy'));
    const res = await post(`${master.agentUrl(offer.agent_id.value)}/api/v1`, { type: 'GET_CONTAINERS' });
    const body = (await res.json()) as {
      get_containers: {
        containers: { executor_id: { value: string }; resource_statistics: Record<string, number> }[];
      };
    };
    const c = body.get_containers.containers.find((x) => x.executor_id.value === 'busy')!;
    expect(c.resource_statistics).toMatchObject({ cpus_limit: 0.1, mem_limit_bytes: 32 * 1024 * 1024 });
    expect(c.resource_statistics.timestamp).toBeGreaterThan(0);
  });
});
