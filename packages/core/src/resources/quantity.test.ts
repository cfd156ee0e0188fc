import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../cluster/errors.ts';
import { parseQuantity, Quantity, type QuantityFormat } from './quantity.ts';

// Expected values are written as mantissa × 10^exponent, like upstream's decQuantity(m, e, format).
const q = (m: number | bigint, e: number, format: QuantityFormat = 'DecimalSI') =>
  Quantity.fromScaled(m, e).withFormat(format);
const MAX_INT64 = (1n << 63n) - 1n;

/** Cases from apimachinery's TestQuantityParse: input, exact value, format. */
const parseCases: [string, Quantity][] = [
  ['0', q(0, 0)],
  ['0n', q(0, 0)],
  ['0u', q(0, 0)],
  ['0m', q(0, 0)],
  ['0Ki', q(0, 0, 'BinarySI')],
  ['0k', q(0, 0)],
  ['0Mi', q(0, 0, 'BinarySI')],
  ['0M', q(0, 0)],
  ['0Gi', q(0, 0, 'BinarySI')],
  ['0G', q(0, 0)],
  ['0Ti', q(0, 0, 'BinarySI')],
  ['0T', q(0, 0)],
  ['1', q(1, 0)],
  ['1Ki', q(1024, 0, 'BinarySI')],
  ['8Ki', q(8 * 1024, 0, 'BinarySI')],
  ['7Mi', q(7 * 1024 ** 2, 0, 'BinarySI')],
  ['6Gi', q(6 * 1024 ** 3, 0, 'BinarySI')],
  ['5Ti', q(5 * 1024 ** 4, 0, 'BinarySI')],
  ['4Pi', q(4 * 1024 ** 5, 0, 'BinarySI')],
  ['3Ei', q(3n * 1024n ** 6n, 0, 'BinarySI')],
  ['10Ti', q(10 * 1024 ** 4, 0, 'BinarySI')],
  ['100Ti', q(100 * 1024 ** 4, 0, 'BinarySI')],
  ['5n', q(5, -9)],
  ['4u', q(4, -6)],
  ['3m', q(3, -3)],
  ['9', q(9, 0)],
  ['8k', q(8, 3)],
  ['50k', q(5, 4)],
  ['7M', q(7, 6)],
  ['6G', q(6, 9)],
  ['5T', q(5, 12)],
  ['40T', q(4, 13)],
  ['300T', q(3, 14)],
  ['2P', q(2, 15)],
  ['1E', q(1, 18)],
  ['1E-3', q(1, -3, 'DecimalExponent')],
  ['1e3', q(1, 3, 'DecimalExponent')],
  ['1E6', q(1, 6, 'DecimalExponent')],
  ['1e9', q(1, 9, 'DecimalExponent')],
  ['1E12', q(1, 12, 'DecimalExponent')],
  ['1e15', q(1, 15, 'DecimalExponent')],
  ['1E18', q(1, 18, 'DecimalExponent')],
  ['1e14', q(1, 14, 'DecimalExponent')],
  ['1e13', q(1, 13, 'DecimalExponent')],
  ['100.035k', q(100035, 0)],
  ['0.001', q(1, -3)],
  ['0.0005k', q(5, -1)],
  ['0.005', q(5, -3)],
  ['0.05', q(5, -2)],
  ['0.5', q(5, -1)],
  ['0.00050k', q(5, -1)],
  ['0.00500', q(5, -3)],
  ['0.05000', q(5, -2)],
  ['0.50000', q(5, -1)],
  ['0.5e0', q(5, -1, 'DecimalExponent')],
  ['0.5e-1', q(5, -2, 'DecimalExponent')],
  ['0.5e-2', q(5, -3, 'DecimalExponent')],
  ['10.035M', q(10035, 3)],
  ['1.2e3', q(12, 2, 'DecimalExponent')],
  ['1.3E+6', q(13, 5, 'DecimalExponent')],
  ['1.40e9', q(14, 8, 'DecimalExponent')],
  ['1.53E12', q(153, 10, 'DecimalExponent')],
  ['1.6e15', q(16, 14, 'DecimalExponent')],
  ['1.7E18', q(17, 17, 'DecimalExponent')],
  ['9.01', q(901, -2)],
  ['8.1k', q(81, 2)],
  ['7.123456M', q(7123456, 0)],
  ['6.987654321G', q(6987654321, 0)],
  ['5.444T', q(5444, 9)],
  ['40.1T', q(401, 11)],
  ['300.2T', q(3002, 11)],
  ['2.5P', q(25, 14)],
  ['1.01E', q(101, 16)],
  // Things that saturate or round up to the next nano-unit.
  ['3.001n', q(4, -9)],
  ['1.1E-9', q(2, -9, 'DecimalExponent')],
  ['0.0000000001', q(1, -9)],
  ['0.0000000005', q(1, -9)],
  ['0.00000000050', q(1, -9)],
  ['0.5e-9', q(1, -9, 'DecimalExponent')],
  ['0.9n', q(1, -9)],
  ['0.00000012345', q(124, -9)],
  ['0.00000012354', q(124, -9)],
  ['9Ei', q(MAX_INT64, 0, 'BinarySI')],
  ['9223372036854775807Ki', q(MAX_INT64, 0, 'BinarySI')],
  ['12E', q(12, 18)],
  // Fractional binary quantities.
  ['100.035Ki', q(10243584, -2, 'BinarySI')],
  ['0.5Mi', q(0.5 * 1024 * 1024, 0, 'BinarySI')],
  ['0.05Gi', q(536870912, -1, 'BinarySI')],
  ['0.025Ti', q(274877906944, -1, 'BinarySI')],
  // "Things written by trolls" (upstream's words): accepted, surprisingly.
  ['0.000000000001Ki', q(2, -9)],
  ['.001', q(1, -3)],
  ['.0001k', q(100, -3)],
  ['1.', q(1, 0)],
  ['1.G', q(1, 9)],
  ['Gi', q(0, 0, 'BinarySI')],
  ['.', q(0, 0)],
  ['-.', q(0, 0)],
];

