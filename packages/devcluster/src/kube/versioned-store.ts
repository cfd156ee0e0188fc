/**
 * The storage under the API: objects keyed by resource, namespace and name, one global
 * monotonically increasing revision (etcd's), and a bounded window of past changes so
 * watches can resume from a resourceVersion and lists can be answered as of an older one.
 * Requests older than the window get 410 Expired, as from a compacted etcd.
 */
import { clone, isObject, type JsonObject } from './patch.ts';
import { expired } from './status.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly resource: string;
  readonly revision: number;
  /** The object after the change (for DELETED: the last state, stamped with the deletion revision). */
  readonly object: JsonObject;
  /** The object before the change (undefined for ADDED). */
  readonly previous: JsonObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

/** A saved store: the revision and every object by resource key. */
export interface StoreSnapshot {
  readonly revision: number;
  readonly resources: Readonly<Record<string, readonly JsonObject[]>>;
}

export interface VersionedStoreOptions {
  /** How many past changes to keep for watch resumption and older reads (default 2000). */
  readonly retainedEvents?: number;
}

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function metaOf(obj: JsonObject): JsonObject {
  const m = obj.metadata;
  if (isObject(m)) return m;
  const fresh: JsonObject = {};
  obj.metadata = fresh;
  return fresh;
}

function nsName(obj: JsonObject): [string, string] {
  const m = metaOf(obj);
  return [typeof m.namespace === 'string' ? m.namespace : '', typeof m.name === 'string' ? m.name : ''];
}

export class VersionedStore {
  readonly #objects = new Map<string, Map<string, JsonObject>>();
  /**
   * The retained changes as a ring: it grows to `#retained` entries, then each change overwrites
   * the oldest (at `#start`), so recording costs O(1) however large the window is.
   */
  readonly #log: StoreEvent[] = [];
  #start = 0;
  readonly #retained: number;
  readonly #listeners = new Set<StoreListener>();
  #revision = 1;
  /** Reads and watches from a revision below this one are outside the window. */
  #floor = 1;

  constructor(options: VersionedStoreOptions = {}) {
    this.#retained = options.retainedEvents ?? 2000;
  }

  /** The newest revision (what a list returns as `metadata.resourceVersion`). */
  get revision(): number {
    return this.#revision;
  }

  /** The oldest revision a watch or list may still start from. */
  get oldestRevision(): number {
    return this.#floor;
  }

