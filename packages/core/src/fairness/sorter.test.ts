import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../cluster/errors.ts';
import { Resources } from '../resources/resources.ts';
import { DRFSorter, FifoSorter, type Sorter } from './sorter.ts';

const GB = 1024 ** 3;
const res = (cpus: number, gb = 0) => Resources.of({ cpu: cpus * 1000, memory: gb * GB });

/** Progressive filling: serve the first client in sort() order whose next task still fits. */
function fill(sorter: Sorter, total: Resources, demands: Record<string, Resources>): Record<string, number> {
  sorter.addTotal(total);
  for (const name of Object.keys(demands)) if (!sorter.contains(name)) sorter.add(name);
  let free = total;
  const tasks: Record<string, number> = Object.fromEntries(Object.keys(demands).map((n) => [n, 0]));
  for (;;) {
    const next = sorter.sort().find((n) => demands[n]!.fits(free));
    if (next === undefined) return tasks;
    free = free.sub(demands[next]!);
    sorter.allocated(next, demands[next]!);
    tasks[next]!++;
  }
}

// One typed suite every sorter passes, as Mesos runs its sorter tests over DRF and Random.
describe.each([
  ['DRFSorter', () => new DRFSorter()],
  ['FifoSorter', () => new FifoSorter()],
] as const)('%s (Sorter contract)', (_name, make) => {
  it('sorts exactly the active clients, each once', () => {
    const s = make();
    s.add('a');
    s.add('b');
    s.add('c', { active: false });
    expect(s.sort().sort()).toEqual(['a', 'b']);
    s.activate('c');
    s.deactivate('a');
    expect(s.sort().sort()).toEqual(['b', 'c']);
    expect(s.size).toBe(3);
    s.remove('b');
    expect(s.contains('b')).toBe(false);
    expect(s.sort().sort()).toEqual(['c']);
  });

  it('keeps the allocation of an inactive client and gives it back on unallocate', () => {
    const s = make();
    s.addTotal(res(10, 10));
    s.add('a');
    s.allocated('a', res(2, 1));
    s.allocated('a', res(1, 1));
    s.deactivate('a');
    expect(s.allocation('a').equals(res(3, 2))).toBe(true);
    expect(s.client('a').allocations).toBe(2);
    s.unallocated('a', res(3, 2));
    expect(s.allocation('a').isZero()).toBe(true);
  });

  it('refuses unknown clients, duplicates, bad weights and over-unallocation without changing anything', () => {
    const s = make();
    s.add('a');
    s.allocated('a', res(1));
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return isBerthError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => s.add('a'))).toBe('CONFLICT');
    expect(code(() => s.allocated('zz', res(1)))).toBe('NOT_FOUND');
    expect(code(() => s.updateWeight('a', 0))).toBe('SPEC_INVALID');
    expect(code(() => s.add('b', { weight: -1 }))).toBe('SPEC_INVALID');
    expect(code(() => s.add(''))).toBe('SPEC_INVALID');
    expect(code(() => s.unallocated('a', res(2)))).toBe('CONFLICT');
    expect(code(() => s.removeTotal(res(1)))).toBe('CONFLICT');
    expect(s.contains('b')).toBe(false);
    expect(s.allocation('a').equals(res(1))).toBe(true);
    expect(s.client('a').weight).toBe(1);
  });

  it('gives identical orders for identical call sequences (replays are deterministic)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 })), { maxLength: 40 }),
        (ops) => {
          const run = () => {
            const s = make();
            s.addTotal(res(16, 16));
            for (const n of ['e', 'd', 'c', 'b', 'a']) s.add(n);
            const orders: string[][] = [];
            for (const [who, cpus] of ops) {
              s.allocated('abcde'[who]!, res(cpus, cpus));
              orders.push(s.sort());
            }
            return orders;
          };
          expect(run()).toEqual(run());
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('DRFSorter', () => {
  it('reproduces the DRF paper: total <9 cpu, 18 GB>, A <1, 4 GB>, B <3, 1 GB> → A 3 tasks, B 2', () => {
    const tasks = fill(new DRFSorter(), res(9, 18), { A: res(1, 4), B: res(3, 1) });
    expect(tasks).toEqual({ A: 3, B: 2 });
  });

  it('gives a weight-2 client twice the dominant share of a weight-1 client', () => {
    const s = new DRFSorter();
    s.add('light');
    s.add('heavy', { weight: 2 });
    const tasks = fill(s, res(30), { light: res(1), heavy: res(1) });
    expect(tasks).toEqual({ light: 10, heavy: 20 });
    expect(s.client('heavy').share).toBeCloseTo(s.client('light').share, 9);
  });

  it('applies a weight change on the next sort', () => {
    const s = new DRFSorter();
    s.addTotal(res(10));
    s.add('a');
    s.add('b');
    s.allocated('a', res(2));
    s.allocated('b', res(3));
    expect(s.sort()).toEqual(['a', 'b']);
    s.updateWeight('b', 2);
    expect(s.sort()).toEqual(['b', 'a']);
    expect(s.client('b').share).toBeCloseTo(0.15, 9);
  });

  it('breaks share ties by allocation count, then by name', () => {
    const s = new DRFSorter();
    s.addTotal(res(10));
    s.add('b');
    s.add('a');
    s.add('c');
    expect(s.sort()).toEqual(['a', 'b', 'c']);
    s.allocated('a', res(1));
    s.allocated('a', res(1));
    s.allocated('c', res(2));
    // a and c share 0.2; c was allocated once, a twice.
    expect(s.sort()).toEqual(['b', 'c', 'a']);
  });

  it('ignores ports, which are per-node sets: totals of two nodes with the same range add up', () => {
    const s = new DRFSorter();
    const node = Resources.fromQuantities({ cpu: '2', ports: '31000-32000' });
    s.addTotal(node);
    s.addTotal(node);
    s.removeTotal(node);
    expect(s.total.cpu).toBe(2000);
    s.add('a');
    s.allocated('a', node);
    s.allocated('a', node);
    s.unallocated('a', node);
    expect(s.allocation('a').cpu).toBe(2000);
  });

  it('measures shares against scalar resources only, like Mesos (ports do not count)', () => {
    const s = new DRFSorter();
    s.addTotal(Resources.fromQuantities({ cpu: '10', memory: '10Gi', ports: '31000-31009' }));
    s.add('a');
    s.allocated('a', Resources.fromQuantities({ cpu: '1', ports: '31000-31008' }));
    expect(s.client('a').share).toBeCloseTo(0.1, 9);
  });

  it('leaves excluded resources out of the share', () => {
    const s = new DRFSorter({ excludeResources: ['gpus'] });
    s.addTotal(Resources.of({ cpu: 10_000, gpus: 2 }));
    s.add('a');
    s.allocated('a', Resources.of({ cpu: 1000, gpus: 2 }));
    expect(s.client('a').share).toBeCloseTo(0.1, 9);
  });

  it('re-measures shares when the total changes', () => {
    const s = new DRFSorter();
    s.addTotal(res(10, 10));
    s.add('cpuHeavy');
    s.add('memHeavy');
    s.allocated('cpuHeavy', res(4, 1));
    s.allocated('memHeavy', res(1, 3));
    expect(s.sort()).toEqual(['memHeavy', 'cpuHeavy']);
    s.addTotal(res(30, 0));
    expect(s.sort()).toEqual(['cpuHeavy', 'memHeavy']);
    s.removeTotal(res(30, 0));
    expect(s.sort()).toEqual(['memHeavy', 'cpuHeavy']);
  });

  it('always returns clients in non-decreasing (share, allocations, name) order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(4), fc.nat(4)), { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 6, maxLength: 6 }),
        (ops, weights) => {
          const s = new DRFSorter();
          s.addTotal(res(64, 64));
          for (const [i, w] of weights.entries()) s.add(`c${i}`, { weight: w });
          for (const [who, c, m] of ops) s.allocated(`c${who}`, res(c, m));
          const order = s.sort().map((n) => s.client(n));
          for (let i = 1; i < order.length; i++) {
            const [a, b] = [order[i - 1]!, order[i]!];
            expect(a.share <= b.share).toBe(true);
            if (a.share === b.share) {
              expect(a.allocations <= b.allocations).toBe(true);
              if (a.allocations === b.allocations) expect(a.name < b.name).toBe(true);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('FifoSorter', () => {
  it('serves clients in arrival order whatever they hold', () => {
    const s = new FifoSorter();
    s.addTotal(res(10));
    s.add('z');
    s.add('a');
    s.allocated('z', res(9));
    expect(s.sort()).toEqual(['z', 'a']);
  });
});
