/**
 * What every controller runs on: shared in-process informers (a list then a watch of the
 * `KubeApi`, kept in maps) and a keyed work queue with per-key exponential back-off. Handlers only
 * mark keys dirty; the queue syncs them later on its own turn, never inside the write that caused
 * the change, so a controller's writes never re-enter it.
 */
import { BerthError, type Clock, type TimerHandle } from '@berth/core';
import type { KubeApi, WatchEvent } from '../kube/kube-api.ts';
import { KubeStatusError } from '../kube/status.ts';
import { type JsonObject, keyOf } from './objects.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type ChangeHandler = (type: ChangeType, object: JsonObject, previous: JsonObject | undefined) => void;

/** One resource kept in memory from the API: the same objects `list` returns, updated by a watch. */
export class Informer {
  readonly resource: string;
  readonly #api: KubeApi;
  readonly #items = new Map<string, JsonObject>();
  readonly #handlers = new Set<ChangeHandler>();
  #stop: (() => void) | undefined;

  constructor(api: KubeApi, resource: string) {
    this.#api = api;
    this.resource = resource;
  }

  start(): void {
    if (this.#stop !== undefined) return;
    const listed = this.#api.list(this.resource, '');
    for (const item of listed.items) this.#items.set(keyOf(item), item);
    this.#stop = this.#api.watch(this.resource, '', { resourceVersion: listed.resourceVersion }, (e) =>
      this.#apply(e),
    );
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#items.clear();
  }

  #apply(e: WatchEvent): void {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED') return;
    const key = keyOf(e.object);
    const previous = this.#items.get(key);
    if (e.type === 'DELETED') this.#items.delete(key);
    else this.#items.set(key, e.object);
    for (const h of this.#handlers) h(e.type, e.object, previous);
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  on(handler: ChangeHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  get(namespace: string, name: string): JsonObject | undefined {
    return this.#items.get(`${namespace}/${name}`);
  }

  /** Every object (of one namespace when given). Never mutate them: they are the cache's. */
  list(namespace?: string): JsonObject[] {
    const all = [...this.#items.values()];
    if (namespace === undefined) return all;
    const prefix = `${namespace}/`;
    return all.filter((o) => keyOf(o).startsWith(prefix));
  }

  get size(): number {
    return this.#items.size;
  }
}

/** Informers shared by every controller of one `startKubeControllers`. */
export class Informers {
  readonly #api: KubeApi;
  readonly #byResource = new Map<string, Informer>();

  constructor(api: KubeApi) {
    this.#api = api;
  }

  get(resource: string): Informer {
    let inf = this.#byResource.get(resource);
    if (inf === undefined) {
      inf = new Informer(this.#api, resource);
      inf.start();
      this.#byResource.set(resource, inf);
    }
    return inf;
  }

  stop(): void {
    for (const inf of this.#byResource.values()) inf.stop();
    this.#byResource.clear();
  }
}

export interface WorkQueueOptions {
  readonly clock: Clock;
  /** First retry delay after a failed sync (default 5 ms), doubling per failure of the key. */
  readonly baseRetryMs?: number;
  /** Longest retry delay (default 1,000 ms; kube's controllers go to 1,000 s). */
  readonly maxRetryMs?: number;
  readonly onError: (error: BerthError) => void;
}

/**
 * Keys to sync, each at most once in the queue; `sync(key)` runs on a later turn of the event
 * loop. A sync that throws is retried with back-off (409 conflicts quietly: the cache catches up);
 * a key that syncs cleanly forgets its failures.
 */
export class WorkQueue {
  readonly #sync: (key: string) => void;
  readonly #o: Required<WorkQueueOptions>;
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, TimerHandle>();
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(sync: (key: string) => void, options: WorkQueueOptions) {
    this.#sync = sync;
    this.#o = { baseRetryMs: 5, maxRetryMs: 1000, ...options };
  }

  add(key: string): void {
    if (this.#closed) return;
    this.#dirty.add(key);
    this.#schedule();
  }

  /** Sync `key` after `ms` (an earlier pending delay for the key is kept if sooner). */
  addAfter(key: string, ms: number): void {
    if (this.#closed) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    if (this.#delayed.has(key)) return;
    const handle = this.#o.clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, handle);
  }

  /** Replace a pending delay of `key` with a sooner or later one. */
  resetAfter(key: string, ms: number): void {
    const h = this.#delayed.get(key);
    if (h !== undefined) this.#o.clock.clearTimeout(h);
    this.#delayed.delete(key);
    this.addAfter(key, ms);
  }

  #schedule(): void {
    if (this.#scheduled !== undefined || this.#closed) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#drain();
    });
  }

  #drain(): void {
    // Keys added while draining run on the next turn, so a controller writing in a loop yields.
    const keys = [...this.#dirty];
    this.#dirty.clear();
    for (const key of keys) {
      if (this.#closed) return;
      try {
        this.#sync(key);
        this.#failures.delete(key);
      } catch (error) {
        const n = (this.#failures.get(key) ?? 0) + 1;
        this.#failures.set(key, n);
        const quiet = error instanceof KubeStatusError && (error.code === 409 || error.code === 404);
        if (!quiet) this.#o.onError(toBerthError(error));
        this.addAfter(key, Math.min(this.#o.maxRetryMs, this.#o.baseRetryMs * 2 ** (n - 1)));
      }
    }
    if (this.#dirty.size > 0) this.#schedule();
    else for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves once nothing is queued for an immediate sync (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.#dirty.size === 0 && this.#scheduled === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const h of this.#delayed.values()) this.#o.clock.clearTimeout(h);
    this.#delayed.clear();
    this.#dirty.clear();
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}

export function toBerthError(error: unknown): BerthError {
  if (error instanceof BerthError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BerthError('INTERNAL', message, { component: 'devcluster/kube-controllers', cause: error });
}

/** Whether a write failed because the object is gone or changed meanwhile (the next sync fixes it). */
export function isConflictOrGone(error: unknown): boolean {
  return error instanceof KubeStatusError && (error.code === 409 || error.code === 404);
}
