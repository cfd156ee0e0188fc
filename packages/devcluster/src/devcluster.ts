/**
 * The whole devcluster in one call: the engine, the Mesos face, the Kubernetes face and the
 * virtual kubelet joined to it, with `pods/log` and metrics.k8s.io wired to the kubelet. This is
 * what the quick start runs; `close()` stops all of it and leaves no task process behind.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BerthError } from '@berth/core';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type Engine,
  type EnginePreset,
  presetGroups,
  startEngine,
  type TaskLaunch,
} from './engine/index.ts';
import { type ControllerName, type KubeCluster, startKubeCluster } from './kube-controllers/index.ts';
import { startVirtualKubelet, type VirtualKubelet } from './kubelet/index.ts';
import { type MesosMaster, startMesosMaster } from './mesos/index.ts';

const COMPONENT = 'devcluster';
const PRESETS: readonly EnginePreset[] = ['laptop', 'rack', 'large'];
/** The Kubernetes face's port when none is given and it is free (kube-apiserver's secure port). */
export const DEFAULT_KUBE_PORT = 6443;
/** The Mesos face's default port (a Mesos master's). */
export const DEFAULT_MESOS_PORT = 5050;

export interface DevclusterOptions {
  /** Engine nodes (default `laptop`: 3 nodes splitting this machine). */
  readonly preset?: EnginePreset;
  /** Bind address of every listener (default `127.0.0.1`). */
  readonly host?: string;
  /** Mesos face port (default 5050; 0 picks a free one). A busy port is an error. */
  readonly mesosPort?: number;
  /**
   * Kubernetes face port. Default: 6443 when it is free, else a free one. An explicit port that is
   * busy is an error; 0 picks a free one.
   */
  readonly kubePort?: number;
  /**
   * Where the engine's sandboxes (`engine/`), the Kubernetes face's objects and kubeconfig
   * (`kube/`) go. Default: a new temporary directory, removed by `close()`.
   */
  readonly stateDir?: string;
  /**
   * First host port handed to tasks: node group i gets `taskPorts + 1000·i` to `… + 999` (default:
   * the preset's, 31000 for the laptop nodes). Move it when another devcluster on this machine
   * already hands out those ports to processes that listen on them.
   */
  readonly taskPorts?: number;
  /**
   * Run tasks that have a command as real processes (default true). With false every task and
   * container runs simulated: no process is started, whatever the spec says.
   */
  readonly processes?: boolean;
  /**
   * Run the control plane's controllers on the Kubernetes face (default true): the default
   * scheduler, node lifecycle, Deployment, ReplicaSet, Job, EndpointSlice, garbage collector, HPA.
   */
  readonly controllers?: boolean;
  /** Progress lines while starting (`engine: 3 nodes`, `mesos: http://…`, …). */
  readonly onProgress?: (line: string) => void;
}

export interface Devcluster extends AsyncDisposable {
  readonly engine: Engine;
  /** The Mesos master (`mesos.url`, `mesos.agentUrl(node)`, fault injection). */
  readonly mesos: MesosMaster;
  /** The Kubernetes face (`kube.url`, `kube.kubeconfigPath`, the in-process `kube.store`, `kube.controllers`). */
  readonly kube: KubeCluster;
  /** The virtual kubelet that registered the engine's nodes with the Kubernetes face. */
  readonly kubelet: VirtualKubelet;
  /** The kubeconfig of the Kubernetes face (context `devcluster`), e.g. for `kubectl --kubeconfig`. */
  readonly kubeconfigPath: string;
  /** The Kubernetes controllers started on the face (none with `controllers: false`). */
  readonly controllers: readonly ControllerName[];
  readonly stateDir: string;
  /** Stops the kubelet, both faces and the engine; every task process is gone when it resolves. */
  close(): Promise<void>;
}

function invalid(option: string, message: string, hint: string): BerthError {
  return new BerthError('SPEC_INVALID', `startDevcluster: \`${option}\` ${message}`, {
    component: COMPONENT,
    issues: [{ path: option, message }],
    hint,
  });
}

function checkPort(option: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalid(
      option,
      `is ${JSON.stringify(value)}: expected an integer from 0 to 65535`,
      `Pass ${option}: 0 for a free port.`,
    );
  }
}

/** Whether `host:port` can be listened on right now (the probe socket is closed again). */
export async function isPortFree(host: string, port: number): Promise<boolean> {
  return await new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(true)));
  });
}

function portBusy(option: string, what: string, host: string, port: number): BerthError {
  return new BerthError('CONFLICT', `port ${port} on ${host} (the ${what}) is already in use`, {
    component: COMPONENT,
    issues: [{ path: option, message: `port ${port} is in use` }],
    details: { option, port, host },
    hint: `Stop what listens on ${host}:${port} (another devcluster or quick start?), or choose another port with ${option} (0 picks a free one).`,
  });
}

