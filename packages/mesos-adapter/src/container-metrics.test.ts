import {
  type AutoscalePolicy,
  Autoscaler,
  type AutoscalerEvent,
  computeReplicaRecommendation,
  FakeClock,
  type Scaler,
  type TaskState,
} from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cpuUsageMillicores,
  MesosContainerMetrics,
  type MesosReplica,
  replicaReady,
} from './container-metrics.ts';
import type { AgentContainer, GetContainers } from './proto/agent.ts';
import { parseAgentResponse } from './proto/parse.ts';

const T0 = 1_700_000_000_000;
const MiB = 1024 ** 2;
const AGENT = 'http://10.0.0.1:5051';

/** A GET_CONTAINERS entry as a Mesos 1.x agent writes it for a command-executor task. */
function container(
  taskId: string,
  stats: { timestamp: number; user?: number; system?: number; rss?: number },
  over: Partial<AgentContainer> = {},
): AgentContainer {
  return {
    framework_id: { value: 'fw-1' },
    executor_id: { value: taskId },
    executor_name: `Command Executor (Task: ${taskId})`,
    container_id: { value: `ctr-${taskId}` },
    container_status: { container_id: { value: `ctr-${taskId}` }, executor_pid: 4242 },
    resource_statistics: {
      timestamp: stats.timestamp,
      ...(stats.user === undefined ? {} : { cpus_user_time_secs: stats.user }),
      ...(stats.system === undefined ? {} : { cpus_system_time_secs: stats.system }),
      cpus_limit: 0.3,
      ...(stats.rss === undefined ? {} : { mem_rss_bytes: stats.rss }),
      mem_limit_bytes: 128 * MiB,
    },
    ...over,
  };
}

function replica(taskId: string, over: Partial<MesosReplica> = {}): MesosReplica {
  return {
    taskId,
    mesosTaskId: taskId,
    executorId: taskId,
    agentUrl: AGENT,
    state: 'RUNNING',
    hasHealthCheck: false,
    startedAt: T0 - 3_600_000,
    requests: { cpu: 200, memory: 100 * MiB },
    ...over,
  };
}

/** A scripted agent: each poll answers the next response (the last one repeats). */
function scripted(responses: GetContainers[]) {
  const calls: string[] = [];
  let i = 0;
  return {
    calls,
    read: async (url: string): Promise<GetContainers> => {
      calls.push(url);
      const r = responses[Math.min(i, responses.length - 1)]!;
      i++;
      return r;
    },
  };
}

describe('cpuUsageMillicores', () => {
  it('is Δcpu seconds over Δtime in millicpu, and undefined when time stands still or the counter resets', () => {
    expect(cpuUsageMillicores({ timestamp: 100, cpuSecs: 10 }, { timestamp: 110, cpuSecs: 13 })).toBe(300);
    expect(cpuUsageMillicores({ timestamp: 100, cpuSecs: 10 }, { timestamp: 100.5, cpuSecs: 10.25 })).toBe(
      500,
    );
    expect(
      cpuUsageMillicores({ timestamp: 100, cpuSecs: 10 }, { timestamp: 100, cpuSecs: 11 }),
    ).toBeUndefined();
    expect(
      cpuUsageMillicores({ timestamp: 100, cpuSecs: 10 }, { timestamp: 90, cpuSecs: 11 }),
    ).toBeUndefined();
    expect(
      cpuUsageMillicores({ timestamp: 100, cpuSecs: 10 }, { timestamp: 110, cpuSecs: 2 }),
    ).toBeUndefined();
    expect(cpuUsageMillicores({ timestamp: 100 }, { timestamp: 110, cpuSecs: 2 })).toBeUndefined();
  });
});

describe('cpuUsageMillicores (properties)', () => {
  it('is never negative, and the rate over two windows is their time-weighted mean', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0.5, max: 600, noNaN: true }),
        fc.double({ min: 0.5, max: 600, noNaN: true }),
        fc.double({ min: 0, max: 64, noNaN: true }),
        fc.double({ min: 0, max: 64, noNaN: true }),
        (cpu0, dt1, dt2, cores1, cores2) => {
          const a = { timestamp: T0 / 1000, cpuSecs: cpu0 };
          const b = { timestamp: a.timestamp + dt1, cpuSecs: cpu0 + cores1 * dt1 };
          const c = { timestamp: b.timestamp + dt2, cpuSecs: b.cpuSecs + cores2 * dt2 };
          const first = cpuUsageMillicores(a, b)!;
          const second = cpuUsageMillicores(b, c)!;
          const whole = cpuUsageMillicores(a, c)!;
          expect(Math.min(first, second, whole)).toBeGreaterThanOrEqual(0);
          expect(Math.abs(whole - (first * dt1 + second * dt2) / (dt1 + dt2))).toBeLessThanOrEqual(1.01);
        },
      ),
    );
  });
});

