/**
 * `startKubeCluster`: devcluster's Kubernetes face with its controllers running — what a real
 * control plane is (apiserver + scheduler + controller-manager) in one call. Pass
 * `controllers: false` for the bare API server.
 */
import { type KubeApiServer, type KubeApiServerOptions, startKubeApiServer } from '../kube/api-server.ts';
import {
  type KubeControllers,
  type KubeControllersOptions,
  startKubeControllers,
} from './kube-controllers.ts';

export interface KubeClusterOptions extends KubeApiServerOptions {
  /** Controller options (the HPA gets the face's `metrics` unless given its own), or false for none. */
  readonly controllers?: false | Omit<KubeControllersOptions, 'store' | 'apiServer'>;
}

export interface KubeCluster extends KubeApiServer, AsyncDisposable {
  /** Undefined when started with `controllers: false`. */
  readonly controllers: KubeControllers | undefined;
}

export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const { controllers: controllerOptions, ...serverOptions } = options;
  const server = await startKubeApiServer(serverOptions);
  let controllers: KubeControllers | undefined;
  if (controllerOptions !== false) {
    try {
      const hpa = controllerOptions?.hpa ?? {};
      controllers = startKubeControllers({
        ...controllerOptions,
        store: server.store,
        hpa:
          hpa.metrics === undefined && options.metrics !== undefined
            ? { ...hpa, metrics: options.metrics }
            : hpa,
      });
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const close = async () => {
    await controllers?.close();
    await server.close();
  };
  return {
    url: server.url,
    caPem: server.caPem,
    token: server.token,
    kubeconfigPath: server.kubeconfigPath,
    writeKubeconfig: (path) => server.writeKubeconfig(path),
    store: server.store,
    expireWatches: () => server.expireWatches(),
    controllers,
    close,
    [Symbol.asyncDispose]: close,
  };
}
