import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The parts of scripts/k8s-control-plane that need no Kubernetes build: argument errors and the
// pid bookkeeping of `down`/`status`. Linux only (the script reads /proc).
const script = fileURLToPath(new URL('../../scripts/k8s-control-plane', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(script, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) " start at field 3; the start time is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  if (start === undefined) throw new Error(`unexpected /proc/${pid}/stat: ${stat}`);
  return start;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function exited(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe.runIf(process.platform === 'linux')('scripts/k8s-control-plane without a build', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  async function runDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-k8s-cp-'));
    dirs.push(dir);
    return dir;
  }

  function sleeper(): ChildProcess & { pid: number } {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    if (child.pid === undefined) throw new Error('could not start sleep');
    return child as ChildProcess & { pid: number };
  }

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('down stops the recorded processes and leaves a pid whose start time differs alone', async () => {
    const dir = await runDir();
    const recorded = sleeper();
    const reused = sleeper();
    await writeFile(
      join(dir, 'pids'),
      `etcd ${recorded.pid} ${await startTime(recorded.pid)}\n` +
        `kube-apiserver ${reused.pid} ${Number(await startTime(reused.pid)) + 1}\n`,
    );

    const down = await run(['down', '--dir', dir]);

    expect(down.code).toBe(0);
    await exited(recorded);
    expect(recorded.signalCode).toBe('SIGTERM');
    expect(isRunning(reused)).toBe(true);
    expect(down.stderr).toContain(`stopping etcd (pid ${recorded.pid})`);
    expect(down.stderr).not.toContain(`pid ${reused.pid}`);
  });

  it('status lists each recorded process and exits 3 once one has stopped', async () => {
    const dir = await runDir();
    const alive = sleeper();
    const gone = sleeper();
    const goneStart = await startTime(gone.pid);
    gone.kill('SIGKILL');
    await exited(gone);
    await writeFile(
      join(dir, 'pids'),
      `etcd ${alive.pid} ${await startTime(alive.pid)}\nkube-scheduler ${gone.pid} ${goneStart}\n`,
    );

    const status = await run(['status', '--dir', dir]);

    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(new RegExp(`^etcd +running +pid ${alive.pid} `, 'm'));
    expect(status.stdout).toMatch(new RegExp(`^kube-scheduler +stopped +pid ${gone.pid} `, 'm'));
  });

  it('status exits 3 and down does nothing when the run dir recorded no processes', async () => {
    const dir = await runDir();
    expect((await run(['status', '--dir', dir])).code).toBe(3);
    const down = await run(['down', '--dir', dir]);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('nothing to stop');
  });

  it('names the missing or unknown flag', async () => {
    const noDir = await run(['up']);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('up needs --dir <run dir>');

    const badFlag = await run(['down', '--dir', '/nonexistent', '--kubeconfig', 'x']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain('down does not take --kubeconfig');

    const unknown = await run(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command deploy');
  });
});
