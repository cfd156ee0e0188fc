/**
 * `pnpm start` end to end: the command the root `start` script runs after its build step, as a
 * child process on free ports and a temporary state directory. Both backends must show the web
 * replicas RUNNING and the pending task's explanation through the dashboard's JSON API, and Ctrl-C
 * must leave no process behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskDetail, TaskPage } from '../../src/shared/api.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CONTEXTS = ['devcluster-mesos', 'devcluster-k8s'] as const;

/** The program `pnpm start` runs once its build step is done: the start script after its last `&&`. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const last = pkg.scripts.start
    .split('&&')
    .at(-1)!
    .trim()
    .replace(/^exec /, '')
    .split(/\s+/);
  expect(last[0]).toBe('node');
  return last.slice(1);
}

/** Every process below `pid`, from the parent links in /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid …"; comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** A process that still exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'berth-quickstart-test-'));
let child: ChildProcess | undefined;

afterAll(() => {
  // Only if an assertion failed before the Ctrl-C: never leave the quick start running.
  if (child?.pid !== undefined && child.exitCode === null) {
    for (const pid of descendants(child.pid)) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
  }
  rmSync(stateDir, { recursive: true, force: true });
});

describe('pnpm start (the quick start)', () => {
  it('runs the examples on both backends, serves them in the dashboard and stops everything on Ctrl-C', async () => {
    const args = [
      ...startCommand(),
      '--mesos-port=0',
      '--kube-port=0',
      '--dashboard-port=0',
      // Task ports below Linux's ephemeral range and away from other devclusters' 31000 and up.
      `--task-ports=${20_000 + 1000 * Math.floor(Math.random() * 7)}`,
      `--state-dir=${stateDir}`,
    ];
    const run = startChild(args);
    child = run.child;
    const { exited } = run;
    const output = () => run.stdout();

    const url = await until(
      'the dashboard URL',
      async () => {
        if (child!.exitCode !== null)
          throw new Error(`quick start exited ${child!.exitCode}: ${run.stderr()}`);
        return /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output())?.[1];
      },
      60_000,
    );
    const stdout = output();
    expect(stdout).toContain('devcluster-mesos');
    expect(stdout).toContain('devcluster-k8s');
    expect(stdout).toMatch(/kubectl --kubeconfig \S+ get/);
    const berth = /alias berth='([^']+)'/.exec(stdout)?.[1]?.split(' ');
    const berthConfig = /export BERTH_CONFIG=(\S+)/.exec(stdout)?.[1];
    expect(berth?.[0]).toBe('node');
    expect(berthConfig).toBeDefined();

    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(new URL(path, url));
      expect(res.status).toBe(200);
      return (await res.json()) as T;
    };

    for (const ctx of CONTEXTS) {
      // The web service's 3 replicas (a Service's tasks, or its replicas run as web-0..2).
      const web = await until(
        `3 RUNNING web replicas on ${ctx}`,
        async () => {
          const page = await api<TaskPage>(`/api/contexts/${ctx}/tasks?state=RUNNING`);
          const rows = page.rows.filter(([id, , , service]) => service === 'web' || /^web-/.test(id));
          return rows.length >= 3 ? rows : undefined;
        },
        40_000,
      );
      expect(web).toHaveLength(3);
      // One replica per node (the UNIQUE hostname constraint).
      expect(new Set(web.map((r) => r[2])).size).toBe(3);

      // The task no node can take is PENDING with the placement engine's reason.
      const pending = await api<TaskPage>(`/api/contexts/${ctx}/tasks?state=PENDING`);
      const [, , , , reason, message] = pending.rows.find(([id]) => id === 'too-big') ?? [];
      expect(reason).toBe('Unschedulable');
      expect(message).toMatch(/^0\/\d+ nodes available: \d+ insufficient cpu/);
      // Its detail carries the plan the dashboard made when the quick start submitted it.
      const detail = await api<TaskDetail>(`/api/contexts/${ctx}/tasks/too-big`);
      expect(detail.status.state).toBe('PENDING');
      expect(detail.explanation).toMatchObject({
        kind: 'unplaceable',
        totalNodes: 3,
        message: '0/3 nodes available: 3 insufficient cpu',
      });
    }

    // The printed `berth` command and config reach the Kubernetes context.
    const cli = spawnSync(
      process.execPath,
      [...berth!.slice(1), '--context', 'devcluster-k8s', 'get', 'tasks'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          BERTH_CONFIG: isAbsolute(berthConfig!) ? berthConfig! : join(ROOT, berthConfig!),
          NO_COLOR: '1',
        },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^too-big\s+PENDING/m);

    const pids = descendants(child.pid!);
    // Every web replica and gang member is a real process under the quick start.
    expect(pids.length).toBeGreaterThanOrEqual(6);

    process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C in a terminal does: the foreground group
    expect(await exited).toBe(0);
    expect(output()).toContain('stopped: no task process is left.');
    expect(await gone(pids)).toEqual([]);
  }, 90_000);

  it('stops what already started when Ctrl-C comes during the start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-quickstart-test-'));
    const run = startChild([
      ...startCommand(),
      '--mesos-port=0',
      '--kube-port=0',
      '--dashboard-port=0',
      `--state-dir=${dir}`,
    ]);
    child = run.child;
    try {
      await until(
        'devcluster to be up',
        async () => (/connecting the Mesos adapter/.test(run.stdout()) ? true : undefined),
        40_000,
      );
      const pids = descendants(run.child.pid!);
      process.kill(-run.child.pid!, 'SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toContain('stopped: no task process is left.');
      expect(await gone(pids)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** The `pids` still running after a short grace (a signalled process may need a moment to finish dying). */
async function gone(pids: readonly number[]): Promise<string[]> {
  return await until(
    'every process of the quick start to end',
    async () => (pids.some(alive) ? undefined : []),
    3_000,
  ).catch(() => pids.filter(alive).map((pid) => `${pid} ${commandLine(pid)}`));
}

function startChild(args: readonly string[]) {
  const started = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  started.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  started.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
  return { child: started, exited, stdout: () => stdout, stderr: () => stderr };
}
