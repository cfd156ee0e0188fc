import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Engine, startEngine } from '../engine/index.ts';
import {
  type Ev,
  nextOffer,
  type PlainOffer,
  post,
  type RecordReader,
  type Subscription,
  schedulerCall,
  statusOf,
  subscribeFramework,
} from './__tests__/plain-client.ts';
import { type MesosMaster, startMesosMaster } from './master.ts';

const GiB = 1024 ** 3;
const FRAMEWORK = {
  user: 'root',
  name: 'health-test',
  roles: ['*'],
  capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
};
const HEALTH_REASON = 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED';

let engine: Engine;
let master: MesosMaster;
const readers: RecordReader[] = [];

beforeEach(async () => {
  engine = await startEngine({
    nodes: [{ count: 1, capacity: { cpu: 2000, memory: 2 * GiB, disk: 4 * GiB } }],
  });
  master = await startMesosMaster({
    engine,
    allocationIntervalMs: 50,
    heartbeatIntervalSeconds: 5,
    statusUpdateRetryMs: 2000,
  });
});

afterEach(async () => {
  for (const r of readers.splice(0)) r.cancel();
  await master.close();
  await engine.stop({ gracePeriodMs: 0 });
});

type Offer = PlainOffer;
type Sub = Subscription;
const subscribe = () => subscribeFramework(master.url, FRAMEWORK, readers);
const call = (sub: Sub, body: Record<string, unknown>) => schedulerCall(master.url, sub, body);

function firstPort(offer: Offer): number {
  const ports = offer.resources.find((r) => r.name === 'ports') as { ranges: { range: { begin: number }[] } };
  return ports.ranges.range[0]!.begin;
}

const scalar = (name: string, value: number) => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  allocation_info: { role: '*' },
});

async function launch(sub: Sub, offer: Offer, task: Record<string, unknown>) {
  const res = await call(sub, {
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              {
                agent_id: offer.agent_id,
                resources: [scalar('cpus', 0.1), scalar('mem', 32)],
                ...task,
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0.05 },
    },
  });
  expect(res.status).toBe(202);
}

/** Acknowledges every UPDATE of `taskId` and returns them, until one matches `until`. */
async function updatesUntil(sub: Sub, taskId: string, until: (s: ReturnType<typeof statusOf>) => boolean) {
  const seen: ReturnType<typeof statusOf>[] = [];
  for (;;) {
    const e: Ev = await sub.reader.next(
      (x) => x.type === 'UPDATE' && statusOf(x).task_id.value === taskId,
      6000,
    );
    const s = statusOf(e);
    if (s.uuid !== undefined) {
      const ack = await call(sub, {
        type: 'ACKNOWLEDGE',
        acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid },
      });
      expect(ack.status).toBe(202);
    }
    if (seen.some((p) => p.uuid !== undefined && p.uuid === s.uuid)) continue; // a retry
    seen.push(s);
    if (until(s)) return seen;
  }
}

async function operator(type: string): Promise<Record<string, unknown>> {
  const res = await post(`${master.url}/api/v1`, { type });
  return (await res.json()) as Record<string, unknown>;
}

function quickCheck(check: Record<string, unknown>): Record<string, unknown> {
  return {
    delay_seconds: 0,
    interval_seconds: 0.1,
    timeout_seconds: 1,
    grace_period_seconds: 0,
    consecutive_failures: 3,
    ...check,
  };
}

