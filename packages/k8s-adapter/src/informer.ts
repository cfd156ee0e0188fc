/**
 * Berth's own informer: list, then watch from the list's resourceVersion, forever. Unlike
 * client-node's informer it never stops silently: a 410 Gone (on open or as an ERROR event)
 * relists at once and reconciles the cache with the fresh list; every other failure (dropped
 * stream, refused connection, 5xx, 429) backs off with full jitter and watches again from the last
 * resourceVersion it saw. The cache is a Map keyed by uid, so each event costs O(1).
 */
import { BerthError, type Clock, sleep, systemClock } from '@berth/core';
import type { KubeClient, RawWatchEvent, WatchHandle } from './kube-client.ts';
import { query } from './kube-client.ts';
import { httpStatusOf } from './kube-errors.ts';

export interface InformerHandler<T> {
  add?(item: T): void;
  update?(previous: T, item: T): void;
  delete?(item: T): void;
}

export interface InformerOptions<T> {
  readonly client: KubeClient;
  /** Collection path, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Keeps only what Berth reads of each object (memory: 50 000 pods must fit in a few hundred MB). */
  readonly transform: (raw: Record<string, unknown>) => T;
  /** The cache key (the object's uid). */
  readonly keyOf: (item: T) => string;
  readonly resourceVersionOf: (item: T) => string;
  /** Items per list page (default 500). */
  readonly pageSize?: number;
  /** Back-off after a non-410 failure: full jitter up to min(maxMs, initialMs·2^n) (default 200 ms, 10 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly clock?: Clock;
  /** Told about every failure the informer recovers from. */
  readonly onError?: (error: BerthError) => void;
  readonly random?: () => number;
}

export interface InformerStats {
  readonly lists: number;
  readonly relists: number;
  readonly watches: number;
  readonly errors: number;
  readonly events: number;
}

export class Informer<T> {
  readonly #o: InformerOptions<T>;
  readonly #items = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  #resourceVersion = '';
  #stopped = false;
  #watch: WatchHandle | undefined;
  #abortSleep: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #synced = false;
  #stats = { lists: 0, relists: 0, watches: 0, errors: 0, events: 0 };

  constructor(options: InformerOptions<T>) {
    this.#o = options;
  }

