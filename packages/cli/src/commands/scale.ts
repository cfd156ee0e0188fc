/** `berth scale service NAME N` (or `--replicas N`). */
import { BerthError } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { resourceType } from './resource-types.ts';

export async function scaleCommand(
  ctx: CommandContext,
  typeArg: string,
  name: string,
  replicasArg: string | undefined,
  opts: { replicas?: string },
): Promise<void> {
  resourceType(typeArg, ['services'], 'scale');
  if (replicasArg !== undefined && opts.replicas !== undefined && replicasArg !== opts.replicas) {
    throw new BerthError(
      'SPEC_INVALID',
      `replicas given twice (${replicasArg} and --replicas ${opts.replicas})`,
      {
        component: 'cli',
        hint: 'Pass the count once: berth scale service web 3.',
      },
    );
  }
  const text = replicasArg ?? opts.replicas;
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new BerthError(
      'SPEC_INVALID',
      `replicas: must be an integer >= 0, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`,
      {
        component: 'cli',
        hint: 'Usage: berth scale service NAME REPLICAS.',
      },
    );
  }
  await ctx.withAdapter(async (adapter) => {
    await adapter.scale(name, n);
    ctx.io.stdout(`service/${name} scaled to ${n}\n`);
  });
}