describe('MesosContainerMetrics', () => {
  it('reads cpu from successive samples (user + system) and memory from RSS, per replica', async () => {
    const t = T0 / 1000;
    // The wire form, parsed as the agent client parses it.
    const first = parseAgentResponse({
      type: 'GET_CONTAINERS',
      get_containers: {
        containers: [
          container('web-0', { timestamp: t, user: 100, system: 20, rss: 50 * MiB }),
          container('web-1', { timestamp: t, user: 7, system: 1, rss: 80 * MiB }),
        ],
      },
    }).get_containers;
    const second: GetContainers = {
      containers: [
        // +1.2 s user +0.3 s system over 10 s = 150 m
        container('web-0', { timestamp: t + 10, user: 101.2, system: 20.3, rss: 60 * MiB }),
        // +3 s over 10 s = 300 m
        container('web-1', { timestamp: t + 10, user: 9.5, system: 1.5, rss: 90 * MiB }),
      ],
    };
    const agent = scripted([first, second]);
    const metrics = new MesosContainerMetrics({
      replicas: () => [replica('web-0'), replica('web-1')],
      containers: agent.read,
    });

    const s1 = await metrics.podMetrics('web');
    // No previous sample yet: memory only; cpu is missing for the HPA.
    expect(s1.map((s) => s.usage)).toEqual([{ memory: 50 * MiB }, { memory: 80 * MiB }]);

    const s2 = await metrics.podMetrics('web');
    expect(s2).toEqual([
      expect.objectContaining({
        taskId: 'web-0',
        ready: true,
        usage: { cpu: 150, memory: 60 * MiB },
        sampledAt: T0 + 10_000,
        windowMs: 10_000,
      }),
      expect.objectContaining({ taskId: 'web-1', usage: { cpu: 300, memory: 90 * MiB } }),
    ]);
    expect(agent.calls).toEqual([AGENT, AGENT]); // one GET_CONTAINERS per agent per poll

    // (150 + 300) / (200 + 200) = 112 % of the request; against a 50 % target → ceil(2 × 112/50) = 5.
    const cpu = computeReplicaRecommendation({
      currentReplicas: 2,
      target: { resource: 'cpu', targetAverageUtilization: 50 },
      samples: s2,
      now: T0 + 10_000,
    });
    expect(cpu).toMatchObject({ status: 'ok', utilization: 112, replicas: 5 });
    // (60 + 90) MiB / 200 MiB = 75 %.
    const mem = computeReplicaRecommendation({
      currentReplicas: 2,
      target: { resource: 'memory', targetAverageUtilization: 75 },
      samples: s2,
      now: T0 + 10_000,
    });
    expect(mem).toMatchObject({ status: 'ok', utilization: 75, replicas: 2, basis: 'WithinTolerance' });
  });

  it('reports a replica as missing when its container, its statistics or its agent are not there', async () => {
    const t = T0 / 1000;
    const other = 'http://10.0.0.2:5051';
    const errors: string[] = [];
    const responses = new Map<string, GetContainers[]>([
      [
        AGENT,
        [
          {
            containers: [
              container('web-0', { timestamp: t, user: 1, rss: MiB }),
              { ...container('web-1', { timestamp: t }), resource_statistics: undefined },
            ],
          },
          {
            containers: [
              container('web-0', { timestamp: t + 5, user: 2, rss: MiB }),
              { ...container('web-1', { timestamp: t + 5 }), resource_statistics: undefined },
            ],
          },
        ],
      ],
    ]);
    let polls = 0;
    const metrics = new MesosContainerMetrics({
      replicas: () => [
        replica('web-0'),
        replica('web-1'),
        replica('web-2'), // no container on its agent (e.g. just exited)
        replica('web-3', { agentUrl: other }), // agent unreachable
      ],
      containers: async (url) => {
        if (url === other) throw new Error('connect ECONNREFUSED');
        const list = responses.get(url)!;
        return list[Math.min(polls++, list.length - 1)]!;
      },
      onAgentError: (url, e) => errors.push(`${url} ${e.message}`),
    });
    await metrics.podMetrics('web');
    const samples = await metrics.podMetrics('web');
    expect(samples.map((s) => [s.taskId, s.usage])).toEqual([
      ['web-0', { cpu: 200, memory: MiB }],
      ['web-1', undefined],
      ['web-2', undefined],
      ['web-3', undefined],
    ]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^http:\/\/10\.0\.0\.2:5051 .*ECONNREFUSED/);
    // web-0 alone is at 100 % of its request (2× the target); the HPA counts the missing replicas as
    // 0 % on a scale-up, which brings the average to 25 %: the direction reverses, the count stays.
    const rec = computeReplicaRecommendation({
      currentReplicas: 4,
      target: { resource: 'cpu', targetAverageUtilization: 50 },
      samples,
      now: T0 + 5000,
    });
    expect(rec).toMatchObject({
      status: 'ok',
      basis: 'DirectionReversed',
      replicas: 4,
      groups: { ready: ['web-0'], missing: ['web-1', 'web-2', 'web-3'] },
    });
  });

  it('starts the cpu rate over when the container changed (a relaunch) or the sample is too old', async () => {
    const t = T0 / 1000;
    let id = 'ctr-a';
    let now = t;
    let cpu = 0;
    const metrics = new MesosContainerMetrics({
      replicas: () => [replica('web-0', { containerId: id })],
      containers: async () => ({
        containers: [container('web-0', { timestamp: now, user: cpu }, { container_id: { value: id } })],
      }),
      maxSampleAgeMs: 60_000,
    });
    await metrics.podMetrics('web');
    now += 10;
    cpu += 5;
    expect((await metrics.podMetrics('web'))[0]?.usage).toEqual({ cpu: 500 });
    id = 'ctr-b'; // relaunched: a new container whose counter restarts
    now += 10;
    cpu = 1;
    expect((await metrics.podMetrics('web'))[0]?.usage).toBeUndefined();
    now += 10;
    cpu = 2;
    expect((await metrics.podMetrics('web'))[0]?.usage).toEqual({ cpu: 100 });
    now += 120; // longer than maxSampleAgeMs since the last poll
    cpu = 50;
    expect((await metrics.podMetrics('web'))[0]?.usage).toBeUndefined();
  });

  it('matches nested task-group containers by the container id of the task status, never by the shared executor', async () => {
    const t = T0 / 1000;
    const parent = { value: 'ctr-executor' };
    const nested = (cid: string, user: number): AgentContainer => ({
      framework_id: { value: 'fw-1' },
      executor_id: { value: 'berth-gang-agent1' },
      container_id: { value: cid, parent },
      resource_statistics: { timestamp: t + user, cpus_user_time_secs: user * 0.5 },
    });
    let k = 0;
    const metrics = new MesosContainerMetrics({
      replicas: () => [
        replica('job-0', { executorId: 'berth-gang-agent1', containerId: 'ctr-job-0' }),
        replica('job-1', { executorId: 'berth-gang-agent1' }), // no container id reported yet
      ],
      containers: async () => {
        k += 10;
        return {
          containers: [
            {
              executor_id: { value: 'berth-gang-agent1' },
              container_id: parent,
              resource_statistics: { timestamp: t + k, cpus_user_time_secs: k * 9 },
            },
            nested('ctr-job-0', k),
          ],
        };
      },
    });
    await metrics.podMetrics('job');
    const [a, b] = await metrics.podMetrics('job');
    expect(a?.usage).toEqual({ cpu: 500 });
    expect(b?.usage).toBeUndefined();
  });

  it('marks replicas not ready while starting or until their health check passes, and skips ended ones', async () => {
    const states: [string, TaskState, Partial<MesosReplica>][] = [
      ['web-0', 'RUNNING', {}],
      ['web-1', 'STARTING', {}],
      ['web-2', 'RUNNING', { hasHealthCheck: true }],
      ['web-3', 'RUNNING', { hasHealthCheck: true, healthy: true }],
      ['web-4', 'RUNNING', { hasHealthCheck: true, healthy: false }],
      ['web-5', 'KILLING', {}],
      ['web-6', 'FINISHED', {}],
      ['web-7', 'PENDING', {}], // not launched: no container to read
    ];
    const t = T0 / 1000;
    const metrics = new MesosContainerMetrics({
      replicas: () => states.map(([id, state, over]) => replica(id, { state, ...over })),
      containers: async () => ({
        containers: states.map(([id]) => container(id, { timestamp: t, rss: MiB })),
      }),
    });
    const samples = await metrics.podMetrics('web');
    expect(samples.map((s) => [s.taskId, s.state, s.ready])).toEqual([
      ['web-0', 'RUNNING', true],
      ['web-1', 'STARTING', false],
      ['web-2', 'RUNNING', false],
      ['web-3', 'RUNNING', true],
      ['web-4', 'RUNNING', false],
      ['web-5', 'KILLING', false],
      ['web-7', 'PENDING', false],
    ]);
    expect(replicaReady({ state: 'RUNNING', hasHealthCheck: false, healthy: false })).toBe(false);
  });
});

