/**
 * `berth devcluster up`: devcluster's whole cluster (`startDevcluster` from `@berth/devcluster`:
 * engine, Mesos face, Kubernetes face with its controllers, virtual kubelet) plus a Berth scheduler
 * binding the pods that ask for `schedulerName: berth`, which is how the CLI's `devcluster-k8s`
 * context runs. The ports are checked first so a busy one names the CLI flag that changes it.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BerthError, type BerthErrorCode } from '@berth/core';
import {
  type Devcluster,
  type Engine,
  type EnginePreset,
  type KubeCluster,
  type MesosMaster,
  startDevcluster as startWholeDevcluster,
  type VirtualKubelet,
} from '@berth/devcluster';
import { type BerthScheduler, startBerthScheduler } from '@berth/k8s-adapter';
import { KubeConfig } from '@kubernetes/client-node';

export const DEVCLUSTER_PRESETS = ['laptop', 'rack', 'large'] as const satisfies readonly EnginePreset[];

export interface DevclusterOptions {
  readonly preset: EnginePreset;
  /** Mesos face port (0: ephemeral). */
  readonly mesosPort: number;
  /** Kubernetes face port (0: ephemeral). */
  readonly kubePort: number;
  /** Sandboxes (`engine/`) and the Kubernetes face's state and kubeconfig (`kube/`). */
  readonly stateDir: string;
  readonly host?: string;
}

export interface RunningDevcluster extends AsyncDisposable {
  readonly engine: Engine;
  readonly mesos: MesosMaster;
  readonly kube: KubeCluster;
  readonly kubelet: VirtualKubelet;
  readonly scheduler: BerthScheduler;
  /** The kubeconfig written under the state dir (context `devcluster`). */
  readonly kubeconfigPath: string;
  /** Stops everything; every task process is gone when it resolves. */
  stop(): Promise<void>;
}

/** Throws CONFLICT naming the port and the flag that changes it when `port` is taken. */
export async function checkPortFree(host: string, port: number, what: string, flag: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const code: BerthErrorCode = 'CONFLICT';
      reject(
        new BerthError(
          code,
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} (the ${what}) is already in use`
            : `cannot listen on ${host}:${port} for the ${what}: ${err.message}`,
          {
            component: 'cli',
            cause: err,
            hint: `Stop whatever listens on ${port} (is a devcluster already up? berth devcluster status), or pick another port with ${flag} PORT (${flag} 0 picks a free one).`,
            details: { port, flag },
          },
        ),
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

export async function startDevcluster(options: DevclusterOptions): Promise<RunningDevcluster> {
  const host = options.host ?? '127.0.0.1';
  await checkPortFree(host, options.mesosPort, 'Mesos face', '--mesos-port');
  await checkPortFree(host, options.kubePort, 'Kubernetes face', '--kube-port');
  const dc: Devcluster = await startWholeDevcluster({
    preset: options.preset,
    host,
    mesosPort: options.mesosPort,
    kubePort: options.kubePort,
    stateDir: options.stateDir,
  });
  // Users find the kubeconfig at STATE_DIR/kubeconfig (`berth devcluster kubeconfig` prints it).
  const kubeconfigPath = join(options.stateDir, 'kubeconfig');
  let scheduler: BerthScheduler;
  try {
    await dc.kube.writeKubeconfig(kubeconfigPath);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    scheduler = await startBerthScheduler({ kubeConfig, leaderElection: false });
  } catch (err) {
    await dc.close().catch(() => {});
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await scheduler.close().catch(() => {});
      await dc.close();
    })();
    return stopping;
  };
  return {
    engine: dc.engine,
    mesos: dc.mesos,
    kube: dc.kube,
    kubelet: dc.kubelet,
    scheduler,
    kubeconfigPath,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