describe('Quantity.parse matches apimachinery ParseQuantity', () => {
  it.each(parseCases)('parses %j to the upstream value and format', (input, expected) => {
    const got = Quantity.parse(input);
    expect(got.cmp(expected)).toBe(0);
    expect(got.format).toBe(expected.format);
  });

  const unsigned = parseCases.filter(([input]) => !input.startsWith('-'));
  it.each(unsigned)(
    'parses %j with a minus sign to the negated value and with a plus to the same',
    (input, expected) => {
      const neg = Quantity.parse(`-${input}`);
      expect(neg.sign()).toBe(expected.isZero() ? 0 : -1);
      expect(neg.cmp(Quantity.fromScaled(0, 0))).toBe(expected.isZero() ? 0 : -1);
      expect(neg.valueBig()).toBe(-expected.valueBig());
      expect(neg.format).toBe(expected.format);
      const plus = Quantity.parse(`+${input}`);
      expect(plus.cmp(expected)).toBe(0);
      expect(plus.format).toBe(expected.format);
    },
  );

  const invalid = [
    '',
    '1.1.M',
    '1+1.0M',
    '0.1mi',
    '0.1am',
    'aoeu',
    '.5i',
    '1i',
    '-3.01i',
    '-3.01e-',
    '1e4294967297',
    'E2147483648',
    '1E-2147483648',
    ' 1',
    '1 ',
    '1.2.3',
    '1Mii',
    '1 Gi',
    '2 cores',
    'Non-Numeric',
    '1e',
    '1KI',
    '1µ',
    '1e3.5',
  ];
  it.each(invalid)('rejects %j with SPEC_INVALID quoting the input and an example', (input) => {
    expect(Quantity.tryParse(input)).toBeTypeOf('string');
    let caught: unknown;
    try {
      parseQuantity(input);
    } catch (err) {
      caught = err;
    }
    expect(isBerthError(caught, 'SPEC_INVALID')).toBe(true);
    const message = (caught as Error).message;
    if (input !== '') expect(message).toContain(JSON.stringify(input));
    expect(message).toContain('e.g. "2" or "1500m"');
  });

  it('says exactly what is wrong with "2 cores"', () => {
    expect(() => parseQuantity('2 cores')).toThrow('"2 cores" is not a quantity (e.g. "2" or "1500m")');
  });

  it('accepts exponents up to the 32-bit bound and keeps them exact', () => {
    expect(Quantity.parse('1E2147483647').sign()).toBe(1);
    expect(Quantity.parse('1e-2147483647').cmp(Quantity.fromScaled(1, -9))).toBe(0);
  });
});

