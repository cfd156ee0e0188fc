import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from './patch.ts';
import { KubeStatusError } from './status.ts';
import { VersionedStore } from './versioned-store.ts';

const obj = (name: string, value = 0) => ({ metadata: { name, namespace: 'ns' }, value });

describe('VersionedStore', () => {
  it('stamps every change with one global, strictly increasing revision', () => {
    const store = new VersionedStore();
    const a = store.write('pods', obj('a'));
    const b = store.write('services', obj('b'));
    const gone = store.remove('pods', 'ns', 'a');
    const revisions = [a, b, gone!].map((o) =>
      Number((o.metadata as { resourceVersion: string }).resourceVersion),
    );
    expect(revisions).toEqual([2, 3, 4]);
    expect(store.revision).toBe(4);
  });

  it('answers a list as of an older revision by undoing later changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean(), fc.integer()), {
          minLength: 1,
          maxLength: 30,
        }),
        (ops) => {
          const store = new VersionedStore();
          const snapshots = new Map<number, string>();
          for (const [name, remove, value] of ops) {
            if (remove) store.remove('pods', 'ns', name);
            else store.write('pods', obj(name, value));
            snapshots.set(store.revision, JSON.stringify(store.list('pods')));
          }
          for (const [revision, snapshot] of snapshots) {
            expect(JSON.stringify(store.list('pods', undefined, revision))).toBe(snapshot);
          }
        },
      ),
    );
  });

  it('returns 410 Expired for reads and watches older than the retained window', () => {
    const store = new VersionedStore({ retainedEvents: 3 });
    for (let i = 0; i < 6; i++) store.write('pods', obj('a', i));
    expect(store.since('pods', store.revision - 3)).toHaveLength(3);
    expect(() => store.since('pods', 2)).toThrow(KubeStatusError);
    let caught: unknown;
    try {
      store.list('pods', undefined, 2);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 410,
      reason: 'Expired',
      message: `too old resource version: 2 (${store.oldestRevision})`,
    });
  });

  it('keeps exactly the newest retainedEvents changes as the window moves on', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.constantFrom('pods', 'nodes'), fc.constantFrom('a', 'b'), fc.boolean()), {
          maxLength: 40,
        }),
        (retained, ops) => {
          const store = new VersionedStore({ retainedEvents: retained });
          const history: { resource: string; revision: number }[] = [];
          for (const [resource, name, remove] of ops) {
            if (remove) store.remove(resource, 'ns', name);
            else store.write(resource, obj(name));
            if (store.revision !== history.at(-1)?.revision)
              history.push({ resource, revision: store.revision });
          }
          const kept = history.slice(-retained);
          const oldest = history.length > retained ? history.at(-retained - 1)!.revision : 1;
          expect(store.oldestRevision).toBe(oldest);
          for (let rv = oldest; rv <= store.revision; rv++) {
            for (const resource of ['pods', 'nodes']) {
              expect(store.since(resource, rv).map((e) => e.revision)).toEqual(
                kept.filter((e) => e.resource === resource && e.revision > rv).map((e) => e.revision),
              );
            }
          }
          if (oldest > 1) expect(() => store.since('pods', oldest - 1)).toThrow(KubeStatusError);
        },
      ),
    );
  });

  it('writeShared stores a new version sharing unchanged parts, leaving the previous one as it was', () => {
    const store = new VersionedStore();
    store.write('pods', { metadata: { name: 'a', namespace: 'ns' }, spec: { containers: [1] }, status: {} });
    const before = store.revision;
    const current = store.getShared('pods', 'ns', 'a')!;
    const next: JsonObject = { ...current, status: { phase: 'Running' } };
    const stored = store.writeShared('pods', next);
    expect(stored.spec).toBe(current.spec);
    // Only the store's own copy of the metadata is stamped.
    expect((next.metadata as { resourceVersion: string }).resourceVersion).toBe(String(before));
    expect((stored.metadata as { resourceVersion: string }).resourceVersion).toBe(String(store.revision));
    expect(store.list('pods', undefined, before)[0]).toMatchObject({ status: {} });
    expect(store.since('pods', before)[0]).toMatchObject({ previous: current, object: stored });
  });

  it('compaction keeps the current revision watchable and expires everything older', () => {
    const store = new VersionedStore();
    store.write('pods', obj('a'));
    store.write('pods', obj('b'));
    store.compact();
    expect(store.since('pods', store.revision)).toEqual([]);
    expect(() => store.since('pods', store.revision - 1)).toThrow('too old resource version');
  });

  it('hands out copies: mutating a result never changes the stored object', () => {
    const store = new VersionedStore();
    store.write('pods', obj('a', 1));
    const got = store.get('pods', 'ns', 'a')!;
    got.value = 99;
    expect(store.get('pods', 'ns', 'a')!.value).toBe(1);
  });
});
