/**
 * Autoscaling and service discovery end to end on devcluster's Mesos face with real processes: the
 * agents' GET_CONTAINERS statistics (cpu seconds and RSS from /proc) drive core's HPA controller,
 * which the adapter runs; replicas are launched and killed through the framework, and the
 * endpoint watch follows them.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoscaledServiceDocument, cpuAutoscaling, cpuBurnCommand } from '@berth/adapter-testkit';
import type { AutoscalingSpec, ClusterEvent, EndpointEvent, TaskSpec } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MesosTestCluster, startTestCluster } from '../test/devcluster-fixture.ts';

/**
 * These replicas are never restarted, and keep their `http` port when the service has no
 * discovery (`autoscaledServiceDocument` drops it then).
 */
const NEVER_RESTARTED: Partial<TaskSpec> = { restartPolicy: { policy: 'never' } };
const HTTP_NEVER_RESTARTED: Partial<TaskSpec> = {
  ...NEVER_RESTARTED,
  ports: [{ name: 'http', protocol: 'tcp' }],
};

async function waitUntil<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `from` and `to` of a `SuccessfulRescale` message (`autoscale web: 1 → 3 replicas …`). */
function rescale(e: ClusterEvent): { from: number; to: number } {
  const m = /: (\d+) → (\d+) replicas/.exec(e.message);
  if (m === null) throw new Error(`not a rescale: ${e.message}`);
  return { from: Number(m[1]), to: Number(m[2]) };
}

