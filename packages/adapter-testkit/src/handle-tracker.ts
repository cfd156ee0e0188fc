/**
 * Which handles (timers, sockets, pipes, file requests) were created since tracking started and
 * are still alive — so "close releases everything" checks the adapter's own handles, not whatever
 * else the test process happens to have open at that moment.
 */
import { createHook } from 'node:async_hooks';

/**
 * Only Node's own libuv-backed resources count: timers, sockets, servers, pipes, child processes,
 * signal and fs watchers, and in-flight native requests. User-land `AsyncResource`s (an HTTP
 * client's per-request bookkeeping such as undici's `UNDICI_REQUEST`) are not handles: they keep
 * nothing open and Node destroys them only at garbage collection, so counting them would blame
 * an adapter for the garbage collector's schedule. Promises and ticks are bookkeeping too. For
 * the same reason TLS sessions and HTTP message objects (`TLSWRAP`, `HTTPCLIENTREQUEST`,
 * `HTTPINCOMINGMESSAGE`) are left out: they are destroyed at GC, while the socket under them
 * (`TCPWRAP`, counted) closes when the connection does.
 */
const NODE_HANDLE_TYPES = new Set([
  'Timeout',
  'Immediate',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'TCPCONNECTWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'PIPECONNECTWRAP',
  'PROCESSWRAP',
  'SIGNALWRAP',
  'TTYWRAP',
  'UDPWRAP',
  'UDPSENDWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'FSREQCALLBACK',
  'FSREQPROMISE',
  'FILEHANDLE',
  'GETADDRINFOREQWRAP',
  'GETNAMEINFOREQWRAP',
  'QUERYWRAP',
  'SHUTDOWNWRAP',
  'WRITEWRAP',
  'ZLIB',
  'MESSAGEPORT',
  'WORKER',
]);

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
      if (NODE_HANDLE_TYPES.has(type)) alive.set(asyncId, { type, resource: resource as object });
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
