/**
 * Exponential back-off with full jitter: the n-th retry waits a uniformly random time in
 * [0, min(maxMs, initialMs · multiplier^n)). Randomising the whole interval spreads many
 * frameworks reconnecting to a freshly elected master instead of having them arrive together.
 */
import { BerthError } from '@berth/core';

export interface BackoffPolicy {
  /** Upper bound of the first wait (default 500 ms). */
  readonly initialMs?: number;
  /** Cap of the upper bound (default 30 s). */
  readonly maxMs?: number;
  /** Growth of the upper bound per attempt (default 2). */
  readonly multiplier?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, multiplier: 2 } as const;

/** `random` returns a number in [0, 1), like `Math.random` (inject a fixed one in tests). */
export function fullJitterDelay(
  attempt: number,
  policy: BackoffPolicy = {},
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, multiplier } = { ...DEFAULT_BACKOFF, ...policy };
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(multiplier >= 1)) {
    throw new BerthError(
      'SPEC_INVALID',
      `backoff: need 0 < initialMs <= maxMs and multiplier >= 1 (got ${initialMs}, ${maxMs}, ${multiplier})`,
      { component: 'mesos-adapter', hint: 'For example { initialMs: 500, maxMs: 30000, multiplier: 2 }.' },
    );
  }
  const ceiling = Math.min(maxMs, initialMs * multiplier ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