let cluster: MesosTestCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'berth-autoscale-'));
});
afterAll(async () => {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Mesos autoscaling and discovery on devcluster', { timeout: 30_000 }, () => {
  it('scales a cpu-burning service up to max, back down after the window when the load stops, and its endpoints follow', async () => {
    const flag = join(dir, 'burn');
    writeFileSync(flag, '');
    const adapter = cluster.adapter({
      autoscaling: {
        syncPeriodMs: 500,
        decide: { cpuInitializationPeriodMs: 1500, initialReadinessDelayMs: 500 },
      },
    });
    expect(adapter.capabilities.has('autoscaling')).toBe(true);
    await adapter.connect();
    const events: ClusterEvent[] = [];
    const eventsDone = (async () => {
      for await (const e of adapter.events()) events.push(e);
    })();
    await adapter.submit([
      autoscaledServiceDocument('burner', {
        command: cpuBurnCommand(flag),
        autoscaling: cpuAutoscaling({ maxReplicas: 3, scaleDownWindowSeconds: 3 }),
        template: NEVER_RESTARTED,
      }),
    ]);
    const seen: EndpointEvent[] = [];
    const watching = new AbortController();
    const watchDone = (async () => {
      for await (const e of adapter.watchEndpoints('burner', { signal: watching.signal })) seen.push(e);
    })();
    const endpointIds = () => adapter.endpoints('burner').then((list) => list.map((e) => e.taskId).sort());

    // Up: 1 replica at ~10× its 100m request → the policy's max, 3.
    await waitUntil('3 endpoints', async () => ((await endpointIds()).length === 3 ? true : undefined));
    expect(await endpointIds()).toEqual(['burner-0', 'burner-1', 'burner-2']);
    // Usually one step (1 → 3); on a loaded machine the first measured rate may ask for 2 first.
    const ups = events.filter((e) => e.kind === 'SuccessfulRescale').map(rescale);
    expect(ups[0]?.from).toBe(1);
    expect(ups.at(-1)?.to).toBe(3);
    expect(ups.every((u) => u.to > u.from)).toBe(true);
    expect(events.find((e) => e.kind === 'SuccessfulRescale')?.message).toMatch(
      /^autoscale burner: 1 → [23] replicas .*; cpu \d+% of request \(target 50%\) → \d+ \[ready 1, unready 0, missing 0\]$/,
    );
    const [ep] = await adapter.endpoints('burner');
    expect(ep?.ports.http).toBeGreaterThan(0);
    expect(ep?.host).toBeTruthy();

    // Stays at max while every replica burns.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await adapter.tasks({ service: 'burner', states: ['RUNNING'] })).length).toBe(3);

    // Down: the load stops; not before the 3 s window, then to min, highest replicas killed first.
    rmSync(flag);
    const stoppedAt = Date.now();
    await waitUntil(
      '1 endpoint',
      async () => ((await endpointIds()).length === 1 ? true : undefined),
      12_000,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(12_000);
    expect(await endpointIds()).toEqual(['burner-0']);
    const decisions = events.filter((e) => e.kind === 'SuccessfulRescale' || e.kind === 'AutoscaleDecision');
    const downs = decisions.filter((e) => e.kind === 'SuccessfulRescale' && rescale(e).to < rescale(e).from);
    // Usually 3 → 1; a sample window that still saw some burning may make it 3 → 2 → 1.
    expect(downs.length).toBeGreaterThan(0);
    expect(rescale(downs[0]!).from).toBe(3);
    expect(rescale(downs.at(-1)!).to).toBe(1);
    // Each step down comes no earlier than the 3 s window after the last higher recommendation.
    const recommended = (e: ClusterEvent) => Number(/recommended (\d+)/.exec(e.message)?.[1] ?? 0);
    for (const down of downs) {
      const higher = decisions.filter((e) => e.seq < down.seq && recommended(e) > rescale(down).to).at(-1);
      expect(down.at - (higher?.at ?? 0)).toBeGreaterThanOrEqual(3000);
    }
    // Every decision is recorded with its inputs, scaled or not.
    expect(events.some((e) => e.kind === 'AutoscaleDecision' && /stays at 3 replicas/.test(e.message))).toBe(
      true,
    );

    watching.abort();
    await watchDone;
    const trail = seen.map((e) => `${e.type} ${e.endpoint.taskId}`);
    expect(trail.slice(0, 3).sort()).toEqual(['added burner-0', 'added burner-1', 'added burner-2']);
    expect(trail).toContain('removed burner-1');
    expect(trail).toContain('removed burner-2');
    expect(trail.indexOf('removed burner-2')).toBeGreaterThan(2);
    expect(seen.every((e) => e.endpoint.backend === 'mesos' && e.endpoint.ports.http !== undefined)).toBe(
      true,
    );

    // Deleting the service stops its loop and leaves no process behind.
    await adapter.deleteService('burner');
    expect(adapter.getClient().autoscaler.services).toEqual([]);
    await waitUntil('no burner process', () =>
      cluster.probe.runningIds().some((id) => id.startsWith('burner-')) ? undefined : true,
    );
    await adapter.close();
    await eventsDone;
    expect(existsSync(flag)).toBe(false);
  });

  it('withdraws the endpoint of a replica whose Mesos health check fails and restores it when it passes', async () => {
    // devcluster's Mesos face runs the TaskInfo health check as an agent does and reports each
    // result as TASK_RUNNING with `healthy`; the check passes while the flag file exists.
    const dir = mkdtempSync(join(tmpdir(), 'berth-health-'));
    const flag = join(dir, 'healthy');
    writeFileSync(flag, '');
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([
      autoscaledServiceDocument('checked', {
        discovery: false,
        template: {
          ...HTTP_NEVER_RESTARTED,
          healthCheck: {
            type: 'command',
            command: `test -e '${flag}'`,
            intervalSeconds: 1,
            timeoutSeconds: 1,
            gracePeriodSeconds: 0,
            maxConsecutiveFailures: 1000,
          },
        },
      }),
    ]);
    const seen: EndpointEvent[] = [];
    const watching = new AbortController();
    const watchDone = (async () => {
      for await (const e of adapter.watchEndpoints('checked', { signal: watching.signal })) seen.push(e);
    })();
    const healthyEndpoint = async () => {
      const [task] = await adapter.tasks({ ids: ['checked-0'] });
      const listed = (await adapter.endpoints('checked')).some((e) => e.taskId === 'checked-0');
      return listed && task?.healthy === true ? true : undefined;
    };
    await waitUntil('checked-0 to be a healthy endpoint', healthyEndpoint);
    rmSync(flag);
    await waitUntil('the failing replica to be withdrawn', async () =>
      (await adapter.endpoints('checked')).length === 0 ? true : undefined,
    );
    expect((await adapter.tasks({ ids: ['checked-0'] }))[0]).toMatchObject({
      state: 'RUNNING',
      healthy: false,
    });
    writeFileSync(flag, '');
    await waitUntil('checked-0 to be restored', healthyEndpoint);
    watching.abort();
    await watchDone;
    const story = seen.map((e) =>
      e.type === 'removed' ? `removed ${e.reason}` : `${e.type} ${e.endpoint.health}`,
    );
    const withdrawn = story.indexOf('removed Unhealthy');
    expect(withdrawn).toBeGreaterThan(0);
    expect(story.slice(withdrawn + 1)).toContain('added healthy');
    rmSync(dir, { recursive: true, force: true });
    await adapter.deleteService('checked');
    await expect(adapter.endpoints('checked')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await adapter.close();
  });
  it('keeps autoscaling a Service across an adapter restart, until it is deleted', async () => {
    const stateFile = cluster.stateFile();
    const policy: AutoscalingSpec = {
      minReplicas: 1,
      maxReplicas: 2,
      metrics: [{ resource: 'memory', targetAverageUtilization: 80 }],
    };
    const first = cluster.adapter({ stateFile, autoscaling: { syncPeriodMs: 60_000 } });
    await first.connect();
    await first.submit([
      autoscaledServiceDocument('kept', {
        discovery: false,
        autoscaling: policy,
        template: HTTP_NEVER_RESTARTED,
      }),
    ]);
    expect(first.getClient().autoscaler.services).toEqual(['kept']);
    await first.close();
    expect(first.getClient().autoscaler.running).toBe(false);

    const second = cluster.adapter({ stateFile, autoscaling: { syncPeriodMs: 60_000 } });
    await second.connect();
    expect(second.getClient().autoscaler.services).toEqual(['kept']);
    expect(second.getClient().autoscaler.running).toBe(true);
    expect(() => second.watchEndpoints('')).toThrow(/watchEndpoints: service must be a non-empty name/);
    await expect(second.deleteService('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await second.deleteService('kept');
    await waitUntil('no kept process', () =>
      cluster.probe.runningIds().some((id) => id.startsWith('kept-')) ? undefined : true,
    );
    await second.close();

    const third = cluster.adapter({ stateFile });
    await third.connect();
    expect(third.getClient().autoscaler.services).toEqual([]);
    await expect(third.endpoints('kept')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await third.close();
  });
});