  /** The cache: uid → item. Read-only for callers. */
  get items(): ReadonlyMap<string, T> {
    return this.#items;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  stats(): InformerStats {
    return { ...this.#stats };
  }

  on(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Lists once (rejecting if that fails), then keeps watching in the background. */
  async start(): Promise<void> {
    if (this.#loop !== undefined) return;
    await this.#list();
    this.#synced = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.abort();
    this.#abortSleep?.abort();
    await this.#loop;
  }

  #emit(kind: 'add' | 'delete', item: T): void;
  #emit(kind: 'update', item: T, previous: T): void;
  #emit(kind: 'add' | 'update' | 'delete', item: T, previous?: T): void {
    for (const h of this.#handlers) {
      if (kind === 'add') h.add?.(item);
      else if (kind === 'delete') h.delete?.(item);
      else h.update?.(previous as T, item);
    }
  }

  /** Lists every page and reconciles the cache: vanished items are deleted, changed ones updated. */
  async #list(): Promise<void> {
    const { client, path, transform, keyOf, resourceVersionOf } = this.#o;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await client.request<{
        metadata?: { resourceVersion?: string; continue?: string };
        items?: Record<string, unknown>[];
      }>(
        'GET',
        `${path}${query({
          labelSelector: this.#o.labelSelector,
          fieldSelector: this.#o.fieldSelector,
          limit: this.#o.pageSize ?? 500,
          continue: cont,
        })}`,
      );
      for (const raw of page.items ?? []) {
        const item = transform(raw);
        fresh.set(keyOf(item), item);
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont !== undefined && !this.#stopped);
    this.#stats.lists++;
    for (const [key, old] of this.#items) {
      if (!fresh.has(key)) {
        this.#items.delete(key);
        this.#emit('delete', old);
      }
    }
    for (const [key, item] of fresh) {
      const old = this.#items.get(key);
      this.#items.set(key, item);
      if (old === undefined) this.#emit('add', item);
      else if (resourceVersionOf(old) !== resourceVersionOf(item)) this.#emit('update', item, old);
    }
    this.#resourceVersion = rv;
  }

  #apply(event: RawWatchEvent): 'ok' | 'gone' | 'error' {
    this.#stats.events++;
    const { transform, keyOf } = this.#o;
    const meta = (event.object.metadata ?? {}) as { resourceVersion?: string };
    switch (event.type) {
      case 'BOOKMARK':
        if (meta.resourceVersion) this.#resourceVersion = meta.resourceVersion;
        return 'ok';
      case 'ERROR':
        return (event.object as { code?: number }).code === 410 ? 'gone' : 'error';
      case 'ADDED':
      case 'MODIFIED': {
        const item = transform(event.object);
        const key = keyOf(item);
        const old = this.#items.get(key);
        this.#items.set(key, item);
        if (old === undefined) this.#emit('add', item);
        else this.#emit('update', item, old);
        break;
      }
      case 'DELETED': {
        const item = transform(event.object);
        const key = keyOf(item);
        const old = this.#items.get(key);
        this.#items.delete(key);
        if (old !== undefined || this.#synced) this.#emit('delete', item);
        break;
      }
    }
    if (meta.resourceVersion) this.#resourceVersion = meta.resourceVersion;
    return 'ok';
  }

  async #run(): Promise<void> {
    const clock = this.#o.clock ?? systemClock;
    const random = this.#o.random ?? Math.random;
    const initialMs = this.#o.backoff?.initialMs ?? 200;
    const maxMs = this.#o.backoff?.maxMs ?? 10_000;
    let attempt = 0;
    let relist = false;
    while (!this.#stopped) {
      try {
        if (relist) {
          this.#stats.relists++;
          await this.#list();
          relist = false;
        }
        if (this.#stopped) break;
        let outcome = 'ok' as 'ok' | 'gone' | 'error';
        let errorEvent: RawWatchEvent | undefined;
        const timeoutSeconds = 300 + Math.floor(random() * 300);
        const handle = this.#o.client.watch(
          `${this.#o.path}${query({
            watch: 1,
            resourceVersion: this.#resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: this.#o.labelSelector,
            fieldSelector: this.#o.fieldSelector,
            timeoutSeconds,
          })}`,
          (event) => {
            if (outcome !== 'ok') return;
            outcome = this.#apply(event);
            if (outcome !== 'ok') {
              errorEvent = event;
              handle.abort();
            }
          },
        );
        this.#watch = handle;
        this.#stats.watches++;
        await handle.done;
        if (this.#stopped) break;
        if (outcome === 'gone') {
          relist = true;
          continue;
        }
        if (outcome === 'error') {
          const status = errorEvent?.object as { message?: string; code?: number } | undefined;
          throw new BerthError(
            'BACKEND_UNAVAILABLE',
            `watch ${this.#o.path}: ${status?.message ?? 'error event'}`,
            {
              component: 'k8s-adapter',
              details: { statusCode: status?.code },
            },
          );
        }
        attempt = 0;
      } catch (error) {
        if (this.#stopped) break;
        const e =
          error instanceof BerthError ? error : new BerthError('INTERNAL', String(error), { cause: error });
        if (httpStatusOf(e) === 410) {
          relist = true;
          continue;
        }
        this.#stats.errors++;
        this.#o.onError?.(e);
        const ceiling = Math.min(maxMs, initialMs * 2 ** attempt++);
        this.#abortSleep = new AbortController();
        await sleep(clock, Math.floor(random() * ceiling), this.#abortSleep.signal).catch(() => {});
      }
    }
  }
}
