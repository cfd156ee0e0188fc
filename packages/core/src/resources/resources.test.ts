import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BerthError, isBerthError } from '../cluster/errors.ts';
import { PortRanges } from './port-ranges.ts';
import { Resources } from './resources.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

function thrown(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error('expected a BerthError');
}

describe('Resources construction', () => {
  it('takes base-unit integers', () => {
    const r = Resources.of({ cpu: 2000, memory: 4 * GI, ports: PortRanges.parse('31000-31002') });
    expect([r.cpu, r.memory, r.disk, r.gpus]).toEqual([2000, 4 * GI, 0, 0]);
    expect(r.toString()).toBe('2 cpu, 4Gi mem, ports 31000-31002');
  });

  it.each([
    ['cpu', { cpu: 0.5 }],
    ['memory', { memory: -1 }],
    ['disk', { disk: Number.NaN }],
    ['gpus', { gpus: 2 ** 53 }],
    ['extended["example.com/fpga"]', { extended: { 'example.com/fpga': 1.5 } }],
    ['extended["nvidia.com/gpu"]', { extended: { 'nvidia.com/gpu': 1 } }],
    ['extended["memory"]', { extended: new Map([['memory', 1]]) }],
  ])('rejects a bad %s with SPEC_INVALID naming the field', (field, init) => {
    const err = thrown(() => Resources.of(init));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toContain(`resources.${field}`);
    expect(err.issues[0]?.path).toBe(`resources.${field}`);
  });

  it('reads Kubernetes quantities, rounding cpu up to millicpu like MilliValue()', () => {
    const r = Resources.fromQuantities({
      cpu: '1.0001',
      memory: '1.5Gi',
      'ephemeral-storage': '10G',
      'nvidia.com/gpu': '2',
      'example.com/fpga': 1,
    });
    expect(r.cpu).toBe(1001);
    expect(r.memory).toBe(1.5 * GI);
    expect(r.disk).toBe(10_000_000_000);
    expect(r.gpus).toBe(2);
    expect(r.extended.get('example.com/fpga')).toBe(1);
    expect(Resources.fromQuantities({ cpu: 0.5 }).cpu).toBe(500);
    expect(Resources.fromQuantities({ cpu: 1e-7 }).cpu).toBe(1);
    expect(Resources.fromQuantities({ cpu: '100m', disk: '1Ki' }).disk).toBe(1024);
    expect(Resources.fromQuantities({ memory: '1e3' }).memory).toBe(1000);
  });

  it('reports a malformed quantity with the field and an example', () => {
    const err = thrown(() => Resources.fromQuantities({ cpu: '2 cores' }));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toContain('resources.cpu');
    expect(err.message).toContain('"2 cores" is not a quantity (e.g. "2" or "1500m")');
    expect(err.issues[0]?.path).toBe('resources.cpu');
  });

  it('refuses negative quantities, both disk spellings at once, and amounts beyond the safe range', () => {
    expect(thrown(() => Resources.fromQuantities({ memory: '-1Gi' })).message).toContain('resources.memory');
    expect(
      thrown(() => Resources.fromQuantities({ disk: '1Gi', 'ephemeral-storage': '1Gi' })).message,
    ).toContain('same resource');
    expect(thrown(() => Resources.fromQuantities({ memory: '8Ei' })).message).toContain('too large');
  });

  it('round-trips through toJSON and fromQuantities', () => {
    const r = Resources.of({
      cpu: 1500,
      memory: 1536 * MI,
      disk: 10 * GI,
      gpus: 1,
      ports: PortRanges.parse('31000-31002,31005'),
      extended: { 'example.com/fpga': 2 },
    });
    expect(r.toJSON()).toEqual({
      cpu: '1500m',
      memory: '1536Mi',
      'ephemeral-storage': '10Gi',
      'nvidia.com/gpu': '1',
      'example.com/fpga': '2',
      ports: '31000-31002,31005',
    });
    expect(r.toQuantities()).not.toHaveProperty('ports');
    expect(Resources.fromQuantities(r.toJSON()).equals(r)).toBe(true);
    expect(r.toString()).toBe(
      '1.5 cpu, 1536Mi mem, 10Gi disk, 1 gpu, 2 example.com/fpga, ports 31000-31002,31005',
    );
  });

  it('is ZERO when empty', () => {
    expect(Resources.of({})).toBe(Resources.ZERO);
    expect(Resources.ZERO.isZero()).toBe(true);
    expect(Resources.ZERO.toString()).toBe('none');
    expect(Resources.of({ cpu: 1 }).isZero()).toBe(false);
  });
});

