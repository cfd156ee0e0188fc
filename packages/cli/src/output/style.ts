/**
 * Colours only when they help: on a terminal, never with `NO_COLOR` (any value, see
 * no-color.org), never with `--no-color`; `FORCE_COLOR` turns them on for pipes.
 */
import picocolors from 'picocolors';
import type { ResolvedIO } from '../io.ts';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorEnabled(io: Pick<ResolvedIO, 'env' | 'stdoutIsTTY'>, flag: boolean): boolean {
  if (!flag) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return io.stdoutIsTTY && io.env.TERM !== 'dumb';
}

export function createColors(enabled: boolean): Colors {
  return picocolors.createColors(enabled);
}

/** Colour for a task state: green running/finished, yellow on the way, red failed. */
export function stateColor(c: Colors, state: string): string {
  switch (state) {
    case 'RUNNING':
    case 'FINISHED':
    case 'Ready':
      return c.green(state);
    case 'PENDING':
    case 'STAGING':
    case 'STARTING':
    case 'KILLING':
    case 'UNREACHABLE':
    case 'SchedulingDisabled':
      return c.yellow(state);
    case 'FAILED':
    case 'LOST':
    case 'ERROR':
    case 'NotReady':
      return c.red(state);
    default:
      return state;
  }
}
