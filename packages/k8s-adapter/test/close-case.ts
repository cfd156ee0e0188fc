/**
 * "close releases everything" for an adapter that speaks HTTPS. The testkit's handle tracker keeps
 * each async resource alive until its `destroy` hook runs, but a TLS socket's TLSWRAP emits that
 * hook only when garbage-collected — which the tracker's own reference prevents. This case counts a
 * TLSWRAP as released once its socket is destroyed; everything else is checked as the built-in case does.
 */
import { createHook } from 'node:async_hooks';
import type { ConformanceCase, ConformanceContext } from '@berth/adapter-testkit';
import { isTerminal, TASK_STATES, type TaskState } from '@berth/core';

const IGNORED = new Set(['PROMISE', 'TickObject', 'Microtask', 'ELDHISTOGRAM']);

function tlsAwareTracker() {
  const alive = new Map<number, { type: string; resource: object }>();
  const hook = createHook({
    init(id, type, _t, resource) {
      if (!IGNORED.has(type)) alive.set(id, { type, resource: resource as object });
    },
    destroy(id) {
      alive.delete(id);
    },
  });
  hook.enable();
  const live = (t: { type: string; resource: object }) => {
    const r = t.resource as Record<string | symbol, unknown>;
    if (t.type === 'Timeout' || t.type === 'Immediate') return r._destroyed !== true;
    if (t.type === 'TLSWRAP' || t.type === 'STREAM_END_OF_STREAM') {
      // A kept-alive socket handed to a new request shows up as a ReusedHandle around the TLSWrap.
      const wrap = (typeof r.handle === 'object' && r.handle !== null ? r.handle : r) as Record<
        symbol,
        unknown
      >;
      const owners = Object.getOwnPropertySymbols(wrap).map((k) => wrap[k]);
      const socket = owners.find((o) => typeof o === 'object' && o !== null && 'destroyed' in o) as
        | { destroyed: boolean }
        | undefined;
      if (socket !== undefined) return !socket.destroyed;
      if (t.type === 'STREAM_END_OF_STREAM') return false;
      return true;
    }
    return true;
  };
  return {
    open: () => {
      const counts = new Map<string, number>();
      for (const t of alive.values()) if (live(t)) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
      return [...counts].map(([type, n]) => `${n} ${type}`);
    },
    stop: () => {
      hook.disable();
      alive.clear();
    },
  };
}

const TERMINAL: readonly TaskState[] = TASK_STATES.filter(isTerminal);

export const closeReleasesOverTls: ConformanceCase = {
  id: 'close-releases-tls',
  title: 'close releases everything over TLS (watches end, sockets destroyed, no timers)',
  async run(ctx: ConformanceContext) {
    const handles = tlsAwareTracker();
    const adapter = await ctx.create();
    await adapter.connect();
    const watches = [adapter.watchTasks(), adapter.events(), adapter.watchNodes()].map(async (w) => {
      for await (const _ of w) {
        // drain until the adapter closes
      }
    });
    const id = ctx.name('close');
    await adapter.submit([ctx.task(id, { command: ctx.commands.finishes })]);
    await ctx.waitForState(adapter, id, TERMINAL, 'the task never ended');
    await adapter.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      Promise.all(watches).then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), ctx.timeouts.settleMs);
      }),
    ]);
    clearTimeout(timer);
    ctx.check(ended, 'watches were still open after close()');
    let open = handles.open();
    for (let waited = 0; open.length > 0 && waited < ctx.timeouts.settleMs; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
      open = handles.open();
    }
    handles.stop();
    ctx.check(open.length === 0, `close() leaked handles: ${open.join(', ')}`);
    const after = await adapter.tasks().then(
      () => 'resolved',
      (e: unknown) => (e instanceof Error && e.name === 'BerthError' ? 'berth-error' : 'other-error'),
    );
    ctx.check(after === 'berth-error', `tasks() after close() ${after}; it must reject with a BerthError`);
  },
};
