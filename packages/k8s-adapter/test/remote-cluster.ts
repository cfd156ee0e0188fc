/** The parent side of `cluster-process.ts`: start it, ask its probe, stop it. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendProbe } from '@berth/adapter-testkit';
import { KubeConfig } from '@kubernetes/client-node';

export interface RemoteKubeCluster {
  readonly kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  readonly probe: BackendProbe;
  close(): Promise<void>;
}

export async function startRemoteKubeCluster(): Promise<RemoteKubeCluster> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./cluster-process.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@berth/source', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (v: unknown) => void>();
  let next = 0;
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cluster process exited with ${code}`)));
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
  return {
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    probe: {
      launchCount: (taskId) => ask<number>('launchCount', taskId),
      isRunning: (taskId) => ask<boolean>('isRunning', taskId),
    },
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      await ask('close');
      await exited;
    },
  };
}