describe('Quantity.toString is the upstream canonical form', () => {
  // TestQuantityString: value → canonical, and an alternate spelling that canonicalises to it.
  const canonical: [Quantity, string, string][] = [
    [q(1024 ** 3, 0, 'BinarySI'), '1Gi', '1024Mi'],
    [q(300 * 1024 ** 2, 0, 'BinarySI'), '300Mi', '307200Ki'],
    [q(6 * 1024, 0, 'BinarySI'), '6Ki', ''],
    [q(1001 * 1024 ** 3, 0, 'BinarySI'), '1001Gi', '1025024Mi'],
    [q(1024 ** 4, 0, 'BinarySI'), '1Ti', '1024Gi'],
    [q(5, 0, 'BinarySI'), '5', '5000m'],
    [q(500, -3, 'BinarySI'), '500m', '0.5'],
    [q(1, 9), '1G', '1000M'],
    [q(1000, 6), '1G', '0.001T'],
    [q(1000000, 3), '1G', ''],
    [q(1000000000, 0), '1G', ''],
    [q(1, -3), '1m', '1000u'],
    [q(80, -3), '80m', ''],
    [q(1080, -3), '1080m', '1.08'],
    [q(108, -2), '1080m', '1080000000n'],
    [q(10800, -4), '1080m', ''],
    [q(300, 6), '300M', ''],
    [q(1, 12), '1T', ''],
    [q(1, 18), '1E', ''],
    [q(1, 21), '1e21', '1000E'],
    [q(5, 21), '5e21', '5000E'],
    [q(1, 24), '1e24', '1000000E'],
    [q(1, 70, 'BinarySI'), '10e69', ''],
    [q(2, 70, 'BinarySI'), '20e69', ''],
    [q(1, 72, 'BinarySI'), '1e72', ''],
    [q(1234567, 6), '1234567M', ''],
    [q(1234567, -3, 'BinarySI'), '1234567m', ''],
    [q(3, 3), '3k', ''],
    [q(1025, 0, 'BinarySI'), '1025', ''],
    [q(0, 0), '0', ''],
    [q(0, 0, 'BinarySI'), '0', ''],
    [q(1, 9, 'DecimalExponent'), '1e9', '.001e12'],
    [q(1, -3, 'DecimalExponent'), '1e-3', '0.001e0'],
    [q(1, -9, 'DecimalExponent'), '1e-9', '1000e-12'],
    [q(80, -3, 'DecimalExponent'), '80e-3', ''],
    [q(300, 6, 'DecimalExponent'), '300e6', ''],
    [q(1, 12, 'DecimalExponent'), '1e12', ''],
    [q(1, 3, 'DecimalExponent'), '1e3', ''],
    [q(3, 3, 'DecimalExponent'), '3e3', ''],
    [q(0, 0, 'DecimalExponent'), '0', '00'],
    [q(1, -9), '1n', ''],
    [q(80, -9), '80n', ''],
    [q(1080, -9), '1080n', ''],
    [q(108, -8), '1080n', ''],
    [q(10800, -10), '1080n', ''],
    [q(1, -6), '1u', ''],
    [q(80, -6), '80u', ''],
    [q(1080, -6), '1080u', ''],
  ];

  it.each(canonical)(
    'prints %s as %j, keeps that string on parse, and canonicalises %j to it',
    (value, text, alt) => {
      expect(value.toString()).toBe(text);
      expect(Quantity.parse(text).toString()).toBe(text);
      expect(Quantity.parse(text).cmp(value)).toBe(0);
      if (alt !== '') {
        const parsed = Quantity.parse(alt);
        expect(parsed.toString()).toBe(text);
        expect(parsed.cmp(value)).toBe(0);
      }
      if (!value.isZero()) {
        const negated = Quantity.fromScaled(0, 0).cmp(value) < 0 ? `-${text}` : text;
        expect(Quantity.parse(negated).toString()).toBe(negated);
      }
    },
  );

  it.each([
    ['1Ki', '1Ki'],
    ['1Mi', '1Mi'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['1.5', '1500m'],
    ['1.5Gi', '1536Mi'],
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['2048Ki', '2Mi'],
    ['8Ki', '8Ki'],
    ['1.5e3', '1500'],
    ['8Ei', '9223372036854775807'],
  ])('parses %j and emits %j (also negated)', (input, out) => {
    expect(Quantity.parse(input).toString()).toBe(out);
    expect(Quantity.parse(`-${input}`).toString()).toBe(`-${out}`);
  });

  it.each([
    ['+1', '+1'],
    ['1e3', '1e3'],
    ['1E-3', '1E-3'],
    ['100m', '100m'],
    ['1.', '1.'],
    ['1025Ki', '1025Ki'],
  ])('keeps the already-canonical input %j verbatim, as upstream does', (input, out) => {
    expect(Quantity.parse(input).toString()).toBe(out);
  });

  it('prints values below a nano-unit (not reachable by parsing) with an exponent', () => {
    expect(Quantity.fromScaled(1, -12).toString()).toBe('1e-12');
    expect(Quantity.fromScaled(1, -10).toString()).toBe('100e-12');
  });

  it('prints 2^70 bytes in full rather than dropping the magnitude', () => {
    expect(Quantity.fromValue(1n << 70n, 'BinarySI').toString()).toBe('1180591620717411303424');
  });

  it('serialises to JSON as its string', () => {
    expect(JSON.stringify({ memory: Quantity.parse('1.5Gi') })).toBe('{"memory":"1536Mi"}');
  });
});

describe('Quantity constructors (NewQuantity, NewMilliQuantity, NewScaledQuantity)', () => {
  it.each([
    [1, 'DecimalSI', '1m'],
    [1000, 'DecimalSI', '1'],
    [1234000, 'DecimalSI', '1234'],
    [1024, 'BinarySI', '1024m'],
    [1000000, 'DecimalExponent', '1e3'],
    [1024 * 1024, 'BinarySI', '1048576m'],
  ] as const)('fromMilli(%d, %s) prints %j', (value, format, text) => {
    expect(Quantity.fromMilli(value, format).toString()).toBe(text);
    expect(Quantity.parse(text).milliValue()).toBe(value);
  });

  it.each([
    [1, 'DecimalSI', '1'],
    [1000, 'DecimalSI', '1k'],
    [1234000, 'DecimalSI', '1234k'],
    [1024, 'BinarySI', '1Ki'],
    [1000000, 'DecimalExponent', '1e6'],
    [1024 * 1024, 'BinarySI', '1Mi'],
  ] as const)('fromValue(%d, %s) prints %j', (value, format, text) => {
    expect(Quantity.fromValue(value, format).toString()).toBe(text);
    expect(Quantity.parse(text).value()).toBe(value);
  });

  it.each([
    [1, -9, '1n'],
    [1000, -9, '1u'],
    [1, -6, '1u'],
    [1000, -6, '1m'],
    [1, -3, '1m'],
    [1000, -3, '1'],
    [1, 0, '1'],
    [0, -9, '0'],
    [0, -6, '0'],
    [0, -3, '0'],
    [0, 0, '0'],
  ])('fromScaled(%d, %d) prints %j and scales back', (value, scale, text) => {
    expect(Quantity.fromScaled(value, scale).toString()).toBe(text);
    expect(Quantity.parse(text).scaledValue(scale)).toBe(value);
  });

  it('refuses a non-integer base value', () => {
    expect(() => Quantity.fromValue(1.5)).toThrow(/safe integer/);
  });
});

describe('value() and milliValue() round up away from zero like upstream', () => {
  it.each([
    [-9, -9, 1],
    [-9, -6, 1],
    [-9, -3, 1],
    [-9, 0, 1],
    [-6, -9, 1000],
    [-6, -6, 1],
    [-6, -3, 1],
    [-6, 0, 1],
    [-3, -9, 1000 * 1000],
    [-3, -6, 1000],
    [-3, -3, 1],
    [-3, 0, 1],
    [0, -9, 1000 * 1000 * 1000],
    [0, -6, 1000 * 1000],
    [0, -3, 1000],
    [0, 0, 1],
    [2, -2, 100 * 100],
  ])('1×10^%d at scale %d is %d', (from, to, expected) => {
    expect(Quantity.fromScaled(1, from).scaledValue(to)).toBe(expected);
  });

  it.each([
    ['-.484785E-7466', -1, -1],
    ['.484785E-7466', 1, 1],
    ['-.484785E-1', -1, -49],
    ['.484785E-1', 1, 49],
    ['-0.0005', -1, -1],
    ['0.0005', 1, 1],
    ['-1500m', -2, -1500],
    ['1500m', 2, 1500],
    ['-9.5000000001Gi', -10200547329, -10200547328108],
    ['9.5000000001Gi', 10200547329, 10200547328108],
    ['-1', -1, -1000],
    ['1', 1, 1000],
    ['0', 0, 0],
    ['9.01', 10, 9010],
    ['-9.01', -10, -9010],
    ['0.1m', 1, 1],
    ['1n', 1, 1],
  ])('%j has value %d and milli value %d', (input, value, milli) => {
    const parsed = Quantity.parse(input);
    expect(parsed.value()).toBe(value);
    expect(parsed.milliValue()).toBe(milli);
    expect(parsed.valueBig()).toBe(BigInt(value));
    expect(parsed.milliValueBig()).toBe(BigInt(milli));
  });

  it('throws a clear error instead of an inexact number beyond MAX_SAFE_INTEGER', () => {
    const big = Quantity.parse('9007199254740993'); // 2^53 + 1
    expect(() => big.value()).toThrow(/too large to count exactly in units/);
    expect(big.valueBig()).toBe(9007199254740993n);
    const huge = Quantity.parse('10E');
    expect(() => huge.milliValue()).toThrow(/too large to count exactly in milli-units/);
    expect(huge.milliValueBig()).toBe(10n ** 22n);
    expect(() => Quantity.parse('1e2000000000').value()).toThrow(/too large/);
    expect(Quantity.parse('9007199254740991').value()).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => Quantity.parse('1E2147483647').valueBig()).toThrow(/more than 100000 digits/);
    expect(Quantity.parse('1E2147483647').withFormat('BinarySI').toString()).toBe('10e2147483646');
  });
});

