import { API_VERSION, isBerthError, Resources } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MesosTestCluster, startTestCluster } from '../test/devcluster-fixture.ts';
import { MiB, task, until } from '../test/task-docs.ts';
import { createMesosAdapter } from './mesos-adapter.ts';

let cluster: MesosTestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster.close();
});

describe('createMesosAdapter', { timeout: 20_000 }, () => {
  it('rejects bad options with one SPEC_INVALID naming every field', () => {
    try {
      createMesosAdapter({
        masters: [],
        framework: { name: '', user: 'root', roles: [], failoverTimeoutSeconds: -1, checkpoint: true },
      });
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err) && err.code).toBe('SPEC_INVALID');
      expect((err as Error).message).toMatch(
        /masters.*framework\.name.*framework\.roles.*failoverTimeoutSeconds/,
      );
    }
  });

  it('declines offers it cannot use with refuse_seconds and suppresses when nothing waits', async () => {
    const adapter = cluster.adapter({ refuseSeconds: 3 });
    const { driver } = adapter.getClient();
    const decline = vi.spyOn(driver, 'decline');
    const suppress = vi.spyOn(driver, 'suppress');
    const revive = vi.spyOn(driver, 'revive');
    await adapter.connect();
    await until(async () => (suppress.mock.calls.length > 0 ? true : undefined));
    await adapter.submit([
      task('huge', { resources: { requests: Resources.of({ cpu: 10_000_000, memory: MiB }) } }),
    ]);
    expect(revive).toHaveBeenCalled();
    const s = await until(async () => {
      const [t] = await adapter.tasks({ ids: ['huge'] });
      return t?.reason === 'Unschedulable' ? t : undefined;
    });
    expect(s.state).toBe('PENDING');
    expect(s.message).toMatch(/insufficient cpu/i);
    await until(async () => (decline.mock.calls.some((c) => c[1] === 3) ? true : undefined));
    await adapter.kill('huge');
    expect((await adapter.tasks({ ids: ['huge'] }))[0]?.state).toBe('KILLED');
    await adapter.close();
  });

  it('runs a task with ports and streams its output from the sandbox', async () => {
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([
      task('echo-ports', {
        command: 'echo "port=$PORT_HTTP host=$HOST"; echo oops >&2',
        ports: [{ name: 'http', protocol: 'tcp' }],
      }),
    ]);
    const done = await until(async () => {
      const [s] = await adapter.tasks({ ids: ['echo-ports'] });
      return s?.state === 'FINISHED' ? s : undefined;
    });
    const lines: string[] = [];
    for await (const l of adapter.logs('echo-ports')) lines.push(`${l.stream}:${l.line}`);
    expect(lines).toContain(`stdout:port=${done.ports.http} host=${done.hostname}`);
    expect(lines).toContain('stderr:oops');
    await adapter.close();
  });

  it('relaunches a failing task under on-failure with back-off, then gives up', async () => {
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([
      task('flaky', {
        command: 'exit 1',
        restartPolicy: { policy: 'on-failure', maxRetries: 2, backoffSeconds: 0, maxBackoffSeconds: 0 },
      }),
    ]);
    await until(async () => ((await cluster.probe.launchCount('flaky')) === 3 ? true : undefined));
    const s = await until(async () => {
      const [t] = await adapter.tasks({ ids: ['flaky'] });
      return t?.state === 'FAILED' ? t : undefined;
    });
    expect(s.exitCode).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await cluster.probe.launchCount('flaky')).toBe(3);
    await adapter.close();
  });

  it('launches a gang job with LAUNCH_GROUP only when every member fits', async () => {
    const adapter = cluster.adapter();
    const { driver } = adapter.getClient();
    const accept = vi.spyOn(driver, 'accept');
    await adapter.connect();
    const job = (name: string, parallelism: number, cpu: number) => ({
      apiVersion: API_VERSION,
      kind: 'Job' as const,
      metadata: { name, tenant: 'default', labels: {} },
      spec: {
        template: task(name, { resources: { requests: Resources.of({ cpu, memory: 16 * MiB }) } }).spec,
        completions: parallelism,
        parallelism,
        gang: true,
        backoffLimit: 0,
      },
    });
    await adapter.submit([job('gang-ok', 2, 50), job('gang-no', 3, 1_000_000)]);
    await until(async () => {
      const list = await adapter.tasks({ ids: ['gang-ok-0', 'gang-ok-1'] });
      return list.length === 2 && list.every((s) => s.state === 'RUNNING') ? true : undefined;
    });
    const ops = accept.mock.calls.flatMap((c) => c[1]);
    expect(ops.some((o) => o.type === 'LAUNCH_GROUP')).toBe(true);
    const waiting = await adapter.tasks({ ids: ['gang-no-0', 'gang-no-1', 'gang-no-2'] });
    expect(waiting.map((s) => s.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    expect(await cluster.probe.launchCount('gang-no-0')).toBe(0);
    for (const id of ['gang-ok-0', 'gang-ok-1']) await adapter.kill(id);
    await adapter.close();
  });

  it('lists every agent and the tasks of other frameworks in snapshot()', async () => {
    const other = cluster.adapter({
      framework: {
        name: 'other',
        user: 'root',
        roles: ['default'],
        failoverTimeoutSeconds: 60,
        checkpoint: true,
      },
    });
    await other.connect();
    await other.submit([task('theirs')]);
    await until(async () =>
      (await other.tasks({ ids: ['theirs'] }))[0]?.state === 'RUNNING' ? true : undefined,
    );
    const adapter = cluster.adapter();
    await adapter.connect();
    const snap = await adapter.snapshot();
    expect(snap.nodes.length).toBe(cluster.engine.nodes().length);
    const theirs = snap.allocations.find((a) => a.taskId === 'theirs');
    expect(theirs?.resources.cpu).toBe(50);
    const node = snap.nodes.find((n) => n.id === theirs?.nodeId);
    expect(node?.allocated.cpu).toBeGreaterThanOrEqual(50);
    await other.kill('theirs');
    await other.close();
    await adapter.close();
  });

  it('close releases the clients, timers and watches', async () => {
    const adapter = cluster.adapter();
    await adapter.connect();
    const watch = (async () => {
      for await (const _ of adapter.watchTasks()) {
        // until close
      }
      return 'ended';
    })();
    await adapter.close();
    expect(await watch).toBe('ended');
    expect(adapter.getClient().driver.state.phase).toBe('closed');
    await expect(adapter.tasks()).rejects.toMatchObject({ name: 'BerthError', code: 'BACKEND_UNAVAILABLE' });
    expect(() => adapter.getClient().store.tasks()).toThrow();
  });
});