/**
 * A simulated Mesos service for the controller loop: every replica burns `perReplicaMillicores`
 * while `loaded`; GET_CONTAINERS reports the cumulative counters at the fake clock's time, and
 * `scale` launches (lowest index first) or kills (highest first) replicas, which start RUNNING.
 */
class SimulatedService implements Scaler {
  readonly clock: FakeClock;
  readonly replicas = new Map<string, { startedAt: number; cpuSecs: number; lastAt: number }>();
  loaded = true;
  perReplicaMillicores = 400;
  readonly scaleCalls: number[] = [];
  constructor(clock: FakeClock, n: number) {
    this.clock = clock;
    for (let i = 0; i < n; i++) this.#start(i);
  }
  #start(i: number) {
    const now = this.clock.now();
    this.replicas.set(`web-${i}`, { startedAt: now, cpuSecs: 0, lastAt: now });
  }
  async currentReplicas(): Promise<number> {
    return this.replicas.size;
  }
  async scale(_service: string, n: number): Promise<void> {
    this.scaleCalls.push(n);
    for (let i = 0; i < n; i++) if (!this.replicas.has(`web-${i}`)) this.#start(i);
    for (let i = this.replicas.size - 1; i >= n; i--) this.replicas.delete(`web-${i}`);
  }
  list(): MesosReplica[] {
    return [...this.replicas].map(([id, r]) => replica(id, { startedAt: r.startedAt }));
  }
  async containers(): Promise<GetContainers> {
    const now = this.clock.now();
    return {
      containers: [...this.replicas].map(([id, r]) => {
        r.cpuSecs += this.loaded ? ((now - r.lastAt) / 1000) * (this.perReplicaMillicores / 1000) : 0;
        r.lastAt = now;
        return container(id, { timestamp: now / 1000, user: r.cpuSecs, rss: 40 * MiB });
      }),
    };
  }
}

