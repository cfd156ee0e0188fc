export {
  BACKEND_PACKAGES,
  type BackendFactory,
  type BackendFactoryInput,
  BackendRegistry,
  type CliAdapterExtensions,
  type CliClusterAdapter,
  defaultBackends,
  type JobSummary,
  registerBackend,
} from './backends/registry.ts';
export {
  BACKENDS,
  type Backend,
  type BerthConfig,
  type ContextConfig,
  configPath,
  type KubernetesContext,
  type KubernetesMode,
  loadConfig,
  type MesosContext,
  type SecretRef,
} from './config/config-file.ts';
export type { ProgramIO } from './io.ts';
export { createProgram, runCli } from './program.ts';
export {
  parseSnapshotDocument,
  type SnapshotDocument,
  snapshotDocument,
  toPlacementSnapshot,
} from './snapshot-file.ts';
