/** `berth config …`: contexts in the berth config file. */
import { BerthError, type BerthErrorIssue } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import {
  type BerthConfig,
  type ContextConfig,
  configDocument,
  configPath,
  isValidContextName,
  loadConfig,
  saveConfig,
  validateContext,
} from '../config/config-file.ts';
import { parseOutputFormat, printMachine } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { suggestName } from '../suggest.ts';

async function load(ctx: CommandContext): Promise<{ path: string; config: BerthConfig }> {
  const path = configPath(ctx.io.env, ctx.io.cwd);
  return { path, config: await loadConfig(path) };
}

function notFound(name: string, config: BerthConfig, path: string): BerthError {
  const names = Object.keys(config.contexts);
  const close = suggestName(name, names);
  return new BerthError('NOT_FOUND', `context ${JSON.stringify(name)} is not in ${path}`, {
    component: 'cli',
    hint:
      close !== undefined
        ? `Did you mean ${close}?`
        : names.length === 0
          ? 'No contexts yet: create one with berth config set-context.'
          : `Known contexts: ${names.join(', ')}.`,
  });
}

/** What a context points at, for the table: master URLs or kubeconfig context. */
function target(c: ContextConfig): string {
  if (c.backend === 'mesos') return c.masters.join(',');
  return `${c.kubeconfig ?? '$KUBECONFIG'}${c.context === undefined ? '' : `#${c.context}`}`;
}

export async function getContexts(ctx: CommandContext, opts: { output?: string }): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'json', 'yaml', 'name']);
  const { config } = await load(ctx);
  const names = Object.keys(config.contexts).sort();
  if (format === 'name') {
    for (const n of names) ctx.io.stdout(`${n}\n`);
    return;
  }
  const items = names.map((name) => ({
    name,
    current: name === config.currentContext,
    ...config.contexts[name],
  }));
  if (printMachine(format, { apiVersion: 'berth.dev/v1', kind: 'ContextList', items }, ctx.io.stdout)) return;
  const rows = names.map((name) => {
    const c = config.contexts[name]!;
    const detail =
      c.backend === 'mesos' ? (c.role ?? '') : `${c.namespace ?? ''}${c.namespace ? ' ' : ''}(${c.mode})`;
    return [name === config.currentContext ? '*' : '', name, c.backend, target(c), detail];
  });
  ctx.io.stdout(
    renderTable(
      [
        { header: 'CURRENT' },
        { header: 'NAME', noTruncate: true },
        { header: 'BACKEND' },
        { header: 'SERVER' },
        { header: 'ROLE/NAMESPACE' },
      ],
      rows,
      ctx.io.columns,
    ),
  );
}

export async function currentContext(ctx: CommandContext): Promise<void> {
  const { config, path } = await load(ctx);
  if (config.currentContext === undefined) {
    throw new BerthError('NOT_FOUND', `current-context is not set in ${path}`, {
      component: 'cli',
      hint: 'Set it with berth config use-context NAME.',
    });
  }
  ctx.io.stdout(`${config.currentContext}\n`);
}

export async function useContext(ctx: CommandContext, name: string): Promise<void> {
  const { config, path } = await load(ctx);
  if (config.contexts[name] === undefined) throw notFound(name, config, path);
  await saveConfig(path, { ...config, currentContext: name });
  ctx.io.stdout(`Switched to context "${name}".\n`);
}

export async function deleteContext(ctx: CommandContext, name: string): Promise<void> {
  const { config, path } = await load(ctx);
  if (config.contexts[name] === undefined) throw notFound(name, config, path);
  const { [name]: _removed, ...rest } = config.contexts;
  const next: BerthConfig = {
    contexts: rest,
    ...(config.currentContext === undefined || config.currentContext === name
      ? {}
      : { currentContext: config.currentContext }),
  };
  await saveConfig(path, next);
  ctx.io.stdout(`deleted context ${name} from ${path}\n`);
  if (config.currentContext === name)
    ctx.io.stderr('warning: this was the current context; pick another with berth config use-context\n');
}

const FLAG_FIELDS = {
  master: 'masters',
  role: 'role',
  principal: 'principal',
  kubeconfig: 'kubeconfig',
  kubeContext: 'context',
  namespace: 'namespace',
  mode: 'mode',
} as const;

const FLAG_NAMES: Readonly<Record<string, string>> = {
  backend: '--backend',
  masters: '--master',
  role: '--role',
  principal: '--principal',
  secret: '--secret-file/--secret-env',
  kubeconfig: '--kubeconfig',
  context: '--kube-context',
  namespace: '--namespace',
  mode: '--mode',
};

export async function setContext(
  ctx: CommandContext,
  name: string,
  opts: Record<string, unknown>,
): Promise<void> {
  if (!isValidContextName(name)) {
    throw new BerthError('SPEC_INVALID', `context name ${JSON.stringify(name)} is not valid`, {
      component: 'cli',
      hint: 'Use letters, digits, ".", "_" and "-" (at most 63 characters).',
    });
  }
  const { config, path } = await load(ctx);
  const existing = config.contexts[name];
  const backend = (opts.backend as string | undefined) ?? existing?.backend;
  if (backend === undefined) {
    throw new BerthError('SPEC_INVALID', `context ${name} is new: --backend is required`, {
      component: 'cli',
      hint: 'Pass --backend mesos --master URL, or --backend kubernetes [--kubeconfig PATH --kube-context NAME].',
    });
  }
  // Start from the existing context when the backend stays the same (kubectl set-context semantics).
  const base: Record<string, unknown> =
    existing !== undefined && existing.backend === backend ? { ...existing } : {};
  base.backend = backend;
  for (const [flag, field] of Object.entries(FLAG_FIELDS))
    if (opts[flag] !== undefined) base[field] = opts[flag];
  if (opts.secretFile !== undefined && opts.secretEnv !== undefined) {
    throw new BerthError('SPEC_INVALID', '--secret-file and --secret-env cannot be used together', {
      component: 'cli',
      hint: 'A context reads its secret from one place: a file or an environment variable.',
    });
  }
  if (opts.secretFile !== undefined) base.secret = { file: opts.secretFile };
  if (opts.secretEnv !== undefined) base.secret = { env: opts.secretEnv };
  const issues: BerthErrorIssue[] = [];
  const valid = validateContext(base, name, issues);
  if (valid === undefined) {
    throw new BerthError('SPEC_INVALID', `context ${name} is not valid; nothing was written`, {
      component: 'cli',
      // Name the flag that sets each field, so the fix is obvious.
      issues: issues.map((i) => {
        const field = i.path.slice(name.length + 1).split(/[.[]/)[0] ?? '';
        return { path: FLAG_NAMES[field] ?? i.path, message: i.message };
      }),
      hint: 'Fix the listed flags and run set-context again.',
    });
  }
  const next: BerthConfig = {
    contexts: { ...config.contexts, [name]: valid },
    ...(opts.current === true
      ? { currentContext: name }
      : config.currentContext === undefined
        ? {}
        : { currentContext: config.currentContext }),
  };
  await saveConfig(path, next);
  ctx.io.stdout(`Context "${name}" ${existing === undefined ? 'created' : 'modified'}.\n`);
}

export async function viewConfig(ctx: CommandContext, opts: { output: string }): Promise<void> {
  const format = parseOutputFormat(opts.output, ['yaml', 'json']);
  const { config } = await load(ctx);
  // The file holds only secret references ({ file } / { env }); validation rejects inline values.
  printMachine(format, configDocument(config), ctx.io.stdout);
}
