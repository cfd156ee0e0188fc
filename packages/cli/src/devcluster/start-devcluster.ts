/**
 * devcluster's two faces over one engine, as `berth devcluster up` runs them: the Mesos master, the
 * Kubernetes API server with the virtual kubelet joining the engine's nodes, and a Berth scheduler
 * binding pods that ask for `schedulerName: berth` (devcluster has no kube-scheduler).
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BerthError, type BerthErrorCode } from '@berth/core';
import {
  type Engine,
  type EnginePreset,
  type KubeApiServer,
  type MesosMaster,
  startEngine,
  startKubeApiServer,
  startKubeControllers,
  startMesosMaster,
  startVirtualKubelet,
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
  /** Sandboxes (`engine/`), the Kubernetes face's state (`kube/`) and the `kubeconfig`. */
  readonly stateDir: string;
  readonly host?: string;
  /** Mesos face: require HTTP basic authentication with these credentials. */
  readonly authenticate?: readonly { principal: string; secret: string }[];
}

export interface RunningDevcluster extends AsyncDisposable {
  readonly engine: Engine;
  readonly mesos: MesosMaster;
  readonly kube: KubeApiServer;
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
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const engine = await startEngine({ preset: options.preset, stateDir: join(options.stateDir, 'engine') });
    stops.push(() => engine.stop());
    const mesos = await startMesosMaster({
      engine,
      host,
      port: options.mesosPort,
      ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    });
    stops.push(() => mesos.close());
    let kubelet: VirtualKubelet | undefined;
    const kube = await startKubeApiServer({
      host,
      port: options.kubePort,
      stateDir: join(options.stateDir, 'kube'),
      // The kubelet confirms graceful deletions, as on a real cluster.
      podTerminationMs: null,
      podLogs: (req) => {
        if (kubelet === undefined) throw new Error('the virtual kubelet is not running');
        return kubelet.podLogs(req);
      },
      metrics: () => kubelet?.metrics() ?? { nodes: [], pods: [] },
    });
    stops.push(() => kube.close());
    const kubeconfigPath = join(options.stateDir, 'kubeconfig');
    await kube.writeKubeconfig(kubeconfigPath);
    const kubeConfig = () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };
    // Deployments → ReplicaSets → pods, Jobs, endpoints and garbage collection, as a control plane
    // does; pods in Berth scheduler mode are bound by the Berth scheduler below.
    const controllers = await startKubeControllers({
      apiServer: kube,
      controllers: ['deployment', 'replicaset', 'job', 'endpoints', 'garbage-collector', 'node-lifecycle'],
      onError: () => {},
    });
    stops.push(async () => {
      await controllers[Symbol.asyncDispose]();
    });
    const joined = await startVirtualKubelet({ kubeConfig: kubeConfig(), engine, host, onError: () => {} });
    kubelet = joined;
    stops.push(() => joined.close({ deleteNodes: true }));
    const scheduler = await startBerthScheduler({ kubeConfig: kubeConfig(), leaderElection: false });
    stops.push(() => scheduler.close());
    return {
      engine,
      mesos,
      kube,
      kubelet: joined,
      scheduler,
      kubeconfigPath,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
