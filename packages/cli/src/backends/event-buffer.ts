/**
 * Keeps the events an adapter reports from the moment this process creates it (connecting,
 * reconciling, what the command does), so `berth events` also shows what happened while it
 * connected, not only what happens after it starts listening.
 */
import {
  type ClusterAdapter,
  type ClusterEvent,
  Subject,
  toAsyncIterable,
  type WatchOptions,
} from '@berth/core';

export interface EventBuffer {
  /** The buffered events first, then live ones, until `signal` aborts or the adapter closes. */
  events(options?: WatchOptions): AsyncIterable<ClusterEvent>;
}

export function bufferEvents(adapter: Pick<ClusterAdapter, 'events'>, limit = 1000): EventBuffer {
  const seen: ClusterEvent[] = [];
  const live = new Subject<ClusterEvent>();
  void (async () => {
    try {
      for await (const e of adapter.events()) {
        seen.push(e);
        if (seen.length > limit) seen.shift();
        live.emit(e);
      }
    } catch {
      // the adapter closed its stream with an error: nothing more to buffer
    } finally {
      live.complete();
    }
  })();
  return {
    events: (options) => toAsyncIterable(live, { signal: options?.signal, initial: [...seen] }),
  };
}
