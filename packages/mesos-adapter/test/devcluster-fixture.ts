/**
 * A devcluster (engine + Mesos master) for the adapter's tests, a backend probe that asks the master
 * and the engine directly (never the adapter), and an adapter factory with fast timings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendProbe } from '@berth/adapter-testkit';
import { type Engine, type MesosMaster, startEngine, startMesosMaster } from '@berth/devcluster';
import { createMesosAdapter, type MesosAdapter, type MesosAdapterOptions } from '../src/mesos-adapter.ts';
import { testAdapterOptions } from './adapter-options.ts';

export interface MesosTestCluster {
  readonly engine: Engine;
  readonly master: MesosMaster;
  /** A standby master on the same engine (answers 307 until `master.faults.failover()`), when asked for. */
  readonly standby: MesosMaster | undefined;
  readonly probe: MesosProbe;
  /** A fresh state file in a directory removed by `close()`. */
  stateFile(): string;
  /** A new adapter (not connected) with test timings; `overrides` win. */
  adapter(overrides?: Partial<MesosAdapterOptions>): MesosAdapter;
  close(): Promise<void>;
}

export interface MesosProbe extends BackendProbe {
  /** Every task the master lists with this id (launched, running, unreachable or ended). */
  masterTasks(taskId: string): Promise<{ state: string; framework: string }[]>;
  /** Task ids the engine runs right now. */
  runningIds(): string[];
}

interface WireTask {
  task_id: { value: string };
  state: string;
  framework_id: { value: string };
}

export async function startTestCluster(
  options: { nodes?: number; standby?: boolean } = {},
): Promise<MesosTestCluster> {
  const engine = await startEngine(
    options.nodes === undefined
      ? { preset: 'laptop' }
      : { nodes: [{ count: options.nodes, capacity: { cpu: 4000, memory: 8 * 1024 ** 3 } }] },
  );
  const master = await startMesosMaster({
    engine,
    heartbeatIntervalSeconds: 1,
    allocationIntervalMs: 50,
    statusUpdateRetryMs: 500,
  });
  const standby = options.standby
    ? await startMesosMaster({
        engine,
        leader: false,
        heartbeatIntervalSeconds: 1,
        allocationIntervalMs: 50,
        statusUpdateRetryMs: 500,
      })
    : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'berth-mesos-adapter-'));
  let n = 0;
  const adapters: MesosAdapter[] = [];

  const masterTasks = async (taskId: string) => {
    const res = await fetch(`${master.url}/api/v1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ type: 'GET_TASKS' }),
    });
    const body = (await res.json()) as { get_tasks: Record<string, WireTask[] | undefined> };
    const lists = ['pending_tasks', 'tasks', 'unreachable_tasks', 'completed_tasks', 'orphan_tasks'];
    return lists
      .flatMap((k) => body.get_tasks[k] ?? [])
      .filter((t) => t.task_id.value === taskId || t.task_id.value.startsWith(`${taskId}.`))
      .map((t) => ({ state: t.state, framework: t.framework_id.value }));
  };

  const probe: MesosProbe = {
    async launchCount(taskId) {
      return (await masterTasks(taskId)).length;
    },
    isRunning(taskId) {
      return engine
        .tasks()
        .some((t) => (t.id === taskId || t.id.startsWith(`${taskId}.`)) && t.state === 'RUNNING');
    },
    masterTasks,
    runningIds: () =>
      engine
        .tasks()
        .filter((t) => t.state === 'RUNNING')
        .map((t) => t.id),
  };

  return {
    engine,
    master,
    standby,
    probe,
    stateFile: () => join(dir, `state-${++n}.sqlite`),
    adapter(overrides = {}) {
      const masters = standby === undefined ? [master.url] : [master.url, standby.url];
      const a = createMesosAdapter({
        ...testAdapterOptions(masters, join(dir, `state-${++n}.sqlite`)),
        ...overrides,
      });
      adapters.push(a);
      return a;
    },
    async close() {
      for (const a of adapters) await a.close().catch(() => {});
      await standby?.close();
      await master.close();
      await engine.stop({ gracePeriodMs: 0 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
