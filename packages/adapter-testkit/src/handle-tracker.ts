/**
 * Which handles (timers, sockets, pipes, file requests) were created since tracking started and
 * are still alive — so "close releases everything" checks the adapter's own handles, not whatever
 * else the test process happens to have open at that moment.
 */
import { createHook } from 'node:async_hooks';

/** Async resource types that are bookkeeping, not handles that keep a process alive. */
const IGNORED = new Set(['PROMISE', 'TickObject', 'Microtask', 'ELDHISTOGRAM']);

export interface HandleTracker {
  /** Handles created since tracking started and still alive, counted by type, e.g. `['1 Timeout']`. */
  open(): string[];
  stop(): void;
}

interface Tracked {
  readonly type: string;
  readonly resource: object;
}

/** Timers report their own state; other handles are alive until their destroy hook runs. */
function isAlive(t: Tracked): boolean {
  if (t.type === 'Timeout' || t.type === 'Immediate') {
    return (t.resource as { _destroyed?: boolean })._destroyed !== true;
  }
  return true;
}

export function trackHandles(): HandleTracker {
  const alive = new Map<number, Tracked>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (!IGNORED.has(type)) alive.set(asyncId, { type, resource: resource as object });
    },
    destroy(asyncId) {
      alive.delete(asyncId);
    },
  });
  hook.enable();
  return {
    open() {
      const counts = new Map<string, number>();
      for (const t of alive.values()) if (isAlive(t)) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
      return [...counts].map(([type, n]) => `${n} ${type}`);
    },
    stop() {
      hook.disable();
      alive.clear();
    },
  };
}
