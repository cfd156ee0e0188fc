/**
 * The `kubernetes` backend of the CLI: a context becomes a `createK8sAdapter` over its kubeconfig
 * (file, context, mode). The context's namespace is the default tenant: documents left in the
 * `default` tenant go to it, and task lists show only it unless a filter names another.
 */
import { type BerthDocument, BerthError, type ClusterAdapter, toBerthError } from '@berth/core';
import { createK8sAdapter, type K8sAdapter, type K8sAdapterOptions } from '@berth/k8s-adapter';
import type { KubernetesContext } from '../config/config-file.ts';
import { bufferEvents } from './event-buffer.ts';
import type { BackendFactoryInput, CliClusterAdapter } from './registry.ts';

export interface K8sCliTimings {
  /** Longest wait for the informers' first lists (default 20 s). */
  readonly connectTimeoutMs?: number;
}

/** The adapter options a Kubernetes context stands for. */
export function k8sAdapterOptions(
  input: BackendFactoryInput & { context: KubernetesContext },
  cwd: string,
): K8sAdapterOptions {
  const { context, env } = input;
  const path = context.kubeconfig ?? firstKubeconfig(env.KUBECONFIG);
  return {
    mode: context.mode,
    ...(path === undefined ? {} : { kubeconfigPath: expandHome(path, env, cwd) }),
    ...(context.context === undefined ? {} : { context: context.context }),
  };
}

function firstKubeconfig(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  return value.split(':').find((p) => p !== '');
}

function expandHome(path: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  if (path.startsWith('~/')) return `${env.HOME ?? ''}${path.slice(1)}`;
  return path.startsWith('/') ? path : `${cwd}/${path}`;
}

const stripPrefix = (m: string) => m.replace(/^\[berth\] (\[[^\]]+\] )?/, '');

export function createK8sCliAdapter(
  input: BackendFactoryInput & { context: KubernetesContext },
  cwd: string,
  timings: K8sCliTimings = {},
): CliClusterAdapter {
  const inner: K8sAdapter = createK8sAdapter(k8sAdapterOptions(input, cwd));
  const { client } = inner.getClient();
  const buffered = bufferEvents(inner);
  const namespace = input.context.namespace;
  const connectTimeoutMs = timings.connectTimeoutMs ?? 20_000;
  let version: string | undefined;

  const failure = (err: unknown): BerthError => {
    const e = toBerthError(err, 'cli');
    if (e.code === 'BACKEND_UNAVAILABLE') {
      return new BerthError(
        'BACKEND_UNAVAILABLE',
        `cannot reach the Kubernetes API server of context ${input.contextName} (tried ${client.server}): ${stripPrefix(e.message)}`,
        {
          component: 'cli',
          cause: err,
          hint: `Check that the cluster runs (berth devcluster status for the devcluster) and that the kubeconfig of context ${input.contextName} points at it.`,
          details: { server: client.server, context: input.contextName },
        },
      );
    }
    if (e.code === 'AUTH_FAILED') {
      return new BerthError(
        'AUTH_FAILED',
        `the Kubernetes API server ${client.server} rejected the credentials of context ${input.contextName}`,
        {
          component: 'cli',
          cause: err,
          hint: 'Refresh the kubeconfig credentials (for the devcluster: berth devcluster kubeconfig).',
        },
      );
    }
    return e;
  };

  const withNamespace = (docs: readonly BerthDocument[]): BerthDocument[] =>
    namespace === undefined
      ? [...docs]
      : docs.map((d) =>
          d.metadata.tenant === 'default'
            ? ({ ...d, metadata: { ...d.metadata, tenant: namespace } } as BerthDocument)
            : d,
        );

  const adapter: CliClusterAdapter = {
    name: inner.name,
    backend: inner.backend,
    capabilities: inner.capabilities,

    async connect(options) {
      try {
        const v = await client.request<{ gitVersion?: string }>('GET', '/version');
        version = v.gitVersion;
      } catch (err) {
        throw failure(err);
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new BerthError('BACKEND_UNAVAILABLE', `no answer within ${connectTimeoutMs / 1000}s`, {
                component: 'cli',
              }),
            ),
          connectTimeoutMs,
        );
      });
      try {
        await Promise.race([inner.connect(options), deadline]);
      } catch (err) {
        await inner.close().catch(() => {});
        throw failure(err);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => inner.close(),
    async [Symbol.asyncDispose]() {
      await inner.close();
    },

    snapshot: () => inner.snapshot(),
    watchNodes: (o) => inner.watchNodes(o),
    submit: (docs) => inner.submit(withNamespace(docs)),
    kill: (id, o) => inner.kill(id, o),
    tasks: (f) =>
      inner.tasks(namespace === undefined || f?.tenant !== undefined ? f : { ...f, tenant: namespace }),
    watchTasks: (o) =>
      inner.watchTasks(
        namespace === undefined || o?.filter?.tenant !== undefined
          ? o
          : { ...o, filter: { ...o?.filter, tenant: namespace } },
      ),
    scale: (service, n) => inner.scale(service, n),
    endpoints: (service) => inner.endpoints(service),
    logs: (id, o) => inner.logs(id, o),
    events: (o) => buffered.events(o),

    async serverVersion() {
      return `Kubernetes ${version ?? (await client.request<{ gitVersion?: string }>('GET', '/version')).gitVersion ?? 'unknown'}`;
    },
  };
  return adapter satisfies ClusterAdapter;
}