describe('Autoscaler over MesosContainerMetrics (fake clock)', () => {
  it('scales a busy service up to max, then down to min only after the scale-down window', async () => {
    const clock = new FakeClock(T0);
    const svc = new SimulatedService(clock, 1);
    const metrics = new MesosContainerMetrics({
      replicas: () => svc.list(),
      containers: () => svc.containers(),
    });
    const policy: AutoscalePolicy = {
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ resource: 'cpu', targetAverageUtilization: 50 }],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 60,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    };
    const autoscaler = new Autoscaler({
      metrics,
      scaler: svc,
      clock,
      syncPeriodMs: 5000,
      // New replicas' first samples count once their window began after they turned ready.
      decide: { cpuInitializationPeriodMs: 10_000, initialReadinessDelayMs: 1000 },
    });
    const events: AutoscalerEvent[] = [];
    autoscaler.subscribe((e) => events.push(e));
    autoscaler.add('web', policy);
    autoscaler.start();
    const sync = async () => {
      await clock.advanceAsync(5000);
      await autoscaler.whenIdle();
    };

    await sync(); // first poll: no cpu rate yet
    expect(events.at(-1)).toMatchObject({ type: 'decision', decision: { reason: 'MetricsUnavailable' } });
    await sync(); // 400 m of 200 m = 200 % → 4 wanted, +2 pods per 15 s allowed
    expect(svc.scaleCalls).toEqual([3]);
    for (let i = 0; i < 6; i++) await sync();
    expect(svc.scaleCalls).toEqual([3, 4]);
    expect(svc.replicas.size).toBe(4);

    svc.loaded = false;
    const idleAt = clock.now();
    while (svc.replicas.size > 1 && clock.now() - idleAt < 120_000) await sync();
    const downAfter = clock.now() - idleAt;
    expect(svc.scaleCalls).toEqual([3, 4, 1]);
    // Not before the 60 s stabilization window has passed since the last high recommendation.
    expect(downAfter).toBeGreaterThanOrEqual(60_000);
    expect(downAfter).toBeLessThanOrEqual(75_000);
    const down = events.find((e) => e.type === 'decision' && e.scaled && e.decision.desiredReplicas === 1);
    expect(down).toMatchObject({ decision: { currentReplicas: 4, metrics: [{ utilization: 0 }] } });
    autoscaler[Symbol.dispose]();
  });
});
