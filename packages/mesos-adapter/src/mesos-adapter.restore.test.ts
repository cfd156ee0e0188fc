/**
 * A fresh adapter on the same state file (a new `berth` process) against devcluster's Mesos face:
 * what it rebuilds from the store and the master must match what the first process saw.
 */
import type { TaskStatus } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MesosTestCluster, startTestCluster } from '../test/devcluster-fixture.ts';
import { task, until } from '../test/task-docs.ts';

let cluster: MesosTestCluster;
let before: Map<string, TaskStatus>;
let after: Map<string, TaskStatus>;
let restoredLogs: string[];
let secondAt: number;
const GAP_MS = 2500;
// The first process stamps an update when it handles it, the master when it sends it: on a loaded
// machine these differ by some hundreds of ms, far less than the gap between the two processes.
const SLACK_MS = 1500;

beforeAll(async () => {
  cluster = await startTestCluster();
  const stateFile = cluster.stateFile();
  const first = cluster.adapter({ stateFile });
  await first.connect();
  await first.submit([
    task('said', { command: 'echo "hello from berth"; echo oops >&2' }),
    task('served', {
      ports: [
        { name: 'http', protocol: 'tcp' },
        { name: 'admin', protocol: 'tcp' },
      ],
    }),
  ]);
  before = await until(async () => {
    const list = await first.tasks({ ids: ['said', 'served'] });
    const m = new Map(list.map((s) => [s.taskId, s]));
    return m.get('said')?.state === 'FINISHED' && m.get('served')?.state === 'RUNNING' ? m : undefined;
  });
  await first.close(); // no TEARDOWN: the framework and its tasks stay
  // Time passes between the two processes: restored ages must not restart from "now".
  await new Promise((r) => setTimeout(r, GAP_MS));
  secondAt = Date.now();
  const second = cluster.adapter({ stateFile });
  await second.connect();
  after = new Map((await second.tasks({ ids: ['said', 'served'] })).map((s) => [s.taskId, s]));
  restoredLogs = [];
  try {
    for await (const l of second.logs('said')) restoredLogs.push(`${l.stream}:${l.line}`);
  } catch (err) {
    restoredLogs.push(`error:${(err as Error).message}`);
  }
  await second.close();
}, 30_000);
afterAll(async () => {
  await cluster.close();
});

describe('a fresh adapter on the same state file', () => {
  it("reads a task's sandbox logs through the agent's pid address, not its unresolvable hostname", () => {
    expect(after.get('said')?.hostname).toMatch(/^node-\d+$/);
    expect(restoredLogs).toContain('stdout:hello from berth');
    expect(restoredLogs).toContain('stderr:oops');
  });

  it('restores the named ports of a running task', () => {
    const ports = before.get('served')?.ports;
    expect(Object.keys(ports ?? {}).sort()).toEqual(['admin', 'http']);
    expect(after.get('served')?.ports).toEqual(ports);
  });

  it('keeps the created, started and finished times the first process recorded', () => {
    for (const id of ['said', 'served']) {
      const b = before.get(id)!.timestamps;
      const a = after.get(id)!.timestamps;
      expect(a.created).toBe(b.created);
      expect(Math.abs((a.started ?? Number.NaN) - (b.started ?? Number.NaN))).toBeLessThan(SLACK_MS);
      expect(a.started).toBeLessThan(secondAt - GAP_MS + SLACK_MS);
    }
    const fb = before.get('said')!.timestamps.finished!;
    const fa = after.get('said')!.timestamps.finished!;
    expect(Math.abs(fa - fb)).toBeLessThan(SLACK_MS);
    expect(fa).toBeLessThan(secondAt - GAP_MS + SLACK_MS);
  });
});
