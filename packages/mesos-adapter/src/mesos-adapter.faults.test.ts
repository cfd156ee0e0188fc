/**
 * Fault tests against devcluster's Mesos face. After each fault every task must be accounted for
 * exactly once, checked through the master and the engine, never through the adapter: no task
 * lost, none launched twice, each one running in exactly one place.
 */
import { API_VERSION, isTerminal, type ServiceDocument, type TaskDocument, type TaskSpec } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type MesosTestCluster, startTestCluster } from '../test/devcluster-fixture.ts';
import { task as taskDocument, taskSpec } from '../test/task-docs.ts';
import type { MesosAdapter } from './mesos-adapter.ts';

/** The tasks here restart at once, without backoff. */
const RESTART_AT_ONCE: Partial<TaskSpec> = {
  restartPolicy: { policy: 'always', backoffSeconds: 0, maxBackoffSeconds: 0 },
};
const task = (name: string, over: Partial<TaskSpec> = {}): TaskDocument =>
  taskDocument(name, { ...RESTART_AT_ONCE, ...over });
const service = (name: string, replicas: number): ServiceDocument => ({
  apiVersion: API_VERSION,
  kind: 'Service',
  metadata: { name, tenant: 'default', labels: {} },
  spec: { template: taskSpec(name, RESTART_AT_ONCE), replicas },
});

async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function allRunning(adapter: MesosAdapter, ids: readonly string[]) {
  return waitUntil(`${ids.join(', ')} RUNNING`, async () => {
    const list = await adapter.tasks({ ids });
    return list.length === ids.length && list.every((s) => s.state === 'RUNNING') ? list : undefined;
  });
}

/** Each id: exactly one live launch on the master and exactly one running process on the engine. */
async function accountedOnce(cluster: MesosTestCluster, ids: readonly string[]) {
  await waitUntil(
    `${ids.join(', ')} to be accounted for exactly once`,
    async () => {
      for (const id of ids) {
        const live = (await cluster.probe.masterTasks(id)).filter((t) => !isTerminalMesos(t.state));
        const running = cluster.probe.runningIds().filter((r) => r === id || r.startsWith(`${id}.`));
        if (live.length !== 1 || running.length !== 1) {
          throw new Error(`${id}: ${live.length} live on the master, ${running.length} running`);
        }
      }
      return true;
    },
    10_000,
  );
}

function isTerminalMesos(state: string): boolean {
  return [
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_ERROR',
    'TASK_LOST',
    'TASK_DROPPED',
    'TASK_GONE',
    'TASK_GONE_BY_OPERATOR',
    'TASK_UNKNOWN',
  ].includes(state);
}

