/** The parent side of `cluster-process.ts`: start it, ask its probe, stop it. */
import { type BackendProbe, startChildFixture } from '@berth/adapter-testkit';
import { KubeConfig } from '@kubernetes/client-node';

export interface RemoteKubeCluster {
  readonly kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  readonly probe: BackendProbe;
  close(): Promise<void>;
}

export async function startRemoteKubeCluster(): Promise<RemoteKubeCluster> {
  const child = await startChildFixture(new URL('./cluster-process.ts', import.meta.url));
  const kubeconfigPath = child.ready;
  return {
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    probe: child.probe,
    close: () => child.close(),
  };
}
