import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, isBerthError, PortRanges, Resources } from '@berth/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineConfig, type EngineEvent, startEngine } from './index.ts';

const GiB = 2 ** 30;
const req = (cpu: number, memory = 0) => Resources.of({ cpu, memory });
const engines: Engine[] = [];

async function sim(
  config: Partial<EngineConfig> = {},
): Promise<{ engine: Engine; clock: FakeClock; seen: EngineEvent[] }> {
  const clock = new FakeClock(1_000_000);
  const engine = createEngine({
    nodes: [{ count: 3, capacity: { cpu: 4000, memory: 8 * GiB }, ports: { begin: 31000, end: 31004 } }],
    clock,
    ...config,
  });
  engines.push(engine);
  const seen: EngineEvent[] = [];
  engine.events.subscribe((e) => seen.push(e));
  await engine.start();
  return { engine, clock, seen };
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function taskStates(events: readonly EngineEvent[], taskId?: string): string[] {
  return events.flatMap((e) =>
    e.type === 'task-status' && (taskId === undefined || e.taskId === taskId) ? [e.status.state] : [],
  );
}

describe('Engine nodes', () => {
  it('creates the configured nodes with hostname, rack and zone labels and announces each', async () => {
    const { engine, seen } = await sim({
      nodes: [
        {
          count: 4,
          prefix: 'r',
          capacity: { cpu: 1000 },
          racks: 2,
          zones: 2,
          domain: 'dc.local',
          taints: [{ key: 'gpu', effect: 'NoSchedule' }],
        },
      ],
    });
    expect(engine.nodes().map((n) => [n.id, n.hostname, n.rack, n.zone])).toEqual([
      ['r-1', 'r-1.dc.local', 'rack-1', 'zone-a'],
      ['r-2', 'r-2.dc.local', 'rack-1', 'zone-a'],
      ['r-3', 'r-3.dc.local', 'rack-2', 'zone-b'],
      ['r-4', 'r-4.dc.local', 'rack-2', 'zone-b'],
    ]);
    const n = engine.node('r-3')!;
    expect(n.labels).toMatchObject({
      'kubernetes.io/hostname': 'r-3.dc.local',
      'topology.kubernetes.io/zone': 'zone-b',
      'berth.dev/rack': 'rack-2',
    });
    expect(n.attributes).toEqual({ rack: 'rack-2', zone: 'zone-b' });
    expect(n.taints).toEqual([{ key: 'gpu', effect: 'NoSchedule' }]);
    expect(n.capacity.ports.toString()).toBe('31000-32000');
    expect(seen.map((e) => e.type)).toEqual(['node-added', 'node-added', 'node-added', 'node-added']);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a config with duplicate node ids before creating anything', async () => {
    const engine = createEngine({
      nodes: [
        { count: 1, prefix: 'a', capacity: { cpu: 1 } },
        { count: 1, prefix: 'a', capacity: { cpu: 1 } },
      ],
    });
    const error = await engine.start().catch((e: unknown) => e);
    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
    expect(engine.running).toBe(false);
    expect(engine.nodes()).toEqual([]);
  });

  it('adds and removes nodes at runtime; removing one loses its tasks', async () => {
    const { engine, seen } = await sim();
    engine.addNode({ id: 'extra', capacity: Resources.fromQuantities({ cpu: '2', memory: '1Gi' }) });
    expect(engine.node('extra')!.capacity.cpu).toBe(2000);
    expect(
      isBerthError(
        caught(() => engine.addNode({ id: 'extra', capacity: {} })),
        'CONFLICT',
      ),
    ).toBe(true);
    engine.launch({ id: 't', nodeId: 'extra', resources: req(500) });
    engine.removeNode('extra');
    expect(engine.node('extra')).toBeUndefined();
    expect(engine.task('t')!.status).toMatchObject({
      state: 'LOST',
      reason: 'REASON_AGENT_REMOVED_BY_OPERATOR',
    });
    expect(seen.at(-1)).toMatchObject({ type: 'node-removed', nodeId: 'extra' });
  });
});

describe('Engine launch validation', () => {
  it('refuses an unknown node with NOT_FOUND and changes nothing', async () => {
    const { engine, seen } = await sim();
    const before = seen.length;
    const error = caught(() => engine.launch({ id: 'x', nodeId: 'nope', resources: req(1) }));
    expect(isBerthError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('"nope"');
    expect(engine.task('x')).toBeUndefined();
    expect(seen.length).toBe(before);
  });

  it('refuses resources that do not fit, naming the resource, and leaves the node as it was', async () => {
    const { engine, seen } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(3000, GiB) });
    const before = seen.length;
    const error = caught(() => engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1500, GiB) }));
    expect(isBerthError(error, 'UNSCHEDULABLE')).toBe(true);
    expect((error as Error).message).toContain('insufficient cpu: requested 1500m, free 1000m');
    expect(engine.node('node-1')!.allocated.cpu).toBe(3000);
    expect(engine.node('node-1')!.allocated.memory).toBe(GiB);
    expect(engine.task('b')).toBeUndefined();
    expect(seen.length).toBe(before);
  });

  it('refuses a fixed port in use (CONFLICT) or outside the node range (UNSCHEDULABLE)', async () => {
    const { engine } = await sim();
    engine.launch({
      id: 'a',
      nodeId: 'node-1',
      resources: req(1),
      ports: [{ name: 'http', hostPort: 31002 }],
    });
    const inUse = caught(() =>
      engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1), ports: [{ hostPort: 31002 }, {}] }),
    );
    expect(isBerthError(inUse, 'CONFLICT')).toBe(true);
    expect((inUse as Error).message).toContain('already used by task a');
    const outside = caught(() =>
      engine.launch({
        id: 'c',
        nodeId: 'node-1',
        resources: Resources.of({ ports: PortRanges.of({ begin: 80, end: 80 }) }),
      }),
    );
    expect(isBerthError(outside, 'UNSCHEDULABLE')).toBe(true);
    expect(engine.node('node-1')!.allocated.ports.toString()).toBe('31002');
    // Dynamic ports come from what is left, lowest first.
    const d = engine.launch({ id: 'd', nodeId: 'node-1', resources: req(1), ports: [{}, { name: 'x' }] });
    expect(d.ports).toEqual([31000, 31001]);
    expect(d.namedPorts).toEqual({ port0: 31000, x: 31001 });
    const tooMany = caught(() =>
      engine.launch({ id: 'e', nodeId: 'node-1', resources: req(1), ports: [{}, {}, {}] }),
    );
    expect(isBerthError(tooMany, 'UNSCHEDULABLE')).toBe(true);
    expect((tooMany as Error).message).toContain('2 free ports');
  });

  it('forgets the oldest completed tasks beyond maxCompletedTasks, never a relaunch under the same id', async () => {
    const { engine } = await sim({ maxCompletedTasks: 2 });
    for (const id of ['a', 'b', 'c']) {
      engine.launch({ id, nodeId: 'node-1', resources: req(1) });
      await engine.kill(id);
    }
    expect(engine.tasks().map((t) => t.id)).toEqual(['b', 'c']);
    engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1) }); // relaunch of a completed id
    engine.launch({ id: 'd', nodeId: 'node-1', resources: req(1) });
    await engine.kill('d'); // pushes the old "b" record out, which must not take the new one along
    expect(engine.task('b')!.state).toBe('RUNNING');
    expect(
      engine
        .tasks()
        .map((t) => t.id)
        .sort(),
    ).toEqual(['b', 'c', 'd']);
  });

  it('refuses a duplicate live task id and bad simulated settings with SPEC_INVALID', async () => {
    const { engine } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(1) });
    expect(
      isBerthError(
        caught(() => engine.launch({ id: 'a', nodeId: 'node-2', resources: req(1) })),
        'CONFLICT',
      ),
    ).toBe(true);
    const bad = caught(() =>
      engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1), simulated: { durationMs: -5 } }),
    );
    expect(isBerthError(bad, 'SPEC_INVALID')).toBe(true);
    expect((bad as Error).message).toContain('simulated.durationMs');
    const noCommand = caught(() =>
      engine.launch({ id: 'c', nodeId: 'node-1', resources: req(1), mode: 'process' }),
    );
    expect(isBerthError(noCommand, 'SPEC_INVALID')).toBe(true);
  });

  it('never over-commits a node, whatever sequence of launches and kills (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ cpu: fc.integer({ min: 0, max: 2500 }), kill: fc.boolean() }), {
          maxLength: 30,
        }),
        async (ops) => {
          const engine = await startEngine({
            nodes: [{ count: 1, prefix: 'only', capacity: { cpu: 4000 } }],
            clock: new FakeClock(),
          });
          let expected = 0;
          for (const [i, op] of ops.entries()) {
            const id = `t${i}`;
            try {
              engine.launch({ id, nodeId: 'only', resources: req(op.cpu) });
              expected += op.cpu;
            } catch (e) {
              expect(isBerthError(e, 'UNSCHEDULABLE')).toBe(true);
              expect(expected + op.cpu).toBeGreaterThan(4000);
              continue;
            }
            if (op.kill) {
              await engine.kill(id);
              expected -= op.cpu;
            }
            expect(engine.node('only')!.allocated.cpu).toBe(expected);
            expect(expected).toBeLessThanOrEqual(4000);
          }
          await engine.stop();
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('Engine simulated tasks', () => {
  it('runs for its duration on the injected clock, then FINISHED', async () => {
    const { engine, clock, seen } = await sim();
    const t = engine.launch({
      id: 's',
      nodeId: 'node-1',
      resources: req(1000, GiB),
      simulated: { durationMs: 5000 },
    });
    expect(t.state).toBe('RUNNING');
    clock.advance(4999);
    expect(engine.task('s')!.state).toBe('RUNNING');
    clock.advance(1);
    expect(engine.task('s')!.state).toBe('FINISHED');
    expect(taskStates(seen, 's')).toEqual(['STAGING', 'STARTING', 'RUNNING', 'FINISHED']);
    expect(engine.task('s')!.status.timestamps).toEqual({
      created: 1_000_000,
      started: 1_000_000,
      finished: 1_005_000,
      updated: 1_005_000,
    });
  });

  it('ends FAILED with a non-zero simulated exit code', async () => {
    const { engine, clock } = await sim();
    engine.launch({
      id: 's',
      nodeId: 'node-1',
      resources: req(1),
      simulated: { durationMs: 10, exitCode: 2 },
    });
    clock.advance(10);
    expect(engine.task('s')).toMatchObject({ state: 'FAILED', exitCode: 2 });
  });

  it('runs an image-only task simulated and says so in its status', async () => {
    const { engine } = await sim();
    const t = engine.launch({ id: 'web', nodeId: 'node-1', resources: req(100), image: 'nginx:1.27' });
    expect(t.mode).toBe('simulated');
    expect(t.status.message).toContain('image nginx:1.27 has no command');
    expect(t.status.message).toContain('simulated');
  });

  it('is killed through KILLING to KILLED after its kill delay', async () => {
    const { engine, clock, seen } = await sim();
    engine.launch({ id: 's', nodeId: 'node-1', resources: req(100), simulated: { killDelayMs: 200 } });
    const killed = engine.kill('s');
    expect(engine.task('s')!.state).toBe('KILLING');
    clock.advance(200);
    expect((await killed).state).toBe('KILLED');
    expect(taskStates(seen, 's')).toEqual(['STAGING', 'STARTING', 'RUNNING', 'KILLING', 'KILLED']);
    expect(engine.node('node-1')!.allocated.cpu).toBe(0);
  });

  it('reports synthetic usage growing with run time', async () => {
    const { engine, clock } = await sim();
    engine.launch({
      id: 's',
      nodeId: 'node-1',
      resources: req(2000, GiB),
      simulated: { usage: { cpu: 1000 } },
    });
    clock.advance(10_000);
    const stats = await engine.stats('s');
    expect(stats.cpusLimit).toBe(2);
    expect(stats.memLimitBytes).toBe(GiB);
    expect(stats.memRssBytes).toBe(GiB / 2);
    expect(stats.cpusUserTimeSecs! + stats.cpusSystemTimeSecs!).toBeCloseTo(10, 6);
    expect(stats.timestamp).toBe(1_010_000 / 1000);
  });
});

describe('Engine node failures', () => {
  it('a lost node makes its tasks LOST and frees nothing twice on recovery', async () => {
    const { engine, seen } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-2', resources: req(1000) });
    engine.launch({ id: 'b', nodeId: 'node-2', resources: req(1000) });
    engine.launch({ id: 'c', nodeId: 'node-3', resources: req(1000) });
    const from = engine.events.latestSeq;
    engine.failNode('node-2');
    const after = engine.events.since(from);
    expect(after.map((e) => (e.type === 'task-status' ? `${e.taskId}:${e.status.state}` : e.type))).toEqual([
      'node-failed',
      'a:LOST',
      'b:LOST',
    ]);
    expect(engine.node('node-2')!.condition).toBe('lost');
    expect(engine.node('node-2')!.allocated.cpu).toBe(0);
    expect(engine.task('c')!.state).toBe('RUNNING');
    expect(
      isBerthError(
        caught(() => engine.launch({ id: 'd', nodeId: 'node-2', resources: req(1) })),
        'UNSCHEDULABLE',
      ),
    ).toBe(true);
    engine.recoverNode('node-2');
    expect(seen.at(-1)).toMatchObject({ type: 'node-recovered', nodeId: 'node-2' });
    expect(engine.node('node-2')!.condition).toBe('ready');
    engine.launch({ id: 'd', nodeId: 'node-2', resources: req(4000) });
  });

  it('an unreachable node reports UNREACHABLE, keeps tasks running, and tells the truth on recovery', async () => {
    const { engine, clock, seen } = await sim();
    engine.launch({ id: 'long', nodeId: 'node-1', resources: req(100) });
    engine.launch({ id: 'short', nodeId: 'node-1', resources: req(100), simulated: { durationMs: 1000 } });
    engine.launch({ id: 'tokill', nodeId: 'node-1', resources: req(100) });
    engine.failNode('node-1', { mode: 'unreachable' });
    expect(engine.task('long')!.status.state).toBe('UNREACHABLE');
    expect(engine.task('long')!.state).toBe('RUNNING');
    const mark = engine.events.latestSeq;
    clock.advance(1000); // `short` ends while nobody can see it
    void engine.kill('tokill'); // held until the node is back
    expect(engine.events.latestSeq).toBe(mark);
    expect(engine.task('short')!.state).toBe('FINISHED');
    expect(engine.task('short')!.status.state).toBe('UNREACHABLE');
    engine.recoverNode('node-1');
    const after = engine.events.since(mark);
    expect(after.map((e) => (e.type === 'task-status' ? `${e.taskId}:${e.status.state}` : e.type))).toEqual([
      'node-recovered',
      'long:RUNNING',
      'short:FINISHED',
      'tokill:RUNNING',
      'tokill:KILLING',
      'tokill:KILLED',
    ]);
    expect(engine.task('long')!.status.reason).toBe('REASON_AGENT_REREGISTERED');
    expect(taskStates(seen, 'long')).toEqual(['STAGING', 'STARTING', 'RUNNING', 'UNREACHABLE', 'RUNNING']);
  });

  it('removing a partitioned node reports the tasks that ended unseen as LOST', async () => {
    const { engine, clock } = await sim();
    engine.launch({ id: 'short', nodeId: 'node-1', resources: req(100), simulated: { durationMs: 10 } });
    engine.failNode('node-1', { mode: 'unreachable' });
    clock.advance(10);
    expect(engine.task('short')!.status.state).toBe('UNREACHABLE');
    engine.removeNode('node-1');
    expect(engine.task('short')!.status).toMatchObject({
      state: 'LOST',
      reason: 'REASON_AGENT_REMOVED_BY_OPERATOR',
    });
  });

  it('an unreachable node that is then lost reports its tasks LOST', async () => {
    const { engine } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(100) });
    engine.failNode('node-1', { mode: 'unreachable' });
    engine.failNode('node-1', { mode: 'lost' });
    expect(engine.task('a')!.status.state).toBe('LOST');
    expect(
      isBerthError(
        caught(() => engine.failNode('node-1', { mode: 'unreachable' })),
        'CONFLICT',
      ),
    ).toBe(true);
  });
});