describe('Quantity.cmp, sign and isZero', () => {
  it.each([
    ['0', '0', 0],
    ['100m', '50m', 1],
    ['50m', '100m', -1],
    ['10000T', '100Gi', 1],
    ['1Ki', '1024', 0],
    ['1k', '1Ki', -1],
    ['-1', '1m', -1],
    ['-1', '-2', 1],
    ['1e21', '1000E', 0],
    ['1E2147483647', '9Ei', 1],
    ['.5', '500m', 0],
    ['9.01', '9.0100', 0],
  ])('cmp(%j, %j) is %d and antisymmetric', (a, b, expected) => {
    expect(Quantity.parse(a).cmp(Quantity.parse(b))).toBe(expected);
    expect(Quantity.parse(b).cmp(Quantity.parse(a))).toBe(expected === 0 ? 0 : -expected);
    expect(Quantity.parse(a).equals(Quantity.parse(b))).toBe(expected === 0);
  });

  it('reports sign and zero', () => {
    expect(Quantity.parse('-1m').sign()).toBe(-1);
    expect(Quantity.parse('1m').sign()).toBe(1);
    expect(Quantity.parse('-0').sign()).toBe(0);
    expect(Quantity.parse('0Gi').isZero()).toBe(true);
    expect(Quantity.parse('1n').isZero()).toBe(false);
  });
});