/** The engine as the Mesos face sees it when `processes` is off: every launch runs simulated. */
function simulatedLaunches(engine: Engine): Engine {
  return new Proxy(engine, {
    get(target, key) {
      if (key === 'launch') {
        return (launch: TaskLaunch) => target.launch({ ...launch, mode: 'simulated' });
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Starts the engine, the Mesos face, the Kubernetes face and the virtual kubelet. Ports are checked
 * before anything starts, and a failure part-way stops what already started.
 */
export async function startDevcluster(options: DevclusterOptions = {}): Promise<Devcluster> {
  const preset = options.preset ?? 'laptop';
  if (!PRESETS.includes(preset)) {
    throw invalid(
      'preset',
      `is ${JSON.stringify(preset)}: expected one of ${PRESETS.join(', ')}`,
      'Leave preset out for `laptop`.',
    );
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '') {
    throw invalid('host', 'must be a non-empty address', 'Leave host out for 127.0.0.1.');
  }
  checkPort('mesosPort', options.mesosPort);
  checkPort('kubePort', options.kubePort);
  const taskPorts = options.taskPorts;
  if (taskPorts !== undefined && (!Number.isInteger(taskPorts) || taskPorts < 1024 || taskPorts > 64535)) {
    throw invalid(
      'taskPorts',
      `is ${JSON.stringify(taskPorts)}: expected an integer from 1024 to 64535`,
      'Leave taskPorts out for the preset’s ranges (31000 up).',
    );
  }
  const progress = options.onProgress ?? (() => {});
  const processes = options.processes ?? true;

  const mesosPort = options.mesosPort ?? DEFAULT_MESOS_PORT;
  if (mesosPort !== 0 && !(await isPortFree(host, mesosPort))) {
    throw portBusy('mesosPort', 'Mesos face', host, mesosPort);
  }
  let kubePort = options.kubePort;
  if (kubePort === undefined) {
    kubePort = (await isPortFree(host, DEFAULT_KUBE_PORT)) ? DEFAULT_KUBE_PORT : 0;
  } else if (kubePort !== 0 && !(await isPortFree(host, kubePort))) {
    throw portBusy('kubePort', 'Kubernetes face', host, kubePort);
  }
  if (mesosPort !== 0 && mesosPort === kubePort) {
    throw invalid('kubePort', `is ${kubePort}, the same as mesosPort`, 'Give the two faces different ports.');
  }

  const ownsStateDir = options.stateDir === undefined;
  const stateDir =
    options.stateDir === undefined
      ? await mkdtemp(join(tmpdir(), 'berth-devcluster-'))
      : resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });

  const stops: (() => Promise<unknown>)[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const errors: unknown[] = [];
      for (const stop of stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (error) {
          errors.push(error);
        }
      }
      if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
      if (errors.length > 0) {
        throw new BerthError('INTERNAL', `devcluster did not stop cleanly: ${String(errors[0])}`, {
          component: COMPONENT,
          cause: errors[0],
        });
      }
    })();
    return closing;
  };

  try {
    const engine = await startEngine({
      stateDir: join(stateDir, 'engine'),
      ...(taskPorts === undefined
        ? { preset }
        : {
            nodes: presetGroups(preset).map((group, i) => ({
              ...group,
              ports: { begin: taskPorts + 1000 * i, end: Math.min(65535, taskPorts + 1000 * i + 999) },
            })),
          }),
    });
    stops.push(() => engine.stop());
    progress(
      `engine: ${engine.nodes().length} nodes (${preset} preset)${processes ? '' : ', simulated tasks'}`,
    );

    const mesos = await startMesosMaster({
      engine: processes ? engine : simulatedLaunches(engine),
      host,
      port: mesosPort,
    });
    stops.push(() => mesos.close());
    progress(`mesos: master on ${mesos.url}`);

    let kubelet: VirtualKubelet | undefined;
    const kube = await startKubeCluster({
      controllers: (options.controllers ?? true) ? {} : false,
      host,
      port: kubePort,
      stateDir: join(stateDir, 'kube'),
      // The kubelet confirms graceful deletions, as on a real cluster.
      podTerminationMs: null,
      podLogs: (request) => {
        if (kubelet === undefined) {
          throw new BerthError('BACKEND_UNAVAILABLE', 'the virtual kubelet is not running', {
            component: COMPONENT,
          });
        }
        return kubelet.podLogs(request);
      },
      metrics: () => kubelet?.metrics() ?? { nodes: [], pods: [] },
    });
    stops.push(() => kube.close());
    const controllers = kube.controllers?.running() ?? [];
    progress(
      `kubernetes: API server on ${kube.url}${controllers.length > 0 ? ` with ${controllers.join(', ')}` : ''}`,
    );

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kube.kubeconfigPath);
    const joined = await startVirtualKubelet({
      kubeConfig,
      engine,
      host,
      simulated: !processes,
      // Failed API calls are expected only while everything shuts down.
      onError: (error) => {
        if (closing === undefined) {
          process.emitWarning(error instanceof Error ? error.message : String(error), 'BerthVirtualKubelet');
        }
      },
    });
    kubelet = joined;
    stops.push(() => joined.close({ deleteNodes: true }));
    progress(`kubernetes: virtual kubelet joined ${joined.nodeNames.length} nodes`);

    return {
      engine,
      mesos,
      kube,
      kubelet: joined,
      kubeconfigPath: kube.kubeconfigPath,
      controllers,
      stateDir,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
