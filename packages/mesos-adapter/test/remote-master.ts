/** The parent side of `master-process.ts`: start it, create adapters against it, ask its probe, stop it. */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendProbe } from '@berth/adapter-testkit';
import { createMesosAdapter, type MesosAdapter } from '../src/mesos-adapter.ts';

export interface RemoteMesosCluster {
  readonly url: string;
  readonly probe: BackendProbe;
  /** A new adapter (not connected) with the tests' timings and a fresh state file. */
  adapter(): MesosAdapter;
  close(): Promise<void>;
}

export async function startRemoteMesosCluster(): Promise<RemoteMesosCluster> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./master-process.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@berth/source', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (v: unknown) => void>();
  let next = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`master process exited with ${code}`)));
    child.on('message', (raw) => {
      const m = raw as { ready?: string; id?: number; value?: unknown };
      if (m.ready !== undefined) resolve(m.ready);
      else if (m.id !== undefined) {
        pending.get(m.id)?.(m.value);
        pending.delete(m.id);
      }
    });
  });
  const ask = <T>(op: string, taskId?: string) =>
    new Promise<T>((resolve) => {
      const id = ++next;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ id, op, taskId });
    });
  const dir = mkdtempSync(join(tmpdir(), 'berth-mesos-conformance-'));
  const adapters: MesosAdapter[] = [];
  let n = 0;
  return {
    url,
    probe: {
      launchCount: (taskId) => ask<number>('launchCount', taskId),
      isRunning: (taskId) => ask<boolean>('isRunning', taskId),
    },
    adapter() {
      const a = createMesosAdapter({
        masters: [url],
        framework: {
          name: 'berth-test',
          user: 'root',
          roles: ['default'],
          failoverTimeoutSeconds: 60,
          checkpoint: true,
        },
        stateFile: join(dir, `state-${++n}.sqlite`),
        refuseSeconds: 1,
        backoff: { initialMs: 20, maxMs: 200 },
        logPollIntervalMs: 50,
      });
      adapters.push(a);
      return a;
    },
    async close() {
      for (const a of adapters) await a.close().catch(() => {});
      const exited = new Promise((r) => child.once('exit', r));
      await ask('close');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