describe('Mesos face health checks over plain HTTP', () => {
  it('turns a task healthy when its HTTP check on the allocated port answers 200, visible in GET_TASKS and reconciliation', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    const port = firstPort(offer);
    const server = `'${process.execPath}' -e 'require("node:http").createServer((q, s) => s.end("ok")).listen(+process.env.PORT0, "127.0.0.1")'`;
    await launch(sub, offer, {
      name: 'web',
      task_id: { value: 'web' },
      resources: [
        scalar('cpus', 0.1),
        scalar('mem', 64),
        {
          name: 'ports',
          type: 'RANGES',
          ranges: { range: [{ begin: port, end: port }] },
          allocation_info: { role: '*' },
        },
      ],
      command: { shell: true, value: server },
      health_check: quickCheck({ type: 'HTTP', http: { port, path: '/health' }, grace_period_seconds: 5 }),
    });
    const seen = await updatesUntil(sub, 'web', (s) => s.healthy === true);
    const healthy = seen.at(-1)!;
    expect(healthy).toMatchObject({
      state: 'TASK_RUNNING',
      reason: HEALTH_REASON,
      source: 'SOURCE_EXECUTOR',
    });
    expect(healthy.uuid).toMatch(/==$/);
    expect(seen.map((s) => s.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING']);

    const tasks = (await operator('GET_TASKS')).get_tasks as {
      tasks: { statuses: { healthy?: boolean }[] }[];
    };
    expect(tasks.tasks[0]!.statuses.at(-1)).toMatchObject({ state: 'TASK_RUNNING', healthy: true });
    const state = (await operator('GET_STATE')).get_state as {
      get_tasks: { tasks: { health_check: unknown; statuses: { healthy?: boolean }[] }[] };
    };
    expect(state.get_tasks.tasks[0]!.statuses.at(-1)!.healthy).toBe(true);
    expect(state.get_tasks.tasks[0]!.health_check).toMatchObject({ type: 'HTTP' });

    await call(sub, { type: 'RECONCILE', reconcile: { tasks: [] } });
    const rec = await sub.reader.next(
      (e) => e.type === 'UPDATE' && statusOf(e).reason === 'REASON_RECONCILIATION',
    );
    expect(statusOf(rec)).toMatchObject({ state: 'TASK_RUNNING', healthy: true });
  });

  it('reports a COMMAND check that starts failing as unhealthy, then kills the task after consecutive_failures', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, {
      name: 'flaky',
      task_id: { value: 'flaky' },
      // The check passes while the file exists in the sandbox, where it runs.
      command: { shell: true, value: 'touch ok; sleep 0.4; rm ok; sleep 30' },
      health_check: quickCheck({
        type: 'COMMAND',
        command: { value: 'test -f ok && test "$MESOS_TASK_ID" = flaky' },
        grace_period_seconds: 0.3,
      }),
    });
    const seen = await updatesUntil(sub, 'flaky', (s) => s.state === 'TASK_KILLED');
    const health = seen.filter((s) => s.reason === HEALTH_REASON).map((s) => s.healthy);
    expect(health).toEqual([true, false, false, false]);
    expect(seen.at(-2)!.state).toBe('TASK_KILLING');
    const killed = seen.at(-1)!;
    // Mesos' command executor marks the kill with healthy=false and sets no reason.
    expect(killed).toMatchObject({ state: 'TASK_KILLED', healthy: false });
    expect(killed.reason).toBeUndefined();
    expect(engine.task('flaky')?.state).toBe('KILLED');
  });

  it('ignores failures during grace_period_seconds before the first success', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, {
      name: 'slow',
      task_id: { value: 'slow' },
      command: { shell: true, value: 'sleep 30' },
      health_check: quickCheck({
        type: 'TCP',
        tcp: { port: 1 }, // nothing listens there
        grace_period_seconds: 0.6,
        consecutive_failures: 1,
      }),
    });
    const seen = await updatesUntil(sub, 'slow', (s) => s.state === 'TASK_KILLED');
    const running = seen.find((s) => s.state === 'TASK_RUNNING' && s.reason === undefined)!;
    const unhealthy = seen.filter((s) => s.reason === HEALTH_REASON);
    expect(unhealthy).toHaveLength(1);
    expect(unhealthy[0]!.healthy).toBe(false);
    expect((unhealthy[0]!.timestamp as number) - (running.timestamp as number)).toBeGreaterThanOrEqual(0.6);
  });

  it('gives a simulated task (an image without a command) a synthetic healthy result after delay_seconds', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, {
      name: 'sim',
      task_id: { value: 'sim' },
      container: { type: 'DOCKER', docker: { image: 'nginx:1.27' } },
      health_check: quickCheck({ type: 'HTTP', http: { port: 80 }, delay_seconds: 0.2 }),
    });
    const seen = await updatesUntil(sub, 'sim', (s) => s.reason === HEALTH_REASON);
    expect(seen.at(-1)).toMatchObject({ state: 'TASK_RUNNING', healthy: true });
  });

  it('refuses a task whose health check is invalid with TASK_ERROR, as the master validates it', async () => {
    const sub = await subscribe();
    const offer = await nextOffer(sub);
    await launch(sub, offer, {
      name: 'bad',
      task_id: { value: 'bad' },
      command: { shell: true, value: 'sleep 30' },
      health_check: { type: 'HTTP', http: { port: 8080, path: 'health' } },
    });
    const seen = await updatesUntil(sub, 'bad', () => true);
    expect(seen[0]).toMatchObject({
      state: 'TASK_ERROR',
      reason: 'REASON_TASK_INVALID',
      message: "Task uses invalid health check: The path 'health' of HTTP health check must start with '/'",
    });
    expect(engine.task('bad')).toBeUndefined();
  });
});
