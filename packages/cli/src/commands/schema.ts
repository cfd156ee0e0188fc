import { berthJsonSchema } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { toJson } from '../output/format.ts';

export async function schemaCommand(ctx: CommandContext): Promise<void> {
  ctx.io.stdout(toJson(berthJsonSchema()));
}
