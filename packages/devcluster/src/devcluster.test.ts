import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { isBerthError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KUBE_PORT, isPortFree, startDevcluster } from './devcluster.ts';
import { isUpdate, post, RecordReader, statusOf } from './mesos/__tests__/plain-client.ts';

const FRAMEWORK = { user: 'root', name: 'devcluster-test', roles: ['*'] };

async function occupy(port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

const portOf = (server: Server) => (server.address() as { port: number }).port;
const closeServer = (server: Server) => new Promise<void>((r) => server.close(() => r()));

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Launches one shell task through the Mesos face with a plain scheduler client; resolves on its first update. */
async function launchThroughMesos(mesosUrl: string, taskId: string, command: string): Promise<RecordReader> {
  const res = await post(`${mesosUrl}/api/v1/scheduler`, {
    type: 'SUBSCRIBE',
    subscribe: { framework_info: FRAMEWORK },
  });
  const reader = new RecordReader(res.body!);
  const subscribed = await reader.next((e) => e.type === 'SUBSCRIBED');
  const frameworkId = (subscribed.subscribed as { framework_id: { value: string } }).framework_id.value;
  const offers = await reader.next((e) => e.type === 'OFFERS');
  const offer = (offers.offers as { offers: { id: unknown; agent_id: unknown }[] }).offers[0]!;
  const accepted = await post(
    `${mesosUrl}/api/v1/scheduler`,
    {
      framework_id: { value: frameworkId },
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
                },
              ],
            },
          },
        ],
      },
    },
    { 'Mesos-Stream-Id': res.headers.get('mesos-stream-id')! },
  );
  expect(accepted.status).toBe(202);
  // The first update (TASK_STARTING) stays the only one in flight until acknowledged: enough here.
  const update = await reader.next(
    (e) => isUpdate('TASK_STARTING', taskId)(e) || isUpdate('TASK_RUNNING', taskId)(e),
    10_000,
  );
  expect(statusOf(update).task_id.value).toBe(taskId);
  return reader;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startDevcluster', () => {
  it('runs tasks through both faces as processes and leaves none behind on close', async () => {
    const progress: string[] = [];
    const dc = await startDevcluster({ mesosPort: 0, kubePort: 0, onProgress: (l) => progress.push(l) });
    let reader: RecordReader | undefined;
    try {
      expect(progress.join('\n')).toMatch(
        /engine: 3 nodes[\s\S]*mesos: master on http:\/\/127\.0\.0\.1:\d+[\s\S]*virtual kubelet joined 3 nodes/,
      );
      const agents = await (await post(`${dc.mesos.url}/api/v1`, { type: 'GET_AGENTS' })).json();
      expect((agents as { get_agents: { agents: unknown[] } }).get_agents.agents).toHaveLength(3);

      const nodes = await until('3 Ready nodes', () => {
        const list = dc.kube.store.list('nodes', '').items;
        const ready = list.filter((n) =>
          (
            (n as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []
          ).some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 3 ? ready : undefined;
      });
      expect(nodes).toHaveLength(3);
      expect(readFileSync(dc.kubeconfigPath, 'utf8')).toContain(dc.kube.url);

      reader = await launchThroughMesos(dc.mesos.url, 'mesos-sleeper', 'sleep 60');
      dc.kube.store.create('pods', 'default', {
        metadata: { name: 'kube-sleeper' },
        spec: {
          nodeName: 'node-1',
          containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'sleep 60'] }],
        },
      });
      const pids = await until('both tasks to run as processes', () => {
        const tasks = dc.engine.tasks().filter((t) => t.state === 'RUNNING' && t.pid !== undefined);
        return tasks.length >= 2 ? tasks.map((t) => t.pid!) : undefined;
      });
      expect(dc.engine.tasks().every((t) => t.mode === 'process')).toBe(true);
      reader.cancel();
      await dc.close();
      for (const pid of pids) expect(processAlive(pid)).toBe(false);
      expect(existsSync(dc.stateDir)).toBe(false);
    } finally {
      reader?.cancel();
      await dc.close();
    }
  }, 30_000);

  it('runs every task simulated with processes: false', async () => {
    await using dc = await startDevcluster({ mesosPort: 0, kubePort: 0, processes: false });
    const reader = await launchThroughMesos(dc.mesos.url, 'mesos-simulated', 'sleep 60');
    try {
      dc.kube.store.create('pods', 'default', {
        metadata: { name: 'kube-simulated' },
        spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] },
      });
      const tasks = await until('both tasks to run', () => {
        const running = dc.engine.tasks().filter((t) => t.state === 'RUNNING');
        return running.length >= 2 ? running : undefined;
      });
      for (const task of tasks) {
        expect(task.mode).toBe('simulated');
        expect(task.pid).toBeUndefined();
      }
    } finally {
      reader.cancel();
    }
  }, 30_000);

  it('runs the control plane controllers: a Deployment gets scheduled, running pods', async () => {
    await using dc = await startDevcluster({ mesosPort: 0, kubePort: 0, processes: false });
    expect(dc.controllers).toEqual(expect.arrayContaining(['scheduler', 'deployment', 'replicaset', 'job']));
    dc.kube.store.create('deployments', 'default', {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '10m' } } }] },
        },
      },
    });
    const running = await until('2 running pods of the Deployment', () => {
      const pods = dc.kube.store
        .list('pods', 'default')
        .items.filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running');
      return pods.length === 2 ? pods : undefined;
    });
    expect(running.map((p) => (p as { spec: { nodeName?: string } }).spec.nodeName)).not.toContain(undefined);
  }, 30_000);

  it('starts the bare API server with controllers: false', async () => {
    await using dc = await startDevcluster({
      mesosPort: 0,
      kubePort: 0,
      processes: false,
      controllers: false,
    });
    expect(dc.controllers).toEqual([]);
    expect(dc.kube.controllers).toBeUndefined();
  });

  it('hands out task ports from taskPorts up, one 1000-port range per node', async () => {
    await using dc = await startDevcluster({ mesosPort: 0, kubePort: 0, processes: false, taskPorts: 21000 });
    dc.kube.store.create('pods', 'default', {
      metadata: { name: 'ported' },
      spec: {
        nodeName: 'node-2',
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sleep', '60'],
            ports: [{ name: 'http', containerPort: 80 }],
          },
        ],
      },
    });
    const task = await until('the pod to run', () => dc.engine.tasks().find((t) => t.state === 'RUNNING'));
    expect(task.ports[0]).toBeGreaterThanOrEqual(22000);
    expect(task.ports[0]).toBeLessThan(23000);
  }, 20_000);

  it('refuses a busy Mesos port with CONFLICT naming the option and starts nothing', async () => {
    const busy = await occupy();
    const port = portOf(busy);
    try {
      const error = await startDevcluster({ mesosPort: port, kubePort: 0 }).catch((e: unknown) => e);
      expect(isBerthError(error, 'CONFLICT')).toBe(true);
      expect((error as Error).message).toContain(
        `port ${port} on 127.0.0.1 (the Mesos face) is already in use`,
      );
      expect((error as { hint: string }).hint).toContain('mesosPort');
    } finally {
      await closeServer(busy);
    }
  });

  it('refuses a busy explicit Kubernetes port the same way', async () => {
    const busy = await occupy();
    const port = portOf(busy);
    try {
      const error = await startDevcluster({ mesosPort: 0, kubePort: port }).catch((e: unknown) => e);
      expect(isBerthError(error, 'CONFLICT')).toBe(true);
      expect((error as { hint: string }).hint).toContain('kubePort');
    } finally {
      await closeServer(busy);
    }
  });

  it('puts the Kubernetes face on a free port when 6443 is taken and no port is given', async () => {
    // Hold 6443 ourselves (skip the assertion about falling back when something else already does).
    const held = (await isPortFree('127.0.0.1', DEFAULT_KUBE_PORT))
      ? await occupy(DEFAULT_KUBE_PORT)
      : undefined;
    try {
      await using dc = await startDevcluster({ mesosPort: 0 });
      expect(new URL(dc.kube.url).port).not.toBe(String(DEFAULT_KUBE_PORT));
    } finally {
      if (held !== undefined) await closeServer(held);
    }
  }, 20_000);

  it('rejects invalid options with SPEC_INVALID naming the option', async () => {
    for (const [options, name] of [
      [{ mesosPort: 70_000 }, 'mesosPort'],
      [{ kubePort: -1 }, 'kubePort'],
      [{ preset: 'huge' as never }, 'preset'],
      [{ mesosPort: 0, kubePort: 0, host: ' ' }, 'host'],
      [{ mesosPort: 0, kubePort: 0, taskPorts: 80 }, 'taskPorts'],
    ] as const) {
      const error = await startDevcluster(options).catch((e: unknown) => e);
      expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
      expect((error as Error).message).toContain(`\`${name}\``);
    }
  });
});
