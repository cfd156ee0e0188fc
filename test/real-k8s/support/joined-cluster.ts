/**
 * Virtual-kubelet nodes joined to the real apiserver, run in a child process
 * (`joined-cluster-process.ts`), and a backend probe that asks the apiserver what reached it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { BackendProbe } from '@berth/adapter-testkit';
import type { PodRecord, ProbeReply, ProbeRequest } from './probe-protocol.ts';

export { POOL_LABEL, type PodRecord } from './probe-protocol.ts';

export interface JoinedCluster {
  /** Names of the Nodes the virtual kubelet registered. */
  readonly nodeNames: readonly string[];
  /** Value of `POOL_LABEL` on those nodes. */
  readonly pool: string;
  /** Every pod (by uid) the apiserver reported under `namespace/name`, and whether its process runs. */
  pod(namespace: string, name: string): Promise<{ pods: readonly PodRecord[]; running: boolean }>;
  /** launchCount = pods the real apiserver created under the task id; isRunning = its process runs. */
  readonly probe: BackendProbe;
  close(): Promise<void>;
}

type Request = ProbeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface JoinedClusterOptions {
  readonly kubeconfigPath: string;
  /** `POOL_LABEL` value of the nodes (default: a fresh `rk-<random>`); node names start with it. */
  readonly pool?: string;
  /** Where the probe looks for a task's pod (default `default`, the default tenant). */
  readonly namespace?: string;
}

/** A fresh pool name: node names and the pool label value of one joined cluster. */
export function newPoolName(): string {
  return `rk-${randomBytes(3).toString('hex')}`;
}

export async function startJoinedCluster(options: JoinedClusterOptions): Promise<JoinedCluster> {
  const pool = options.pool ?? newPoolName();
  const namespace = options.namespace ?? 'default';
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./joined-cluster-process.ts', import.meta.url)),
    [options.kubeconfigPath, pool, pool],
    {
      execArgv: ['--conditions=@berth/source', '--no-warnings'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const pending = new Map<number, (reply: ProbeReply) => void>();
  let next = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const nodeNames = await new Promise<readonly string[]>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the joined-cluster process exited with ${code} before it was ready`)),
    );
    child.on('message', (raw) => {
      const m = raw as ProbeReply;
      if ('ready' in m) resolve(m.ready);
      else {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      }
    });
  });
  const ask = (request: Request) =>
    new Promise<ProbeReply>((resolve, reject) => {
      if (exited) {
        reject(new Error('the joined-cluster process has exited'));
        return;
      }
      const id = ++next;
      pending.set(id, resolve);
      child.send({ ...request, id } as ProbeRequest);
    });
  const pod = async (ns: string, name: string) => {
    const reply = await ask({ op: 'pod', key: `${ns}/${name}` });
    if (!('pods' in reply)) throw new Error(`unexpected probe reply ${JSON.stringify(reply)}`);
    return { pods: reply.pods, running: reply.running };
  };
  return {
    nodeNames,
    pool,
    pod,
    probe: {
      launchCount: async (taskId) => (await pod(namespace, taskId)).pods.length,
      isRunning: async (taskId) => (await pod(namespace, taskId)).running,
    },
    async close() {
      if (exited) return;
      await ask({ op: 'close' }).catch(() => {});
      await exit;
    },
  };
}
