/**
 * How a backend plugs into the CLI: its adapter package registers one factory per backend
 * (`registerBackend('mesos', createMesosCliAdapter)`), and every command that needs a cluster
 * gets its `ClusterAdapter` from the factory of the current context's backend.
 */
import { BerthError, type ClusterAdapter, type ClusterEvent, type TaskStatus } from '@berth/core';
import type { Backend, ContextConfig } from '../config/config-file.ts';

/** What a factory receives: the validated context and its secret, read from the file or env it names. */
export interface BackendFactoryInput {
  readonly contextName: string;
  readonly context: ContextConfig;
  /** The secret's value (never printed, never stored by the CLI); absent when the context has none. */
  readonly secret?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A job as an adapter may report it (optional: the CLI derives jobs from task ids otherwise). */
export interface JobSummary {
  readonly name: string;
  readonly completions: number;
  readonly parallelism: number;
  readonly tasks: readonly TaskStatus[];
}

/**
 * Optional methods an adapter may add for the CLI. None is needed; each makes a command better:
 * `serverVersion` for `berth version`, `jobs` for `berth get jobs` (else derived from task ids),
 * `recentEvents` for `berth events` without `-w` (else the events seen while listening).
 */
export interface CliAdapterExtensions {
  serverVersion?(): Promise<string>;
  jobs?(): Promise<JobSummary[]>;
  recentEvents?(): Promise<ClusterEvent[]>;
}

export type CliClusterAdapter = ClusterAdapter & CliAdapterExtensions;

export type BackendFactory = (input: BackendFactoryInput) => CliClusterAdapter | Promise<CliClusterAdapter>;

/** The package that provides each backend's factory, for the error when none is registered. */
export const BACKEND_PACKAGES: Readonly<Record<Backend, string>> = {
  mesos: '@berth/mesos-adapter',
  kubernetes: '@berth/k8s-adapter',
};

export class BackendRegistry {
  readonly #factories = new Map<string, BackendFactory>();

  /** Registers (or replaces) the factory of `backend`; returns a function that removes it. */
  register(backend: Backend, factory: BackendFactory): () => void {
    this.#factories.set(backend, factory);
    return () => {
      if (this.#factories.get(backend) === factory) this.#factories.delete(backend);
    };
  }

  has(backend: Backend): boolean {
    return this.#factories.has(backend);
  }

  /** The factory of `backend`; UNSUPPORTED naming the package that provides it when none is registered. */
  get(backend: Backend, contextName: string): BackendFactory {
    const f = this.#factories.get(backend);
    if (f !== undefined) return f;
    const pkg = BACKEND_PACKAGES[backend];
    throw new BerthError(
      'UNSUPPORTED',
      `context ${contextName} uses the ${backend} backend, but no ${backend} adapter is installed in this berth`,
      {
        component: 'cli',
        hint: `The ${backend} backend is provided by ${pkg}: install it next to @berth/cli and register it with registerBackend('${backend}', …).`,
        details: { backend, package: pkg, context: contextName },
      },
    );
  }
}

/** The process-wide registry `berth` uses unless a test passes its own. */
export const defaultBackends: BackendRegistry = new BackendRegistry();

/** Plugs a backend into the `berth` command (process-wide). */
export function registerBackend(backend: Backend, factory: BackendFactory): () => void {
  return defaultBackends.register(backend, factory);
}
