/**
 * The `mesos` backend of the CLI: a context becomes a `createMesosAdapter` framework. Each `berth`
 * process is a short-lived connection of one long-lived framework (its id and tasks are kept in
 * `$XDG_STATE_HOME/berth/mesos/<context>.sqlite`, with a week's failover timeout), so this wrapper
 * adds what a short-lived process needs: a fast reachability check naming the URL, a bounded
 * connect, a wait for the master's reconciliation answers before reading task states, and on
 * close a hand-off wait until every submitted task has been launched on an offer.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import {
  BerthError,
  type ClusterAdapter,
  isBerthError,
  isTerminal,
  type TaskStatus,
  toBerthError,
} from '@berth/core';
import { createMesosAdapter, type MesosAdapter, type MesosAdapterOptions } from '@berth/mesos-adapter';
import type { MesosContext } from '../config/config-file.ts';
import { bufferEvents } from './event-buffer.ts';
import type { BackendFactoryInput, CliClusterAdapter } from './registry.ts';

/** A week: tasks keep running while no `berth` process is connected. */
export const CLI_FAILOVER_TIMEOUT_SECONDS = 7 * 24 * 3600;

export interface MesosCliTimings {
  /** Longest wait for SUBSCRIBED after the master answered (default 15 s). */
  readonly connectTimeoutMs?: number;
  /** Longest wait for reconciliation answers after connecting (default 3 s). */
  readonly reconcileWaitMs?: number;
  /** Longest wait, on close, for submitted tasks still waiting for an offer (default 15 s). */
  readonly handoffTimeoutMs?: number;
}

/** Where a context's framework state lives: `$XDG_STATE_HOME/berth/mesos/<context>.sqlite`. */
export function mesosStateFile(
  contextName: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return join(stateHome(env), 'berth', 'mesos', `${contextName.replace(/[^A-Za-z0-9._-]/g, '_')}.sqlite`);
}

export function stateHome(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_STATE_HOME;
  if (xdg?.startsWith('/')) return xdg;
  return join(env.HOME ?? userInfo().homedir, '.local', 'state');
}

function osUser(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'root';
  }
}

/** The adapter options a Mesos context stands for. */
export function mesosAdapterOptions(
  input: BackendFactoryInput & { context: MesosContext },
): MesosAdapterOptions {
  const { context, contextName, secret, env } = input;
  return {
    masters: context.masters,
    framework: {
      name: 'berth',
      user: osUser(env),
      roles: [context.role ?? '*'],
      ...(context.principal === undefined ? {} : { principal: context.principal }),
      failoverTimeoutSeconds: CLI_FAILOVER_TIMEOUT_SECONDS,
      checkpoint: true,
    },
    ...(context.principal !== undefined && secret !== undefined
      ? { auth: { type: 'basic' as const, principal: context.principal, secret } }
      : {}),
    stateFile: mesosStateFile(contextName, env),
    // One process per command: reconcile right after subscribing, no periodic round.
    reconcileIntervalSeconds: 0,
  };
}

const WAITING_FOR_OFFER = new Set(['WaitingForOffers', 'LaunchDropped']);
const waitingForOffer = (s: TaskStatus) => s.state === 'PENDING' && WAITING_FOR_OFFER.has(s.reason ?? '');

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function unreachable(context: MesosContext, contextName: string, cause: unknown): BerthError {
  const e = isBerthError(cause) ? cause : undefined;
  const why = e?.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '') ?? (cause as Error)?.message ?? '';
  return new BerthError(
    'BACKEND_UNAVAILABLE',
    `cannot reach the Mesos master of context ${contextName} (tried ${context.masters.join(', ')})${why ? `: ${why}` : ''}`,
    {
      component: 'cli',
      cause,
      hint: `Check that the master runs (berth devcluster status for the devcluster), or fix contexts.${contextName}.masters with berth config set-context ${contextName} --master URL.`,
      details: { masters: [...context.masters], context: contextName },
    },
  );
}