let cluster: MesosTestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('Mesos adapter under faults', { timeout: 20_000 }, () => {
  it('keeps every task exactly once when the scheduler stream is dropped', async () => {
    cluster = await startTestCluster();
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([service('drop', 3)]);
    await allRunning(adapter, ['drop-0', 'drop-1', 'drop-2']);
    expect(cluster.master.faults.dropSchedulerStream()).toBeGreaterThan(0);
    await adapter.submit([task('after-drop')]);
    await allRunning(adapter, ['drop-0', 'drop-1', 'drop-2', 'after-drop']);
    await accountedOnce(cluster, ['drop-0', 'drop-1', 'drop-2', 'after-drop']);
    for (const id of ['drop-0', 'drop-1', 'drop-2', 'after-drop'])
      expect(await cluster.probe.launchCount(id)).toBe(1);
  });

  it('never sends an ACCEPT twice when the call connection drops mid-ACCEPT, and launches each task once', async () => {
    cluster = await startTestCluster({ nodes: 6 });
    const adapter = cluster.adapter();
    await adapter.connect();
    // Spread over the agents, one ACCEPT per agent, all pipelined on the call connection. The
    // master carries out the first ACCEPT it reads, then cuts the connection before answering: the
    // ACCEPTs behind it may or may not have reached it. Sent again, an ACCEPT it carried out would
    // find its offers used (TASK_DROPPED for tasks that did launch), which launches them again.
    cluster.master.faults.cutCallConnections({ callType: 'ACCEPT', times: 1 });
    const accepts: string[] = [];
    const { driver } = adapter.getClient();
    const accept = driver.accept.bind(driver);
    driver.accept = (offerIds, operations, filters) => {
      accepts.push(offerIds.join(','));
      return accept(offerIds, operations, filters);
    };
    const ids = Array.from({ length: 6 }, (_, i) => `cut-${i}`);
    await adapter.submit([service('cut', 6)]);
    await allRunning(adapter, ids);
    await accountedOnce(cluster, ids);
    for (const id of ids) expect(await cluster.probe.launchCount(id)).toBe(1);
    // The cut happened mid-round (several ACCEPTs were made) and no offer was offered up twice.
    expect(accepts.length).toBeGreaterThan(1);
    expect(new Set(accepts).size).toBe(accepts.length);
  });

  it('reconnects when heartbeats stop and launches nothing twice', async () => {
    cluster = await startTestCluster();
    const adapter = cluster.adapter({ missedHeartbeats: 2 });
    await adapter.connect();
    await adapter.submit([service('hb', 2)]);
    await allRunning(adapter, ['hb-0', 'hb-1']);
    const { driver } = adapter.getClient();
    let resubscribed = 0;
    const off = driver.onStateChange((s) => {
      if (s.phase === 'reconnecting') resubscribed--;
      if (s.phase === 'subscribed' && resubscribed < 0) resubscribed = 1;
    });
    cluster.master.faults.stopHeartbeats();
    await waitUntil(
      'the driver to reconnect after missed heartbeats',
      () => resubscribed < 0 || resubscribed === 1,
    );
    cluster.master.faults.resumeHeartbeats();
    await waitUntil('the driver to subscribe again', () => resubscribed === 1);
    off();
    await adapter.submit([task('after-hb')]);
    await allRunning(adapter, ['hb-0', 'hb-1', 'after-hb']);
    await accountedOnce(cluster, ['hb-0', 'hb-1', 'after-hb']);
    for (const id of ['hb-0', 'hb-1', 'after-hb']) expect(await cluster.probe.launchCount(id)).toBe(1);
  });

  it('follows a master failover through the 307 redirect', async () => {
    cluster = await startTestCluster({ standby: true });
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([service('fo', 2)]);
    await allRunning(adapter, ['fo-0', 'fo-1']);
    cluster.master.faults.failover();
    const standby = cluster.standby!;
    await waitUntil('the driver to follow the new leader', () => {
      const { leader, phase } = adapter.getClient().driver.state;
      // The 307 names the new leader by its advertised hostname; the port identifies it.
      return phase === 'subscribed' && leader !== undefined && new URL(leader).port === String(standby.port);
    });
    await adapter.submit([task('after-fo')]);
    await allRunning(adapter, ['fo-0', 'fo-1', 'after-fo']);
    await accountedOnce(cluster, ['fo-0', 'fo-1', 'after-fo']);
    expect(await cluster.probe.launchCount('after-fo')).toBe(1);
  });

  it('relaunches the tasks of a lost agent once, elsewhere', async () => {
    cluster = await startTestCluster();
    const adapter = cluster.adapter();
    await adapter.connect();
    await adapter.submit([service('lost', 3)]);
    const before = await allRunning(adapter, ['lost-0', 'lost-1', 'lost-2']);
    const victim = before.find((s) => s.taskId === 'lost-0')!.nodeId!;
    const onVictim = before.filter((s) => s.nodeId === victim).map((s) => s.taskId);
    cluster.master.faults.agentLost(victim);
    const after = await waitUntil('the lost replicas to run again elsewhere', async () => {
      const list = await adapter.tasks({ service: 'lost' });
      return list.length === 3 && list.every((s) => s.state === 'RUNNING' && s.nodeId !== victim)
        ? list
        : undefined;
    });
    expect(after.map((s) => s.taskId).sort()).toEqual(['lost-0', 'lost-1', 'lost-2']);
    await accountedOnce(cluster, ['lost-0', 'lost-1', 'lost-2']);
    for (const id of onVictim) expect(await cluster.probe.launchCount(id)).toBe(2);
  });

  it('ignores duplicate and out-of-order status updates', async () => {
    cluster = await startTestCluster();
    const adapter = cluster.adapter();
    await adapter.connect();
    cluster.master.faults.duplicateUpdates(20);
    cluster.master.faults.reorderUpdates(20);
    await adapter.submit([
      service('dup', 2),
      task('dup-done', { command: 'exit 0', restartPolicy: { policy: 'never' } }),
    ]);
    await allRunning(adapter, ['dup-0', 'dup-1']);
    const done = await waitUntil('dup-done to end', async () => {
      const [s] = await adapter.tasks({ ids: ['dup-done'] });
      return s && isTerminal(s.state) ? s : undefined;
    });
    expect(done.state).toBe('FINISHED');
    await new Promise((r) => setTimeout(r, 300)); // let late duplicates arrive
    await accountedOnce(cluster, ['dup-0', 'dup-1']);
    for (const id of ['dup-0', 'dup-1', 'dup-done']) expect(await cluster.probe.launchCount(id)).toBe(1);
    const [final] = await adapter.tasks({ ids: ['dup-done'] });
    expect(final?.state).toBe('FINISHED');
  });

  for (const when of ['before the ACCEPT left', 'after the ACCEPT was sent'] as const) {
    it(`a restarted Berth process neither loses nor repeats a launch cut off ${when}`, async () => {
      cluster = await startTestCluster();
      const stateFile = cluster.stateFile();
      const first = cluster.adapter({ stateFile });
      const { driver, store } = first.getClient();
      const accept = driver.accept.bind(driver);
      // The process "dies" mid-launch: the claim is on disk, the ACCEPT never (or only just) went out.
      driver.accept = (...args: Parameters<typeof driver.accept>) => {
        if (when === 'after the ACCEPT was sent') accept(...args).catch(() => {});
        return new Promise<void>(() => {});
      };
      await first.connect();
      const ids = ['crash-0', 'crash-1', 'crash-2'];
      await first.submit([service('crash', 3)]);
      await waitUntil(
        'the launches to be claimed',
        () => store.tasks({ phase: 'launching' }).length + store.tasks({ phase: 'launched' }).length === 3,
      );
      await first.close(); // no TEARDOWN: the framework and its tasks stay

      const second = cluster.adapter({ stateFile });
      await second.connect();
      await allRunning(second, ids);
      await accountedOnce(cluster, ids);
      for (const id of ids) expect(await cluster.probe.launchCount(id)).toBe(1);
      const frameworks = new Set(
        (await Promise.all(ids.map((id) => cluster!.probe.masterTasks(id)))).flat().map((t) => t.framework),
      );
      expect(frameworks.size).toBe(1); // re-subscribed as the same framework
    });
  }
});
