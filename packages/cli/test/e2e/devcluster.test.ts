/**
 * `berth devcluster up --detach | status | kubeconfig | down` as a user runs them, checking that
 * no process (the devcluster nor a task it ran) survives `down`.
 */
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { BERTH_ERROR_CODES } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/commands/devcluster.ts';
import { type BerthSandbox, berthSandbox, TWO_TASKS, taskItems } from './berth-process.ts';

let sb: BerthSandbox;
let stateDir: string;
let pid: number | undefined;

beforeAll(async () => {
  sb = await berthSandbox('contexts: {}\n');
  stateDir = join(sb.dir, 'dc');
  await sb.file('tasks.yaml', TWO_TASKS);
});

afterAll(async () => {
  if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
  await sb?.[Symbol.asyncDispose]();
});

/** Processes whose working directory is inside `dir` (the engine's task sandboxes). */
async function processesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/cwd`)).startsWith(dir)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

describe.runIf(process.platform === 'linux')('berth devcluster', { timeout: 120_000 }, () => {
  it('starts detached, answers status and kubeconfig, runs tasks, and leaves nothing behind on down', async () => {
    const args = ['--state-dir', stateDir];
    const up = await sb.berth(['devcluster', 'up', '--detach', '--mesos-port', '0', ...args]);
    // Known before any assertion can fail, so afterAll stops the background cluster whatever happens.
    const record = JSON.parse(await readFile(join(stateDir, 'devcluster.pid'), 'utf8')) as { pid: number };
    pid = record.pid;
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^devcluster is up \(laptop preset, 3 nodes, pid \d+\)$/m);
    expect(up.stdout).toMatch(/Mesos face:\s+http:\/\/127\.0\.0\.1:\d+\s+context devcluster-mesos/);
    expect(up.stdout).toMatch(/Kubernetes face:\s+https:\/\/127\.0\.0\.1:\d+\s+context devcluster-k8s/);
    expect(up.stdout).toContain(`export KUBECONFIG=${join(stateDir, 'kubeconfig')}`);
    expect(isAlive(pid)).toBe(true);

    const again = await sb.berth(['devcluster', 'up', '--detach', '--mesos-port', '0', ...args]);
    expect(again.code).toBe(BERTH_ERROR_CODES.CONFLICT.exitCode);
    expect(again.stderr).toMatch(new RegExp(`^error: a devcluster is already running \\(pid ${pid},`));

    const status = await sb.berth(['devcluster', 'status', ...args, '-o', 'json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      kind: 'DevclusterStatus',
      running: true,
      pid,
      mesos: { answering: true, agents: 3 },
      kubernetes: { answering: true, nodes: 3 },
    });

    const kubeconfig = await sb.berth(['devcluster', 'kubeconfig', ...args]);
    expect(kubeconfig.code).toBe(0);
    expect(kubeconfig.stdout).toBe(`${join(stateDir, 'kubeconfig')}\n`);
    expect(kubeconfig.stderr).toMatch(/^ {2}export KUBECONFIG=/m);

    const contexts = await sb.berth(['config', 'get-contexts', '-o', 'name']);
    expect(contexts.stdout).toBe('devcluster-k8s\ndevcluster-mesos\n');

    // Through both contexts up writes: tasks really run as processes in the devcluster's sandboxes.
    const mesos = await sb.berth(['--context', 'devcluster-mesos', 'run', '-f', 'tasks.yaml', '--wait']);
    expect(mesos.code).toBe(0);
    const k8sNodes = await sb.berth(['--context', 'devcluster-k8s', 'get', 'nodes', '-o', 'name']);
    expect(k8sNodes.stdout).toBe('node/node-1\nnode/node-2\nnode/node-3\n');
    const listed = taskItems(
      (await sb.berth(['--context', 'devcluster-mesos', 'get', 'tasks', '-o', 'json'])).stdout,
    );
    expect(listed.find((t) => t.id === 'nap')?.state).toBe('RUNNING');
    const taskProcesses = await processesUnder(join(stateDir, 'engine'));
    expect(taskProcesses.length).toBeGreaterThan(0);

    const down = await sb.berth(['devcluster', 'down', ...args]);
    expect(down.code).toBe(0);
    expect(down.stdout).toBe(`devcluster (pid ${pid}) stopped\n`);
    expect(isAlive(pid)).toBe(false);
    expect(taskProcesses.filter(isAlive)).toEqual([]);
    expect(await processesUnder(join(stateDir, 'engine'))).toEqual([]);

    const after = await sb.berth(['devcluster', 'status', ...args]);
    expect(after.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(after.stderr).toMatch(/^error: no devcluster is running/);
  });

  it('reports a stale pid file, and down removes it', async () => {
    const dir = join(sb.dir, 'stale');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'devcluster.pid'), JSON.stringify({ pid: 2 ** 22 + 7, startedAt: 'then' }));
    const status = await sb.berth(['devcluster', 'status', '--state-dir', dir]);
    expect(status.code).toBe(BERTH_ERROR_CODES.BACKEND_UNAVAILABLE.exitCode);
    expect(status.stdout).toMatch(
      /^devcluster: not running \(the pid file .* names pid 4194311, which is gone\)/,
    );
    const down = await sb.berth(['devcluster', 'down', '--state-dir', dir]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/removed the stale pid file/);
    expect((await sb.berth(['devcluster', 'down', '--state-dir', dir])).code).toBe(
      BERTH_ERROR_CODES.NOT_FOUND.exitCode,
    );
  });

  it('names the busy port and the flag that changes it', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await sb.berth([
        'devcluster',
        'up',
        '--mesos-port',
        String(port),
        '--state-dir',
        join(sb.dir, 'busy'),
      ]);
      expect(r.code).toBe(BERTH_ERROR_CODES.CONFLICT.exitCode);
      expect(r.stderr).toMatch(
        new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 \\(the Mesos face\\) is already in use`),
      );
      expect(r.stderr).toMatch(/--mesos-port PORT/);
    } finally {
      server.close();
    }
  });
});