/** The CLI's Mesos adapter for a context (see the module comment for what it adds). */
export function createMesosCliAdapter(
  input: BackendFactoryInput & { context: MesosContext },
  timings: MesosCliTimings = {},
): CliClusterAdapter {
  const inner: MesosAdapter = createMesosAdapter(mesosAdapterOptions(input));
  const { operator, driver } = inner.getClient();
  const buffered = bufferEvents(inner);
  const connectTimeoutMs = timings.connectTimeoutMs ?? 15_000;
  const reconcileWaitMs = timings.reconcileWaitMs ?? 3_000;
  const handoffTimeoutMs = timings.handoffTimeoutMs ?? 15_000;
  let connected = false;
  let closed = false;

  /** Waits for the master's answer to the reconciliation sent after SUBSCRIBED, for every live task. */
  const awaitReconciled = async () => {
    const live = new Set(
      (await inner.tasks()).filter((s) => !isTerminal(s.state) && s.state !== 'PENDING').map((s) => s.taskId),
    );
    if (live.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, reconcileWaitMs);
      const unsubscribe = driver.subscribe((event) => {
        if (event.type !== 'UPDATE') return;
        const id = event.update.status.task_id.value;
        live.delete(id);
        live.delete(id.replace(/\.\d+$/, ''));
        if (live.size === 0) done();
      });
      function done() {
        clearTimeout(timer);
        unsubscribe();
        // Let the adapter apply the last update before the command reads.
        setImmediate(resolve);
      }
    });
  };

  const adapter: CliClusterAdapter = {
    name: inner.name,
    backend: inner.backend,
    capabilities: inner.capabilities,

    async connect(options) {
      if (connected) return;
      try {
        await operator.getHealth(options?.signal as AbortSignal | undefined);
      } catch (err) {
        const e = toBerthError(err, 'cli');
        throw e.code === 'BACKEND_UNAVAILABLE' ? unreachable(input.context, input.contextName, err) : e;
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              unreachable(
                input.context,
                input.contextName,
                new Error(`no SUBSCRIBED within ${connectTimeoutMs / 1000}s`),
              ),
            ),
          connectTimeoutMs,
        );
      });
      try {
        await Promise.race([inner.connect(options), deadline]);
      } catch (err) {
        await inner.close().catch(() => {});
        const e = toBerthError(err, 'cli');
        if (e.code === 'AUTH_FAILED') {
          throw new BerthError(
            'AUTH_FAILED',
            `the Mesos master rejected the credentials of context ${input.contextName}${input.context.principal ? ` (principal ${input.context.principal})` : ''}`,
            {
              component: 'cli',
              cause: err,
              hint: `Check the secret in ${describeSecret(input.context)}, or the principal with berth config set-context ${input.contextName} --principal NAME.`,
            },
          );
        }
        throw e;
      } finally {
        clearTimeout(timer);
      }
      connected = true;
      await awaitReconciled();
    },

    async close() {
      if (closed) return;
      closed = true;
      if (connected) {
        // Hand the submitted tasks to the master before this process (the framework) goes away.
        const end = Date.now() + handoffTimeoutMs;
        while (Date.now() < end && (await inner.tasks().catch(() => [])).some(waitingForOffer)) {
          await sleep(50);
        }
      }
      await inner.close();
    },

    async [Symbol.asyncDispose]() {
      await adapter.close();
    },

    snapshot: () => inner.snapshot(),
    watchNodes: (o) => inner.watchNodes(o),
    submit: (docs) => inner.submit(docs),
    kill: (id, o) => inner.kill(id, o),
    tasks: (f) => inner.tasks(f),
    watchTasks: (o) => inner.watchTasks(o),
    scale: (service, n) => inner.scale(service, n),
    endpoints: (service) => inner.endpoints(service),
    logs: (id, o) => inner.logs(id, o),
    events: (o) => buffered.events(o),

    async serverVersion() {
      const v = await operator.getVersion();
      return `Mesos ${v.version_info.version}`;
    },
  };
  return adapter satisfies ClusterAdapter;
}

function describeSecret(context: MesosContext): string {
  const s = context.secret;
  if (s === undefined) return 'the context (it has no secret: add --secret-file or --secret-env)';
  return 'env' in s ? `the variable ${s.env}` : `the file ${s.file}`;
}
