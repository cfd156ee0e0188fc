import { type BerthErrorIssue, toBerthError } from '@berth/core';
import type { ProgramIO } from './io.ts';

/** A command that ran but whose outcome is a failure (a task failed during --wait): exit 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function issueLine(issue: BerthErrorIssue & { source?: string; line?: number; column?: number }): string {
  const where =
    issue.source === undefined
      ? ''
      : `${issue.source}${issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 1}`}: `;
  return `  ${where}${issue.path === '' ? '' : `${issue.path}: `}${issue.message}\n`;
}

/**
 * Print an error the way users expect from kubectl: `error: …` on one line, the field-level
 * issues, a hint, and the stack only with --debug. Returns the exit code for the error's code.
 */
export function reportError(err: unknown, io: Pick<ProgramIO, 'stderr'>, debug: boolean): number {
  if (err instanceof CommandFailed) {
    io.stderr(`error: ${err.message}\n`);
    return err.exitCode;
  }
  const e = toBerthError(err, 'cli');
  // The `[berth] [component] ` prefix is for logs; on a terminal the message stands alone.
  const message = e.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '');
  const [first, ...rest] = message.split('\n');
  io.stderr(`error: ${first}\n`);
  if (e.issues.length > 0) for (const issue of e.issues) io.stderr(issueLine(issue));
  else for (const line of rest) io.stderr(`${line}\n`);
  if (e.hint) io.stderr(`hint: ${e.hint}\n`);
  if (debug) {
    io.stderr(`code: ${e.code} (exit ${e.exitCode}); see ${e.docsUrl}\n`);
    if (Object.keys(e.details).length > 0) io.stderr(`details: ${JSON.stringify(e.details)}\n`);
    if (e.stack) io.stderr(`${e.stack}\n`);
    let cause: unknown = e.cause;
    while (cause instanceof Error) {
      io.stderr(`caused by: ${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  }
  return e.exitCode;
}
