import { toBerthError } from '@berth/core';
import type { ProgramIO } from './program.ts';

/** Print an error the way users expect from kubectl: one line, a hint, stack only with --debug. */
export function reportError(err: unknown, io: ProgramIO, debug: boolean): number {
  const e = toBerthError(err, 'cli');
  io.stderr(`error: ${e.message}\n`);
  for (const issue of e.issues) io.stderr(`  ${issue.path || '(document)'}: ${issue.message}\n`);
  if (e.hint) io.stderr(`hint: ${e.hint}\n`);
  if (debug && e.stack) io.stderr(`${e.stack}\n`);
  return e.exitCode;
}
