/** `berth logs TASK [-f] [--tail N] [--stream stdout|stderr|both]`. */
import { BerthError, type LogOptions } from '@berth/core';
import type { CommandContext } from '../command-context.ts';

export async function logsCommand(
  ctx: CommandContext,
  task: string,
  opts: { follow?: boolean; tail?: string; stream: string },
): Promise<void> {
  if (!['stdout', 'stderr', 'both'].includes(opts.stream)) {
    throw new BerthError(
      'SPEC_INVALID',
      `--stream: must be stdout, stderr or both, got ${JSON.stringify(opts.stream)}`,
      {
        component: 'cli',
      },
    );
  }
  let tailLines: number | undefined;
  if (opts.tail !== undefined) {
    tailLines = Number(opts.tail);
    if (!Number.isSafeInteger(tailLines) || tailLines < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `--tail: must be an integer >= 0, got ${JSON.stringify(opts.tail)}`,
        {
          component: 'cli',
        },
      );
    }
  }
  await ctx.withAdapter(async (adapter) => {
    if (!adapter.capabilities.has('logs')) {
      throw new BerthError('UNSUPPORTED', `the ${adapter.name} adapter cannot read task logs`, {
        component: 'cli',
        hint: 'Read the output on the node, or use a context whose backend supports logs.',
      });
    }
    const options: LogOptions = {
      follow: opts.follow === true,
      stream: opts.stream as LogOptions['stream'] & string,
      ...(tailLines === undefined ? {} : { tailLines }),
      ...(ctx.io.signal === undefined ? {} : { signal: ctx.io.signal }),
    };
    for await (const line of adapter.logs(task, options)) ctx.io.stdout(`${line.line}\n`);
  });
}
