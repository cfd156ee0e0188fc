import { BerthError } from '@berth/core';
import type { ProgramIO } from '../program.ts';
import { CLI_VERSION } from '../version.ts';

export function versionCommand(opts: { output: string }, io: ProgramIO): void {
  const info = {
    client: { version: CLI_VERSION, node: process.version, platform: `${process.platform}/${process.arch}` },
  };
  if (opts.output === 'json') {
    io.stdout(`${JSON.stringify(info, null, 2)}\n`);
  } else if (opts.output === 'text') {
    io.stdout(`Client Version: ${CLI_VERSION} (node ${process.version}, ${info.client.platform})\n`);
  } else {
    throw new BerthError('SPEC_INVALID', `--output: unknown format "${opts.output}"`, {
      component: 'cli',
      hint: 'Use --output text or --output json.',
    });
  }
}
