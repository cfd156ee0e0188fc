/**
 * Which context a command uses (`--context`, then `BERTH_CONTEXT`, then `current-context`), and the
 * adapter for it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BerthError } from '@berth/core';
import type { BackendRegistry, CliClusterAdapter } from '../backends/registry.ts';
import type { ResolvedIO } from '../io.ts';
import { suggestName } from '../suggest.ts';
import {
  type BerthConfig,
  type ContextConfig,
  configPath,
  loadConfig,
  type SecretRef,
} from './config-file.ts';

export interface ResolvedContext {
  readonly name: string;
  readonly context: ContextConfig;
  /** Where the name came from, for messages. */
  readonly from: '--context' | 'BERTH_CONTEXT' | 'current-context';
  readonly configPath: string;
}

export function chooseContext(
  config: BerthConfig,
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): ResolvedContext {
  const fromEnv = env.BERTH_CONTEXT;
  const [name, from] =
    flag !== undefined && flag !== ''
      ? [flag, '--context' as const]
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, 'BERTH_CONTEXT' as const]
        : [config.currentContext, 'current-context' as const];
  const names = Object.keys(config.contexts);
  if (name === undefined) {
    throw new BerthError('SPEC_INVALID', `no context selected (config file ${path})`, {
      component: 'cli',
      hint:
        names.length === 0
          ? 'Create one with berth config set-context NAME --backend mesos --master http://127.0.0.1:5050, then berth config use-context NAME.'
          : `Pick one with --context, BERTH_CONTEXT or berth config use-context: ${names.join(', ')}.`,
    });
  }
  const context = config.contexts[name];
  if (context === undefined) {
    const close = suggestName(name, names);
    throw new BerthError('NOT_FOUND', `context ${JSON.stringify(name)} (from ${from}) is not in ${path}`, {
      component: 'cli',
      hint:
        close !== undefined
          ? `Did you mean ${close}? List contexts with berth config get-contexts.`
          : names.length === 0
            ? 'No contexts are configured: create one with berth config set-context.'
            : `Known contexts: ${names.join(', ')}.`,
      details: { context: name },
    });
  }
  return { name, context, from, configPath: path };
}

/** Reads a secret from the file or environment variable it names. */
export async function readSecret(
  ref: SecretRef,
  contextName: string,
  io: Pick<ResolvedIO, 'env' | 'cwd'>,
): Promise<string> {
  if ('env' in ref) {
    const v = io.env[ref.env];
    if (v === undefined || v === '') {
      throw new BerthError(
        'AUTH_FAILED',
        `context ${contextName}: environment variable ${ref.env} is not set`,
        {
          component: 'cli',
          hint: `Export ${ref.env} with the secret, or change contexts.${contextName}.secret.`,
        },
      );
    }
    return v;
  }
  const path = resolve(
    io.cwd,
    ref.file.startsWith('~/') ? `${io.env.HOME ?? ''}${ref.file.slice(1)}` : ref.file,
  );
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new BerthError('AUTH_FAILED', `context ${contextName}: cannot read secret file ${path}`, {
      component: 'cli',
      cause: err,
      hint: `Create the file, or change contexts.${contextName}.secret.file.`,
    });
  }
}

/** Loads the config, picks the context and builds (but does not connect) its adapter. */
export async function adapterForContext(
  io: ResolvedIO,
  backends: BackendRegistry,
  flag: string | undefined,
): Promise<{ adapter: CliClusterAdapter; context: ResolvedContext }> {
  const path = configPath(io.env, io.cwd);
  const config = await loadConfig(path);
  const context = chooseContext(config, flag, io.env, path);
  const factory = backends.get(context.context.backend, context.name);
  const secretRef = context.context.backend === 'mesos' ? context.context.secret : undefined;
  const secret = secretRef === undefined ? undefined : await readSecret(secretRef, context.name, io);
  const adapter = await factory({
    contextName: context.name,
    context: context.context,
    env: io.env,
    ...(secret === undefined ? {} : { secret }),
  });
  return { adapter, context };
}