describe('Resources arithmetic', () => {
  const a = Resources.of({
    cpu: 1000,
    memory: GI,
    ports: PortRanges.parse('31000'),
    extended: { 'x.io/a': 1 },
  });
  const b = Resources.of({
    cpu: 500,
    memory: GI,
    gpus: 1,
    ports: PortRanges.parse('31001'),
    extended: { 'x.io/b': 3 },
  });

  it('adds every resource, merging ports and extended names', () => {
    const sum = a.add(b);
    expect(sum.toJSON()).toEqual({
      cpu: '1500m',
      memory: '2Gi',
      'nvidia.com/gpu': '1',
      'x.io/a': '1',
      'x.io/b': '3',
      ports: '31000-31001',
    });
  });

  it('refuses to go negative unless asked to clamp, and never half-applies', () => {
    const err = thrown(() => a.sub(b));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toContain('gpus');
    const clamped = a.sub(b, 'clamp');
    expect(clamped.toJSON()).toEqual({ cpu: '500m', 'x.io/a': '1', ports: '31000' });
    expect(thrown(() => a.sub(Resources.of({ ports: PortRanges.parse('31005') }))).message).toContain(
      '31005',
    );
    expect(a.sub(Resources.of({ extended: { 'x.io/a': 1 } })).extended.size).toBe(0);
  });

  it('refuses sums beyond Number.MAX_SAFE_INTEGER', () => {
    const big = Resources.of({ memory: Number.MAX_SAFE_INTEGER });
    expect(thrown(() => big.add(Resources.of({ memory: 1 }))).message).toContain(
      'resources.memory overflows',
    );
  });

  it('fits when every amount and every requested port is free', () => {
    const free = Resources.of({ cpu: 2000, memory: 2 * GI, gpus: 1, ports: PortRanges.parse('31000-31010') });
    expect(Resources.of({ cpu: 2000, memory: 2 * GI }).fits(free)).toBe(true);
    expect(Resources.of({ cpu: 2001 }).fits(free)).toBe(false);
    expect(Resources.of({ gpus: 2 }).fits(free)).toBe(false);
    expect(Resources.of({ ports: PortRanges.parse('31005') }).fits(free)).toBe(true);
    expect(Resources.of({ ports: PortRanges.parse('31011') }).fits(free)).toBe(false);
    expect(Resources.of({ extended: { 'x.io/a': 1 } }).fits(free)).toBe(false);
    expect(Resources.of({ extended: { 'x.io/a': 1 } }).fits(a)).toBe(true);
    expect(Resources.of({ extended: { 'x.io/a': 2 } }).fits(a)).toBe(false);
    expect(Resources.ZERO.fits(Resources.ZERO)).toBe(true);
  });

  it('computes the dominant share, ignoring resources the total lacks', () => {
    const total = Resources.of({ cpu: 10_000, memory: 100 * GI, ports: PortRanges.parse('31000-31099') });
    expect(Resources.of({ cpu: 1000, memory: 50 * GI }).dominantShare(total)).toBe(0.5);
    expect(Resources.of({ cpu: 3000, gpus: 4 }).dominantShare(total)).toBe(0.3);
    expect(Resources.of({ ports: PortRanges.parse('31000-31009') }).dominantShare(total)).toBe(0.1);
    expect(Resources.ZERO.dominantShare(total)).toBe(0);
  });

  it('scales and rounds up, without float noise', () => {
    const r = Resources.of({ cpu: 3, memory: 10, extended: { 'x.io/a': 1 } });
    expect(r.scale(1.1).cpu).toBe(4);
    expect(r.scale(1.1).memory).toBe(11);
    expect(r.scale(0.5).extended.get('x.io/a')).toBe(1);
    expect(r.scale(0).isZero()).toBe(true);
    expect(Resources.of({ cpu: 100 }).scale(0.07).cpu).toBe(7);
    expect(() => r.scale(-1)).toThrow(/scale factor/);
  });

  it('orders totally and consistently with equals', () => {
    const list = [
      Resources.of({ cpu: 2 }),
      Resources.of({ cpu: 1, memory: 5 }),
      Resources.of({ cpu: 1, memory: 5, extended: { 'x.io/a': 1 } }),
      Resources.of({ cpu: 1, ports: PortRanges.parse('1') }),
      Resources.ZERO,
    ];
    const sorted = [...list].sort((x, y) => x.compare(y));
    expect(sorted.map((r) => r.toString())).toEqual([
      'none',
      '0.001 cpu, ports 1',
      '0.001 cpu, 5 mem',
      '0.001 cpu, 5 mem, 1 x.io/a',
      '0.002 cpu',
    ]);
  });
});

