/**
 * The backends `berth` ships with. Each factory imports its adapter package only when a context
 * of that backend is used, so `berth --help` and `berth config …` never load them.
 */
import type { KubernetesContext, MesosContext } from '../config/config-file.ts';
import type { BackendRegistry } from './registry.ts';

/** Registers the mesos and kubernetes factories on `registry` unless something else did first. */
export function registerBuiltinBackends(registry: BackendRegistry, cwd: string): void {
  if (!registry.has('mesos')) {
    registry.register('mesos', async (input) => {
      const { createMesosCliAdapter } = await import('./mesos.ts');
      return createMesosCliAdapter({ ...input, context: input.context as MesosContext });
    });
  }
  if (!registry.has('kubernetes')) {
    registry.register('kubernetes', async (input) => {
      const { createK8sCliAdapter } = await import('./kubernetes.ts');
      return createK8sCliAdapter({ ...input, context: input.context as KubernetesContext }, cwd);
    });
  }
}
