import { isBerthError } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandGroups, presetGroups } from './presets.ts';

describe('presets', () => {
  it('laptop splits the machine into nodes that never add up to more than it has (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 256 }),
        fc.integer({ min: 2 ** 28, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 2 ** 44 }),
        (cores, memoryBytes, diskBytes) => {
          const nodes = expandGroups(presetGroups('laptop', { cores, memoryBytes, diskBytes }));
          expect(nodes.length).toBeGreaterThanOrEqual(2);
          const sum = (f: (c: { cpu?: number; memory?: number }) => number) =>
            nodes.reduce((s, n) => s + f(n.capacity as { cpu?: number; memory?: number }), 0);
          expect(sum((c) => c.cpu ?? 0)).toBeLessThanOrEqual(cores * 1000);
          expect(sum((c) => c.cpu ?? 0)).toBeGreaterThan(cores * 1000 - nodes.length);
          expect(sum((c) => c.memory ?? 0)).toBeLessThanOrEqual(memoryBytes);
          // Disjoint port ranges: real processes on different virtual nodes never share a port.
          const ranges = nodes.map((n) => n.ports as { begin: number; end: number });
          for (let i = 1; i < ranges.length; i++)
            expect(ranges[i]!.begin).toBeGreaterThan(ranges[i - 1]!.end);
        },
      ),
    );
  });

  it('rack and large spread consecutive nodes over racks and racks over zones', () => {
    const rack = expandGroups(presetGroups('rack'));
    expect(rack).toHaveLength(200);
    expect(new Set(rack.map((n) => n.rack)).size).toBe(10);
    expect(new Set(rack.map((n) => n.zone))).toEqual(new Set(['zone-a', 'zone-b']));
    expect(rack.filter((n) => n.rack === 'rack-1')).toHaveLength(20);
    const large = expandGroups(presetGroups('large'));
    expect(large).toHaveLength(5000);
    expect(new Set(large.map((n) => n.id)).size).toBe(5000);
    expect(new Set(large.map((n) => n.zone)).size).toBe(3);
  });

  it('rejects an unknown preset and a zero count naming the field', () => {
    expect(() => presetGroups('huge' as 'large')).toThrowError(/unknown devcluster preset "huge"/);
    try {
      expandGroups([{ count: 1 }, { count: 0, capacity: {} }] as never);
      expect.unreachable();
    } catch (e) {
      expect(isBerthError(e, 'SPEC_INVALID')).toBe(true);
      expect((e as Error).message).toContain('nodes[1].count');
    }
  });
});
