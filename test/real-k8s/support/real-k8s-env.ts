/**
 * Whether the real control plane is there: `BERTH_REAL_K8S_KUBECONFIG` names its kubeconfig
 * (`scripts/k8s-control-plane up` writes it). In CI with `BERTH_REAL_K8S=required` the suites run
 * even without it and fail, saying how to enable them.
 */
import { existsSync } from 'node:fs';

// Read once here; vitest runs at the root (not through turbo), so turbo.json need not list them.
const { BERTH_REAL_K8S_KUBECONFIG: kubeconfig, BERTH_REAL_K8S: mode, CI: ci } = process.env;

export const realKubeconfig: string | undefined = kubeconfig === '' ? undefined : kubeconfig;
export const realK8sRequired: boolean = ci !== undefined && mode === 'required';
export const realK8sEnabled: boolean = realKubeconfig !== undefined || realK8sRequired;

export const HOW_TO_ENABLE =
  'needs BERTH_REAL_K8S_KUBECONFIG; enable with: scripts/k8s-control-plane build && ' +
  'scripts/k8s-control-plane up --dir <run dir> && ' +
  'BERTH_REAL_K8S_KUBECONFIG=<run dir>/kubeconfig pnpm test';

/** The kubeconfig path, or an error that says how to get one. */
export function requireRealKubeconfig(): string {
  if (realKubeconfig === undefined) {
    throw new Error(
      `BERTH_REAL_K8S=required in CI, but BERTH_REAL_K8S_KUBECONFIG is unset. ${HOW_TO_ENABLE}`,
    );
  }
  if (!existsSync(realKubeconfig)) {
    throw new Error(
      `BERTH_REAL_K8S_KUBECONFIG=${realKubeconfig} does not exist; is the control plane up? ${HOW_TO_ENABLE}`,
    );
  }
  return realKubeconfig;
}