describe('Engine fault injection on status events', () => {
  it('drops the matching status events only', async () => {
    const { engine, seen } = await sim();
    const undo = engine.faults.dropStatus({ state: 'RUNNING' }, { times: 1 });
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(1) });
    engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1) });
    expect(taskStates(seen, 'a')).toEqual(['STAGING', 'STARTING']);
    expect(taskStates(seen, 'b')).toEqual(['STAGING', 'STARTING', 'RUNNING']);
    expect(engine.task('a')!.state).toBe('RUNNING');
    undo();
  });

  it('delays status events, keeping each task in order and the sequence monotonic', async () => {
    const { engine, clock, seen } = await sim();
    engine.faults.delayStatus(500, { taskId: 'slow', state: 'STARTING' });
    engine.launch({ id: 'slow', nodeId: 'node-1', resources: req(1), simulated: { durationMs: 100 } });
    engine.launch({ id: 'fast', nodeId: 'node-1', resources: req(1) });
    expect(taskStates(seen, 'slow')).toEqual(['STAGING']);
    clock.advance(100);
    expect(taskStates(seen, 'slow')).toEqual(['STAGING']);
    clock.advance(400);
    expect(taskStates(seen, 'slow')).toEqual(['STAGING', 'STARTING', 'RUNNING', 'FINISHED']);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    engine.faults.clear();
  });

  it('exitTask ends a simulated task with the given code', async () => {
    const { engine } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(1) });
    engine.faults.exitTask('a', 0);
    expect(engine.task('a')).toMatchObject({ state: 'FINISHED', exitCode: 0 });
    expect(
      isBerthError(
        caught(() => engine.faults.exitTask('a', 1)),
        'CONFLICT',
      ),
    ).toBe(true);
  });
});