describe('Resources properties', () => {
  const small = (max: number) => fc.integer({ min: 0, max });
  const arbResources = fc
    .record({
      cpu: small(64_000),
      memory: small(256 * GI),
      disk: small(1024 * GI),
      gpus: small(8),
      ports: fc.array(fc.integer({ min: 31000, max: 31020 }), { maxLength: 5 }),
      fpga: small(3),
    })
    .map(({ ports, fpga, ...rest }) =>
      Resources.of({ ...rest, ports: PortRanges.fromPorts(ports), extended: { 'example.com/fpga': fpga } }),
    );

  it('subtracting what was added gives back the original', () => {
    fc.assert(
      fc.property(arbResources, arbResources, (x, y) => {
        const disjoint = y.withPorts(y.ports.sub(x.ports));
        return x.add(disjoint).sub(disjoint).equals(x) && x.add(disjoint).sub(x).equals(disjoint);
      }),
      { numRuns: 500 },
    );
  });

  it('fits is monotone: more free room never turns a fit into a misfit', () => {
    fc.assert(
      fc.property(arbResources, arbResources, arbResources, (request, free, extra) => {
        if (!request.fits(free)) return !request.fits(free.sub(extra, 'clamp'));
        return request.fits(free.add(extra)) && request.fits(request) && Resources.ZERO.fits(free);
      }),
      { numRuns: 500 },
    );
  });

  it('what fits can be subtracted without error, and the rest never goes negative', () => {
    fc.assert(
      fc.property(arbResources, arbResources, (request, free) => {
        if (request.fits(free)) {
          const rest = free.sub(request);
          return rest.add(request).equals(free);
        }
        return isBerthError(
          (() => {
            try {
              free.sub(request);
            } catch (err) {
              return err;
            }
            return undefined;
          })(),
          'SPEC_INVALID',
        );
      }),
      { numRuns: 500 },
    );
  });

  it('compare is a total order consistent with equals', () => {
    fc.assert(
      fc.property(arbResources, arbResources, arbResources, (x, y, z) => {
        const xy = x.compare(y);
        const antisymmetric = Math.sign(xy) === -Math.sign(y.compare(x));
        const consistent = (xy === 0) === x.equals(y);
        const transitive = !(xy <= 0 && y.compare(z) <= 0) || x.compare(z) <= 0;
        return antisymmetric && consistent && transitive;
      }),
      { numRuns: 500 },
    );
  });

  it('survives the Kubernetes quantity round trip exactly', () => {
    fc.assert(fc.property(arbResources, (x) => Resources.fromQuantities(x.toJSON()).equals(x)));
  });
});
