import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Json, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { KubeStatusError } from './status.ts';

const pod = {
  metadata: { labels: { app: 'web', tier: 'fe' }, finalizers: ['a'] },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
      { name: 'side', image: 'busybox' },
    ],
    tolerations: [{ key: 'x', operator: 'Exists' }],
  },
};

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes on null and replaces lists whole', () => {
    const out = mergePatch(pod, {
      metadata: { labels: { tier: null, new: 'yes' } },
      spec: { containers: [{ name: 'only', image: 'x' }] },
    });
    expect(out).toEqual({
      metadata: { labels: { app: 'web', new: 'yes' }, finalizers: ['a'] },
      spec: { containers: [{ name: 'only', image: 'x' }], tolerations: [{ key: 'x', operator: 'Exists' }] },
    });
  });

  it('is idempotent: applying the same patch twice changes nothing more', () => {
    const json: fc.Arbitrary<Json> = fc.jsonValue() as fc.Arbitrary<Json>;
    fc.assert(
      fc.property(json, json, (target, patch) => {
        const once = mergePatch(target, patch);
        expect(mergePatch(once, patch)).toEqual(once);
      }),
    );
  });

  it('leaves its inputs untouched', () => {
    const before = JSON.stringify(pod);
    mergePatch(pod, { spec: { containers: null } });
    expect(JSON.stringify(pod)).toBe(before);
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('applies add, replace, remove, move, copy and test in order', () => {
    const out = jsonPatch(pod, [
      { op: 'test', path: '/spec/containers/0/name', value: 'web' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' },
      { op: 'add', path: '/metadata/labels/a~1b', value: 'slash' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'third', image: 'i' } },
      { op: 'remove', path: '/spec/containers/1' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copy' },
      { op: 'move', from: '/metadata/finalizers', path: '/metadata/moved' },
    ]) as typeof pod & { metadata: { moved: string[] } };
    expect(out.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:2'],
      ['third', 'i'],
    ]);
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'fe', 'a/b': 'slash', copy: 'web' });
    expect(out.metadata.moved).toEqual(['a']);
  });

  it('fails a whole patch on a failed test or a missing path, as a 400', () => {
    const failing = [
      [{ op: 'test', path: '/spec/containers/0/name', value: 'nope' }],
      [{ op: 'remove', path: '/spec/nothing' }],
      [{ op: 'replace', path: '/metadata/missing', value: 1 }],
      [{ op: 'jump', path: '/x' }],
    ];
    for (const ops of failing) {
      expect(() => jsonPatch(pod, ops)).toThrow(KubeStatusError);
      try {
        jsonPatch(pod, ops);
      } catch (error) {
        expect((error as KubeStatusError).code).toBe(400);
      }
    }
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name and their env and ports by key', () => {
    const out = strategicMergePatch(pod, {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:2',
            env: [{ name: 'B', value: '2' }],
            ports: [{ containerPort: 80, name: 'http' }],
          },
          { name: 'new', image: 'alpine' },
        ],
      },
    }) as typeof pod;
    expect(out.spec.containers).toEqual([
      {
        name: 'web',
        image: 'nginx:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80, name: 'http' }],
      },
      { name: 'side', image: 'busybox' },
      { name: 'new', image: 'alpine' },
    ]);
  });

  it('honours $patch delete/replace, $deleteFromPrimitiveList and ignores $setElementOrder', () => {
    const out = strategicMergePatch(pod, {
      metadata: { labels: { $patch: 'replace', only: 'this' }, '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }],
        containers: [{ name: 'side', $patch: 'delete' }],
        tolerations: [{ key: 'y', operator: 'Exists' }],
      },
    }) as typeof pod;
    expect(out.metadata).toEqual({ labels: { only: 'this' }, finalizers: [] });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['web']);
    expect(out.spec.tolerations).toEqual([{ key: 'y', operator: 'Exists' }]);
  });

  it('deletes map keys set to null', () => {
    expect(strategicMergePatch(pod, { metadata: { labels: { tier: null } } })).toMatchObject({
      metadata: { labels: { app: 'web' } },
    });
  });
});