describe('Engine events', () => {
  it('replays since(seq) and refuses a replay that fell out of the ring buffer', async () => {
    const { engine } = await sim({ eventBufferSize: 8 });
    for (let i = 0; i < 3; i++) engine.launch({ id: `t${i}`, nodeId: 'node-1', resources: req(1) });
    // 3 nodes + 3 × 3 statuses = 12 events; the buffer keeps the last 8 (5..12).
    expect(engine.events.latestSeq).toBe(12);
    expect(engine.events.since(4).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(engine.events.since(12)).toEqual([]);
    const error = caught(() => engine.events.since(3));
    expect(isBerthError(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toContain('oldest kept is 5');
  });

  it('iterates with replay, then live events, and stops on abort', async () => {
    const { engine } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(1) });
    const controller = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of engine.events.iterate({ since: 3, signal: controller.signal })) {
        got.push(e.type === 'task-status' ? `${e.taskId}:${e.status.state}` : e.type);
        if (got.length === 5) controller.abort();
      }
    })();
    engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1) });
    await reading;
    expect(got).toEqual(['a:STAGING', 'a:STARTING', 'a:RUNNING', 'b:STAGING', 'b:STARTING']);
  });

  it('ends iterators and kills simulated tasks on stop()', async () => {
    const { engine } = await sim();
    engine.launch({ id: 'a', nodeId: 'node-1', resources: req(1) });
    const types: string[] = [];
    const reading = (async () => {
      for await (const e of engine.events) types.push(e.type === 'task-status' ? e.status.state : e.type);
    })();
    await engine.stop();
    await reading;
    expect(types).toEqual(['KILLED', 'engine-stopped']);
    expect(
      isBerthError(
        caught(() => engine.launch({ id: 'b', nodeId: 'node-1', resources: req(1) })),
        'CONFLICT',
      ),
    ).toBe(true);
  });
});

describe('Engine state directory', () => {
  it('creates a temp state directory and removes it on stop', async () => {
    const { engine } = await sim();
    const dir = engine.stateDir;
    expect(dir.startsWith(tmpdir())).toBe(true);
    expect(existsSync(dir)).toBe(true);
    await engine.stop();
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps a given state directory and puts sandboxes under it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-engine-test-'));
    try {
      const { engine } = await sim({ stateDir: dir });
      const t = engine.launch({ id: 'p', nodeId: 'node-1', resources: req(1), command: 'true' });
      expect(t.sandbox).toBe(join(dir, 'sandboxes', 'node-1', 'p'));
      await engine.waitForTask('p');
      await engine.stop();
      expect(existsSync(join(dir, 'sandboxes', 'node-1', 'p', 'stdout'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at the end of an await using scope', async () => {
    let dir = '';
    {
      await using engine = await startEngine({
        nodes: [{ count: 1, capacity: { cpu: 1 } }],
        clock: new FakeClock(),
      });
      dir = engine.stateDir;
      expect(engine.running).toBe(true);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
