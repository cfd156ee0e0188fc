import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBerthError, Resources } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineEvent } from './index.ts';

const small = Resources.of({ cpu: 100, memory: 32 * 2 ** 20 });
const engines: Engine[] = [];

async function started(killGracePeriodMs = 3000): Promise<Engine> {
  const engine = createEngine({
    nodes: [{ count: 2, capacity: { cpu: 2000, memory: 2 ** 30 }, ports: { begin: 41000, end: 41099 } }],
    killGracePeriodMs,
  });
  engines.push(engine);
  return engine.start();
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all we have
  }
}

function statesOf(events: readonly EngineEvent[], taskId: string): string[] {
  return events.flatMap((e) => (e.type === 'task-status' && e.taskId === taskId ? [e.status.state] : []));
}

describe('Engine process tasks', () => {
  it('runs sh -c, captures stdout and stderr in the sandbox and reports exit code 3 as FAILED', async () => {
    const engine = await started();
    const seen: EngineEvent[] = [];
    engine.events.subscribe((e) => seen.push(e));
    engine.launch({
      id: 'hi',
      nodeId: 'node-1',
      resources: small,
      command: 'echo hi; echo oops >&2; exit 3',
    });
    const done = await engine.waitForTask('hi');
    expect(done.state).toBe('FAILED');
    expect(done.exitCode).toBe(3);
    expect(done.status.message).toBe('Command exited with status 3');
    expect(statesOf(seen, 'hi')).toEqual(['STAGING', 'STARTING', 'RUNNING', 'FAILED']);
    expect(readFileSync(join(done.sandbox!, 'stdout'), 'utf8')).toBe('hi\n');
    const err = await engine.readLog('hi', 'stderr');
    expect(new TextDecoder().decode(err.data)).toBe('oops\n');
    // Sequence numbers are strictly increasing and without gaps.
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('reports exit 0 as FINISHED and frees the node resources', async () => {
    const engine = await started();
    engine.launch({ id: 'ok', nodeId: 'node-1', resources: small, args: ['true'] });
    expect(engine.node('node-1')!.allocated.cpu).toBe(100);
    const done = await engine.waitForTask('ok');
    expect(done.state).toBe('FINISHED');
    expect(done.exitCode).toBe(0);
    expect(engine.node('node-1')!.allocated.cpu).toBe(0);
  });

  it('gives the process Marathon port variables, HOST and its own env in the sandbox cwd', async () => {
    const engine = await started();
    const task = engine.launch({
      id: 'env',
      nodeId: 'node-2',
      resources: small,
      ports: [{ name: 'http' }, { name: 'admin', hostPort: 41050 }],
      env: { GREETING: 'hello' },
      command: 'echo "$PORT0 $PORT1 $PORTS $PORT_HTTP $PORT_ADMIN $HOST $GREETING"; pwd',
    });
    expect(task.ports).toEqual([41000, 41050]);
    expect(task.namedPorts).toEqual({ http: 41000, admin: 41050 });
    await engine.waitForTask('env');
    const out = new TextDecoder().decode((await engine.readLog('env', 'stdout')).data).split('\n');
    expect(out[0]).toBe('41000 41050 41000,41050 41000 41050 127.0.0.1 hello');
    expect(out[1]).toBe(task.sandbox);
  });

  it('reports a missing executable as FAILED with the launch failure reason', async () => {
    const engine = await started();
    engine.launch({ id: 'nope', nodeId: 'node-1', resources: small, args: ['/nonexistent/berth-binary'] });
    const done = await engine.waitForTask('nope');
    expect(done.state).toBe('FAILED');
    expect(done.status.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(engine.node('node-1')!.allocated.cpu).toBe(0);
  });

  it('kills sleep 30 with SIGTERM long before its grace period ends', async () => {
    const engine = await started();
    engine.launch({ id: 'sleeper', nodeId: 'node-1', resources: small, command: 'exec sleep 30' });
    await engine.waitForTask('sleeper', (t) => t.state === 'RUNNING');
    const t0 = Date.now();
    const done = await engine.kill('sleeper', { gracePeriodMs: 10_000 });
    expect(done.state).toBe('KILLED');
    expect(done.signal).toBe('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('honours the grace period: a process ignoring SIGTERM is SIGKILLed only after it', async () => {
    const engine = await started();
    engine.launch({
      id: 'stubborn',
      nodeId: 'node-1',
      resources: small,
      command: 'trap "" TERM; echo ready; sleep 30',
      killGracePeriodMs: 700,
    });
    await engine.waitForTask('stubborn', (t) => t.state === 'RUNNING');
    // Make sure the trap is installed before the kill.
    for (let i = 0; i < 200 && (await engine.logSize('stubborn', 'stdout')) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const t0 = Date.now();
    const killing = engine.kill('stubborn');
    expect(engine.task('stubborn')!.state).toBe('KILLING');
    const done = await killing;
    const took = Date.now() - t0;
    expect(done.state).toBe('KILLED');
    expect(done.signal).toBe('SIGKILL');
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(8_000);
  });

  it('leaves no process of any task alive after stop(), background children included', async () => {
    const engine = await started(500);
    const pids: number[] = [];
    for (const id of ['a', 'b', 'c']) {
      const t = engine.launch({
        id,
        nodeId: 'node-1',
        resources: small,
        command: 'sleep 30 & echo $! > bg.pid; trap "" TERM; wait',
      });
      pids.push(t.pid!);
    }
    for (const id of ['a', 'b', 'c']) await engine.waitForTask(id, (t) => t.state === 'RUNNING');
    const bgPids: number[] = [];
    for (const id of ['a', 'b', 'c']) {
      const path = join(engine.task(id)!.sandbox!, 'bg.pid');
      for (let i = 0; i < 300; i++) {
        const text = (() => {
          try {
            return readFileSync(path, 'utf8').trim();
          } catch {
            return '';
          }
        })();
        if (text !== '') {
          bgPids.push(Number(text));
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    expect(bgPids).toHaveLength(3);
    for (const pid of [...pids, ...bgPids]) expect(alive(pid)).toBe(true);
    await engine.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    for (const pid of bgPids) expect(alive(pid)).toBe(false);
    expect(engine.tasks().map((t) => t.state)).toEqual(['KILLED', 'KILLED', 'KILLED']);
  });

  it('stop({ gracePeriodMs: 0 }) SIGKILLs processes that ignore SIGTERM without waiting', async () => {
    const engine = await started(30_000);
    const t = engine.launch({
      id: 'stubborn',
      nodeId: 'node-1',
      resources: small,
      image: 'busybox',
      command: 'trap "" TERM; sleep 30',
    });
    expect(t.status.message).toBe(
      'image busybox is not pulled: devcluster runs the command directly on this machine',
    );
    await engine.waitForTask('stubborn', (x) => x.state === 'RUNNING');
    expect(engine.task('stubborn')!.status.message).toBeUndefined();
    const t0 = Date.now();
    await engine.stop({ gracePeriodMs: 0 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(() => process.kill(t.pid!, 0)).toThrow();
    expect(engine.task('stubborn')).toMatchObject({ state: 'KILLED', signal: 'SIGKILL' });
  });

  it('kills the leftovers of a task whose shell exited', async () => {
    const engine = await started();
    engine.launch({ id: 'forker', nodeId: 'node-1', resources: small, command: 'sleep 30 & echo $!' });
    const done = await engine.waitForTask('forker');
    expect(done.state).toBe('FINISHED');
    const bg = Number(new TextDecoder().decode((await engine.readLog('forker', 'stdout')).data).trim());
    for (let i = 0; i < 200 && alive(bg); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(bg)).toBe(false);
  });

  it('refuses a fixed port that another process task holds on another virtual node', async () => {
    const engine = await createEngine({
      nodes: [{ count: 2, capacity: { cpu: 2000, memory: 2 ** 30 }, ports: { begin: 42000, end: 42010 } }],
    }).start();
    engines.push(engine);
    engine.launch({
      id: 'p1',
      nodeId: 'node-1',
      resources: small,
      ports: [{ hostPort: 42005 }],
      command: 'sleep 30',
    });
    let error: unknown;
    try {
      engine.launch({
        id: 'p2',
        nodeId: 'node-2',
        resources: small,
        ports: [{ hostPort: 42005 }],
        command: 'true',
      });
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toContain('42005');
    expect(engine.task('p2')).toBeUndefined();
    // A dynamic port on node-2 skips the port p1 holds for real.
    const p3 = engine.launch({ id: 'p3', nodeId: 'node-2', resources: small, ports: [{}], command: 'true' });
    expect(p3.ports).toEqual([42000]);
    const p4 = engine.launch({
      id: 'p4',
      nodeId: 'node-2',
      resources: small,
      ports: Array.from({ length: 6 }, () => ({})),
      command: 'true',
    });
    expect(p4.ports).not.toContain(42005);
  });

  it('reads logs by offset and length, and follows them until the task ends', async () => {
    const engine = await started();
    engine.launch({
      id: 'talker',
      nodeId: 'node-1',
      resources: small,
      command: 'for i in 1 2 3 4 5; do echo line$i; sleep 0.05; done',
    });
    const chunks: string[] = [];
    for await (const c of engine.followLog('talker', 'stdout', { pollMs: 20 })) {
      chunks.push(new TextDecoder().decode(c));
    }
    expect(chunks.join('')).toBe('line1\nline2\nline3\nline4\nline5\n');
    expect(engine.task('talker')!.state).toBe('FINISHED');
    const part = await engine.readLog('talker', 'stdout', { offset: 6, length: 5 });
    expect(new TextDecoder().decode(part.data)).toBe('line2');
    expect(part).toMatchObject({ offset: 6, size: 30 });
    const past = await engine.readLog('talker', 'stdout', { offset: 100, length: 5 });
    expect(past).toMatchObject({ offset: 30, size: 30 });
    expect(past.data).toHaveLength(0);
  });

  it('reports cpu time and RSS of a running process group from /proc', async () => {
    const engine = await started();
    engine.launch({ id: 'busy', nodeId: 'node-1', resources: small, command: 'while :; do :; done' });
    await engine.waitForTask('busy', (t) => t.state === 'RUNNING');
    await new Promise((r) => setTimeout(r, 300));
    const stats = await engine.stats('busy');
    expect(stats.cpusLimit).toBe(0.1);
    expect(stats.memLimitBytes).toBe(32 * 2 ** 20);
    if (process.platform === 'linux') {
      expect(stats.memRssBytes).toBeGreaterThan(0);
      expect(stats.processes).toBeGreaterThanOrEqual(1);
      expect(stats.cpusUserTimeSecs! + stats.cpusSystemTimeSecs!).toBeGreaterThan(0);
    }
  });

  it('fault injection makes a running process exit with the given code', async () => {
    const engine = await started();
    engine.launch({ id: 'victim', nodeId: 'node-1', resources: small, command: 'sleep 30' });
    await engine.waitForTask('victim', (t) => t.state === 'RUNNING');
    engine.faults.exitTask('victim', 42);
    const done = await engine.waitForTask('victim');
    expect(done.state).toBe('FAILED');
    expect(done.exitCode).toBe(42);
    expect(done.status.reason).toBe('REASON_FAULT_INJECTED');
  });

  it('a lost node takes its processes with it', async () => {
    const engine = await started();
    const t = engine.launch({ id: 'doomed', nodeId: 'node-2', resources: small, command: 'sleep 30' });
    await engine.waitForTask('doomed', (x) => x.state === 'RUNNING');
    engine.failNode('node-2', { mode: 'lost' });
    expect(engine.task('doomed')!.state).toBe('LOST');
    for (let i = 0; i < 300 && alive(t.pid!); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(t.pid!)).toBe(false);
  });
});