  #bucket(resource: string): Map<string, JsonObject> {
    let b = this.#objects.get(resource);
    if (!b) {
      b = new Map();
      this.#objects.set(resource, b);
    }
    return b;
  }

  get(resource: string, namespace: string, name: string): JsonObject | undefined {
    const obj = this.#objects.get(resource)?.get(keyOf(namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  /** Like `get`, without copying: the store's own object, which must never be mutated. */
  getShared(resource: string, namespace: string, name: string): JsonObject | undefined {
    return this.#objects.get(resource)?.get(keyOf(namespace, name));
  }

  /** The `i`-th retained change, oldest first. */
  #event(i: number): StoreEvent {
    return this.#log[(this.#start + i) % this.#log.length]!;
  }

  /** Index of the first retained change newer than `revision` (the log is sorted by revision). */
  #firstAfter(revision: number): number {
    let lo = 0;
    let hi = this.#log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#event(mid).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Throws 410 Expired when `revision` is older than the retained window. */
  checkRevision(revision: number): void {
    if (revision < this.#floor) throw expired(revision, this.#floor);
  }

  /**
   * All objects of a resource (optionally one namespace) sorted by namespace/name, as of
   * `atRevision` (default: now). Older states are rebuilt by undoing the retained changes.
   */
  list(resource: string, namespace?: string, atRevision?: number): JsonObject[] {
    return this.listShared(resource, namespace, atRevision).map((o) => clone(o));
  }

  /**
   * Like `list`, without copying: the objects are the store's own and must not be mutated
   * (callers filter first and copy what they hand out).
   */
  listShared(resource: string, namespace?: string, atRevision?: number): readonly JsonObject[] {
    const current = this.#objects.get(resource) ?? new Map<string, JsonObject>();
    let state: Map<string, JsonObject> = current;
    if (atRevision !== undefined && atRevision < this.#revision) {
      this.checkRevision(atRevision);
      state = new Map(current);
      for (let i = this.#log.length - 1; i >= 0; i--) {
        const e = this.#event(i);
        if (e.revision <= atRevision) break;
        if (e.resource !== resource) continue;
        const key = keyOf(...nsName(e.object));
        if (e.previous === undefined) state.delete(key);
        else state.set(key, e.previous);
      }
    }
    const prefix = namespace === undefined || namespace === '' ? '' : `${namespace}/`;
    const keys = [...state.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((key) => state.get(key)!);
  }

  /** Store a new or changed object; stamps `metadata.resourceVersion` and returns the stored copy. */
  write(resource: string, object: JsonObject): JsonObject {
    return clone(this.writeShared(resource, clone(object)));
  }

  /**
   * `write` without copies, for callers that build each new version from the stored one: `object`
   * becomes the store's own (never mutate it, nor anything in it, afterwards) and may share
   * unchanged parts with the stored version it replaces; only its `metadata` is copied, to stamp
   * the revision. Returns the stored object (read-only, like `getShared`).
   */
  writeShared(resource: string, object: JsonObject): JsonObject {
    const obj: JsonObject = { ...object, metadata: { ...metaOf(object) } };
    const key = keyOf(...nsName(obj));
    const bucket = this.#bucket(resource);
    const previous = bucket.get(key);
    this.#revision++;
    metaOf(obj).resourceVersion = String(this.#revision);
    bucket.set(key, obj);
    this.#record({
      type: previous === undefined ? 'ADDED' : 'MODIFIED',
      resource,
      revision: this.#revision,
      object: obj,
      previous,
    });
    return obj;
  }

  /** Remove an object; the DELETED event carries its last state with a new revision. */
  remove(resource: string, namespace: string, name: string): JsonObject | undefined {
    const bucket = this.#objects.get(resource);
    const key = keyOf(namespace, name);
    const previous = bucket?.get(key);
    if (bucket === undefined || previous === undefined) return undefined;
    bucket.delete(key);
    this.#revision++;
    // Stored objects are never mutated, so the last state shares all but its metadata.
    const last: JsonObject = {
      ...previous,
      metadata: { ...metaOf(previous), resourceVersion: String(this.#revision) },
    };
    this.#record({ type: 'DELETED', resource, revision: this.#revision, object: last, previous });
    return clone(last);
  }

  #record(event: StoreEvent): void {
    if (this.#log.length < this.#retained) this.#log.push(event);
    else {
      this.#floor = this.#log[this.#start]!.revision;
      this.#log[this.#start] = event;
      this.#start = (this.#start + 1) % this.#log.length;
    }
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** Changes of `resource` after `revision`, oldest first (410 Expired if outside the window). */
  since(resource: string, revision: number): StoreEvent[] {
    this.checkRevision(revision);
    const out: StoreEvent[] = [];
    for (let i = this.#firstAfter(revision); i < this.#log.length; i++) {
      const e = this.#event(i);
      if (e.resource === resource) out.push(e);
    }
    return out;
  }

  /** Live changes from now on; returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Every object and the revision, for saving; restore with `restore`. */
  snapshot(): StoreSnapshot {
    const resources: Record<string, JsonObject[]> = {};
    for (const [resource, bucket] of this.#objects)
      resources[resource] = [...bucket.values()].map((o) => clone(o));
    return { revision: this.#revision, resources };
  }

  /** Like `snapshot`, without copying: the store's own objects, to serialize at once and drop. */
  snapshotShared(): StoreSnapshot {
    const resources: Record<string, JsonObject[]> = {};
    for (const [resource, bucket] of this.#objects) resources[resource] = [...bucket.values()];
    return { revision: this.#revision, resources };
  }

  /**
   * Replace the contents with a snapshot (no events are sent; history starts empty, so watches
   * from before it get 410 Expired, as after an etcd restore).
   */
  restore(snapshot: StoreSnapshot): void {
    this.#objects.clear();
    for (const [resource, objects] of Object.entries(snapshot.resources)) {
      const bucket = this.#bucket(resource);
      for (const obj of objects) bucket.set(keyOf(...nsName(obj)), clone(obj));
    }
    this.#revision = snapshot.revision;
    this.#log.length = 0;
    this.#start = 0;
    this.#floor = snapshot.revision;
  }

  /** Forget the retained history, as an etcd compaction at the current revision. */
  compact(): void {
    this.#log.length = 0;
    this.#start = 0;
    this.#floor = this.#revision;
  }
}