describe('Quantity properties', () => {
  const formats: QuantityFormat[] = ['DecimalSI', 'BinarySI', 'DecimalExponent'];
  const arbQuantity = fc
    .tuple(
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
      fc.integer({ min: -9, max: 30 }),
      fc.constantFrom(...formats),
    )
    .map(([m, e, f]) => Quantity.fromScaled(m, e).withFormat(f))
    // Parsing caps BinarySI at 2^63-1 (upstream does too), so bigger binary values cannot round-trip.
    .filter((v) => v.format !== 'BinarySI' || (v.valueBig() <= MAX_INT64 && v.valueBig() >= -MAX_INT64));

  it('parse(format(q)) equals q', () => {
    fc.assert(
      fc.property(arbQuantity, (value) => {
        const back = Quantity.parse(value.toString());
        // The value always survives; the spelling may change format once ("-10000" in BinarySI
        // has no binary suffix and parses back as DecimalSI "-10k"), then stays put.
        return back.cmp(value) === 0 && Quantity.parse(back.toString()).toString() === back.toString();
      }),
      { numRuns: 2000 },
    );
  });

  it('a canonical string is a fixed point of parse and print', () => {
    const suffixes = [
      '',
      'n',
      'u',
      'm',
      'k',
      'M',
      'G',
      'T',
      'P',
      'E',
      'Ki',
      'Mi',
      'Gi',
      'Ti',
      'Pi',
      'Ei',
      'e3',
      'E-3',
    ];
    const arbText = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{1,12}$/),
        fc.option(fc.stringMatching(/^[0-9]{0,6}$/), { nil: undefined }),
        fc.constantFrom(...suffixes),
      )
      .map(([sign, int, frac, suffix]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${suffix}`);
    fc.assert(
      fc.property(arbText, (text) => {
        const once = Quantity.parse(text).toString();
        const twice = Quantity.parse(once);
        return twice.toString() === once && twice.cmp(Quantity.parse(text)) === 0;
      }),
      { numRuns: 2000 },
    );
  });

  it('milliValue rounds up: milliValue/1000 ≥ q > (milliValue-1)/1000 for positive q', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.integer({ min: -9, max: 0 }), (m, e) => {
        const value = Quantity.fromScaled(m, e);
        const milli = value.milliValueBig();
        return (
          Quantity.fromScaled(milli, -3).cmp(value) >= 0 && Quantity.fromScaled(milli - 1n, -3).cmp(value) < 0
        );
      }),
    );
  });
});
