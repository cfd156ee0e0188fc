import { BerthError } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { configPath, loadConfig } from '../config/config-file.ts';
import { toJson, toYaml } from '../output/format.ts';
import { CLI_VERSION } from '../version.ts';

interface VersionInfo {
  client: { version: string; node: string; platform: string };
  server?: { context: string; backend: string; adapter: string; version: string };
}

/** Is any context selected (flag, env or current-context)? Then `version` also asks the server. */
async function hasContext(ctx: CommandContext): Promise<boolean> {
  if (ctx.globals.context !== undefined || (ctx.io.env.BERTH_CONTEXT ?? '') !== '') return true;
  const config = await loadConfig(configPath(ctx.io.env, ctx.io.cwd));
  return config.currentContext !== undefined;
}

export async function versionCommand(
  ctx: CommandContext,
  opts: { output: string; client?: boolean },
): Promise<void> {
  if (!['text', 'json', 'yaml'].includes(opts.output)) {
    throw new BerthError('SPEC_INVALID', `--output: unknown format "${opts.output}"`, {
      component: 'cli',
      hint: 'Use --output text, --output json or --output yaml.',
    });
  }
  const info: VersionInfo = {
    client: { version: CLI_VERSION, node: process.version, platform: `${process.platform}/${process.arch}` },
  };
  const print = () => {
    if (opts.output === 'json') ctx.io.stdout(toJson(info));
    else if (opts.output === 'yaml') ctx.io.stdout(toYaml(info));
    else {
      ctx.io.stdout(`Client Version: ${CLI_VERSION} (node ${process.version}, ${info.client.platform})\n`);
      if (info.server)
        ctx.io.stdout(
          `Server Version: ${info.server.version} (${info.server.backend}, context ${info.server.context})\n`,
        );
    }
  };
  if (opts.client || !(await hasContext(ctx))) {
    print();
    return;
  }
  try {
    await ctx.withAdapter(async (adapter, context) => {
      const version = adapter.serverVersion === undefined ? 'unknown' : await adapter.serverVersion();
      info.server = { context: context.name, backend: adapter.backend, adapter: adapter.name, version };
    });
  } catch (err) {
    // Like kubectl: the client version is still useful when the server cannot be asked.
    if (opts.output === 'text') print();
    throw err;
  }
  print();
}
