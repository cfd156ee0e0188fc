import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../cluster/errors.ts';
import { PortRanges } from './port-ranges.ts';

const p = (text: string) => PortRanges.parse(text);

describe('PortRanges', () => {
  it('merges overlapping and adjacent ranges and prints them like "31000-31002,31005"', () => {
    const set = PortRanges.of(
      { begin: 31003, end: 31003 },
      { begin: 31000, end: 31002 },
      { begin: 31005, end: 31005 },
    );
    expect(set.toString()).toBe('31000-31003,31005');
    expect(set.size).toBe(5);
    expect(PortRanges.of({ begin: 10, end: 20 }, { begin: 15, end: 25 }).ranges).toEqual([
      { begin: 10, end: 25 },
    ]);
    expect(PortRanges.fromPorts([5, 3, 4, 9]).toString()).toBe('3-5,9');
  });

  it('parses its own form and the bracketed Mesos text form', () => {
    expect(p('31000-31002,31005').ranges).toEqual([
      { begin: 31000, end: 31002 },
      { begin: 31005, end: 31005 },
    ]);
    expect(p('[31000-32000]').size).toBe(1001);
    expect(p('').isEmpty).toBe(true);
  });

  it.each([
    ['31000-', 'not a list of ports'],
    ['abc', 'not a list of ports'],
    ['70000', 'not a port'],
    ['20-10', 'ends before it begins'],
  ])('rejects %j with SPEC_INVALID (%s)', (text, message) => {
    let caught: unknown;
    try {
      p(text);
    } catch (err) {
      caught = err;
    }
    expect(isBerthError(caught, 'SPEC_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(message);
  });

  it('rejects fractional ports', () => {
    expect(() => PortRanges.of({ begin: 1.5, end: 2 })).toThrow(/not a port/);
  });

  it('answers contains and containsAll', () => {
    const set = p('31000-31002,31005,31010-31020');
    expect(set.contains(31000)).toBe(true);
    expect(set.contains(31003)).toBe(false);
    expect(set.contains(31005)).toBe(true);
    expect(set.contains(31020)).toBe(true);
    expect(set.contains(31021)).toBe(false);
    expect(set.containsAll(p('31001-31002,31012'))).toBe(true);
    expect(set.containsAll(p('31002-31003'))).toBe(false);
    expect(set.containsAll(PortRanges.EMPTY)).toBe(true);
    expect(PortRanges.EMPTY.containsAll(p('1'))).toBe(false);
  });

  it('subtracts, splitting ranges', () => {
    expect(p('1-10').sub(p('3,5-6')).toString()).toBe('1-2,4,7-10');
    expect(p('1-10').sub(p('0-100')).isEmpty).toBe(true);
    expect(p('1-3,7-9').sub(p('2-8')).toString()).toBe('1,9');
    expect(p('1-3').sub(p('5')).toString()).toBe('1-3');
  });

  it('adds and intersects', () => {
    expect(p('1-3').add(p('4-6,10')).toString()).toBe('1-6,10');
    expect(p('1-10').intersect(p('5-15,20')).toString()).toBe('5-10');
    expect(p('1-3').intersects(p('3-4'))).toBe(true);
    expect(p('1-3').intersects(p('4-5'))).toBe(false);
  });

  it('takes the n lowest ports, or undefined when there are not enough', () => {
    const free = p('31000-31001,31005-31010');
    expect(free.take(3)?.toString()).toBe('31000-31001,31005');
    expect(free.take(0)?.isEmpty).toBe(true);
    expect(free.take(8)?.toString()).toBe('31000-31001,31005-31010');
    expect(free.take(9)).toBeUndefined();
    expect(() => free.take(-1)).toThrow(/whole number/);
  });

  it('compares and tests equality', () => {
    expect(p('1-3').equals(p('1,2,3'))).toBe(true);
    expect(p('1-3').compare(p('1-2'))).toBe(1);
    expect(p('1-2').compare(p('2-3'))).toBe(-1);
    expect(p('5').compare(p('5'))).toBe(0);
  });

  const arbSet = fc
    .array(
      fc.tuple(fc.integer({ min: 30990, max: 31060 }), fc.integer({ min: 0, max: 8 })).map(([b, len]) => ({
        begin: b,
        end: b + len,
      })),
      { maxLength: 8 },
    )
    .map((ranges) => PortRanges.from(ranges));
  const portsOf = (set: PortRanges) => new Set(set.ports());

  it('matches a plain Set of ports for add, sub, size and containsAll', () => {
    fc.assert(
      fc.property(arbSet, arbSet, (a, b) => {
        const sa = portsOf(a);
        const sb = portsOf(b);
        const union = portsOf(a.add(b));
        const diff = portsOf(a.sub(b));
        return (
          a.size === sa.size &&
          union.size === new Set([...sa, ...sb]).size &&
          [...sb].every((x) => union.has(x)) &&
          [...diff].every((x) => sa.has(x) && !sb.has(x)) &&
          diff.size === [...sa].filter((x) => !sb.has(x)).length &&
          a.containsAll(b) === [...sb].every((x) => sa.has(x))
        );
      }),
      { numRuns: 500 },
    );
  });

  it('never hands out a port twice when allocating with take then sub', () => {
    fc.assert(
      fc.property(
        arbSet,
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 12 }),
        (initial, requests) => {
          let free = initial;
          const handedOut = new Set<number>();
          for (const n of requests) {
            const got = free.take(n);
            if (got === undefined) {
              if (free.size >= n) return false;
              continue;
            }
            if (got.size !== n || !free.containsAll(got)) return false;
            for (const port of got.ports()) {
              if (handedOut.has(port)) return false;
              handedOut.add(port);
            }
            free = free.sub(got);
          }
          return free.size + handedOut.size === initial.size;
        },
      ),
      { numRuns: 500 },
    );
  });
});
