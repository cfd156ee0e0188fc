/**
 * Kubernetes resource quantities ("500m", "1Gi", "1e3"), parsed and printed the way the
 * Kubernetes apimachinery `resource.Quantity` does, with exact arithmetic on bigints.
 *
 * A quantity is held as `mantissa × 10^exponent` (mantissa without trailing zeros) plus the
 * format it was written in. Like upstream, parsing rounds magnitudes up to whole nano-units,
 * caps BinarySI values at 2^63-1, and keeps an input string that is already canonical.
 */
import { BerthError } from '../cluster/errors.ts';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Scale (power of ten) of the base unit asked for, e.g. -3 for milli-units. */
export type QuantityScale = number;

const COMPONENT = 'core/resources';
const EXAMPLE = '(e.g. "2" or "1500m")';

/** Why a string is not a quantity, in the vocabulary of the upstream parser. */
export type QuantityParseProblem = 'empty' | 'format' | 'suffix' | 'exponent';

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIXES: Readonly<Record<string, number>> = {
  Ki: 10,
  Mi: 20,
  Gi: 30,
  Ti: 40,
  Pi: 50,
  Ei: 60,
};
const DECIMAL_BY_EXPONENT: ReadonlyMap<number, string> = new Map(
  Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]),
);
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/** Characters that may start a suffix (upstream's scanner set). */
const SUFFIX_CHARS = 'eEinumkKMGTP';
const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;
const INT32_MAX = 2147483647;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Exact big values are computed up to this many digits; beyond that a number is refused. */
const MAX_EXACT_DIGITS = 100_000;

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) {
    let v = pow10Cache[n];
    if (v === undefined) {
      v = 10n ** BigInt(n);
      pow10Cache[n] = v;
    }
    return v;
  }
  return 10n ** BigInt(n);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Number of decimal digits of a non-negative bigint. */
function digitCount(v: bigint): number {
  return v === 0n ? 1 : v.toString().length;
}

/** Divides by 10^k, rounding away from zero. */
function divPow10AwayFromZero(v: bigint, k: number): bigint {
  if (k <= 0) return v * pow10(-k);
  const a = abs(v);
  // Anything that shrinks below one unit rounds to ±1 (or stays 0).
  if (digitCount(a) < k) return a === 0n ? 0n : v < 0n ? -1n : 1n;
  const d = pow10(k);
  let q = a / d;
  if (q * d !== a) q += 1n;
  return v < 0n ? -q : q;
}

interface Scanned {
  readonly positive: boolean;
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

/** The upstream fast scanner: sign, digits, optional fraction, then a suffix. */
function scan(str: string): Scanned | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str.charCodeAt(i))) i++;
  let num = str.slice(pos, i);
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str.charCodeAt(i))) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos] as string)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
  if (pos < end) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

interface Interpreted {
  readonly base: 2 | 10;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

function interpret(suffix: string): Interpreted | 'suffix' | 'exponent' {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined && Object.hasOwn(DECIMAL_SUFFIXES, suffix)) {
    return { base: 10, exponent: dec, format: 'DecimalSI' };
  }
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined && Object.hasOwn(BINARY_SUFFIXES, suffix)) {
    return { base: 2, exponent: bin, format: 'BinarySI' };
  }
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(digits)) return 'suffix';
    const e = Number(digits);
    // Upstream truncates the exponent to int32 and wraps; refuse instead of wrapping.
    if (!Number.isSafeInteger(e) || Math.abs(e) > INT32_MAX) return 'exponent';
    return { base: 10, exponent: e, format: 'DecimalExponent' };
  }
  return 'suffix';
}

function problemMessage(input: string, problem: QuantityParseProblem): string {
  const quoted = JSON.stringify(input);
  switch (problem) {
    case 'empty':
      return `an empty string is not a quantity ${EXAMPLE}`;
    case 'suffix':
      return `${quoted} is not a quantity: unknown suffix; use one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e3 ${EXAMPLE}`;
    case 'exponent':
      return `${quoted} is not a quantity: the exponent is outside the 32-bit range Kubernetes supports ${EXAMPLE}`;
    default:
      return `${quoted} is not a quantity ${EXAMPLE}`;
  }
}

/**
 * An exact Kubernetes quantity. Immutable; create one with {@link Quantity.parse},
 * {@link parseQuantity}, {@link Quantity.fromValue} or {@link Quantity.fromMilli}.
 */
export class Quantity {
  /** Mantissa; no trailing decimal zeros unless it is zero. */
  readonly #mantissa: bigint;
  /** Power of ten; 0 when the mantissa is zero. */
  readonly #exponent: number;
  readonly #format: QuantityFormat;
  #string: string | undefined;

  private constructor(mantissa: bigint, exponent: number, format: QuantityFormat, text?: string) {
    if (mantissa === 0n) {
      exponent = 0;
    } else {
      while (mantissa % 10n === 0n) {
        mantissa /= 10n;
        exponent++;
      }
    }
    this.#mantissa = mantissa;
    this.#exponent = exponent;
    this.#format = format;
    this.#string = text;
  }

  /** Parses like upstream `resource.ParseQuantity`; throws `BerthError('SPEC_INVALID')`. */
  static parse(input: string): Quantity {
    const result = Quantity.tryParse(input);
    if (result instanceof Quantity) return result;
    throw new BerthError('SPEC_INVALID', problemMessage(input, result), {
      component: COMPONENT,
      hint: 'Write a number with an optional suffix: m (milli), k, M, G, Ki, Mi, Gi, or an exponent like 1e3.',
      details: { input },
    });
  }

  /** Like {@link Quantity.parse} but returns the problem instead of throwing. */
  static tryParse(input: string): Quantity | QuantityParseProblem {
    if (typeof input !== 'string' || input.length === 0) return 'empty';
    if (input === '0') return new Quantity(0n, 0, 'DecimalSI', '0');
    const s = scan(input);
    if (s === undefined) return 'format';
    const it = interpret(s.suffix);
    if (typeof it === 'string') return it;
    const { base, exponent } = it;
    let format = it.format;
    const digits = s.num + s.denom;

    // Decide, exactly as upstream's int64 fast path does, whether the input string is
    // already canonical and is kept verbatim.
    let keep = false;
    if (base === 10) {
      const scale = exponent - s.denom.length;
      if (18 - digits.length >= 0 && scale >= NANO) {
        keep = scale % 3 === 0 && !digits.endsWith('000') && digits[0] !== '0';
      }
    } else if (s.denom.length === 0) {
      const precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1;
      if (precision >= 0) {
        const v = BigInt(s.num);
        if (v << BigInt(exponent) <= MAX_INT64) keep = (v & 7n) !== 0n;
      }
    }

    let mantissa = BigInt(digits);
    let exp10 = -s.denom.length;
    if (base === 10) exp10 += exponent;
    else mantissa <<= BigInt(exponent);

    // Round the magnitude up to whole nano-units ("if you want some, you get some").
    if (exp10 < NANO) {
      mantissa = divPow10AwayFromZero(mantissa, NANO - exp10);
      exp10 = NANO;
    }
    if (format === 'BinarySI') {
      const limit = exp10 >= 0 ? mantissa * pow10(exp10) : mantissa;
      if (limit > (exp10 >= 0 ? MAX_INT64 : MAX_INT64 * pow10(-exp10))) {
        mantissa = MAX_INT64;
        exp10 = 0;
      } else if (exp10 < 0 && mantissa > 0n && mantissa < pow10(-exp10)) {
        format = 'DecimalSI';
      }
    }
    if (!s.positive) mantissa = -mantissa;
    return new Quantity(mantissa, exp10, format, keep ? input : undefined);
  }

  /** `value` whole units (like upstream `NewQuantity`). */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value, 'value'), 0, format);
  }

  /** `value` thousandths (like upstream `NewMilliQuantity`). */
  static fromMilli(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value, 'milli value'), -3, format);
  }

  /** `value × 10^scale` in DecimalSI (like upstream `NewScaledQuantity`). */
  static fromScaled(value: number | bigint, scale: QuantityScale): Quantity {
    if (!Number.isSafeInteger(scale)) {
      throw new BerthError('SPEC_INVALID', `quantity scale ${scale} must be an integer`, {
        component: COMPONENT,
      });
    }
    return new Quantity(toBigInt(value, 'value'), scale, 'DecimalSI');
  }

  /** The format the quantity was written in (and is printed in). */
  get format(): QuantityFormat {
    return this.#format;
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.#mantissa === 0n ? 0 : this.#mantissa < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.#mantissa === 0n;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const a = this.#mantissa;
    const b = other.#mantissa;
    const sa = this.sign();
    const sb = other.sign();
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    // Same sign: compare magnitudes by order of magnitude first, then exactly.
    const ma = digitCount(abs(a)) + this.#exponent;
    const mb = digitCount(abs(b)) + other.#exponent;
    if (ma !== mb) return (ma < mb ? -sa : sa) as -1 | 1;
    const e = Math.min(this.#exponent, other.#exponent);
    const x = a * pow10(this.#exponent - e);
    const y = b * pow10(other.#exponent - e);
    return x === y ? 0 : x < y ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** ceil(q × 10^-scale) away from zero, exact. */
  scaledValueBig(scale: QuantityScale): bigint {
    const shift = this.#exponent - scale;
    if (shift >= 0) {
      if (this.#mantissa === 0n) return 0n;
      if (shift > MAX_EXACT_DIGITS) throw this.#tooLarge(scale, `more than ${MAX_EXACT_DIGITS} digits`);
      return this.#mantissa * pow10(shift);
    }
    return divPow10AwayFromZero(this.#mantissa, -shift);
  }

  /**
   * ceil(q × 10^-scale) away from zero as a number, like upstream `ScaledValue`. Throws
   * `BerthError('SPEC_INVALID')` instead of returning an inexact number when the result is
   * beyond `Number.MAX_SAFE_INTEGER`; use {@link Quantity.scaledValueBig} for exact big values.
   */
  scaledValue(scale: QuantityScale): number {
    const shift = this.#exponent - scale;
    // Cheap magnitude guard before building a huge bigint.
    if (shift > 16 && this.#mantissa !== 0n) throw this.#tooLarge(scale);
    const v = this.scaledValueBig(scale);
    if (v > MAX_SAFE || v < -MAX_SAFE) throw this.#tooLarge(scale);
    return Number(v);
  }

  /** The value rounded up (away from zero) to a whole number, like upstream `Value()`. */
  value(): number {
    return this.scaledValue(0);
  }

  /** ceil(q × 1000) (away from zero), like upstream `MilliValue()`. */
  milliValue(): number {
    return this.scaledValue(-3);
  }

  valueBig(): bigint {
    return this.scaledValueBig(0);
  }

  milliValueBig(): bigint {
    return this.scaledValueBig(-3);
  }

  /** This quantity in another format (the value is unchanged; the printed form may be). */
  withFormat(format: QuantityFormat): Quantity {
    return format === this.#format ? this : new Quantity(this.#mantissa, this.#exponent, format);
  }

  /** The canonical form (or the input itself when it was already canonical, like upstream). */
  toString(): string {
    if (this.#string === undefined) this.#string = this.#canonical();
    return this.#string;
  }

  toJSON(): string {
    return this.toString();
  }

  #tooLarge(scale: number, limit = String(Number.MAX_SAFE_INTEGER)): BerthError {
    const unit = scale === 0 ? 'units' : scale === -3 ? 'milli-units' : `units of 10^${scale}`;
    return new BerthError(
      'SPEC_INVALID',
      `quantity "${this.toString()}" is too large to count exactly in ${unit} (limit ${limit})`,
      { component: COMPONENT, hint: 'Use a smaller quantity, or scaledValueBig() for exact big values.' },
    );
  }

  #canonical(): string {
    const m = this.#mantissa;
    if (m === 0n) return '0';
    let format = this.#format;
    if (format === 'BinarySI') {
      const a = abs(m);
      const e = this.#exponent;
      const small = e >= 0 ? e < 4 && a * pow10(e) < 1024n : a < 1024n * pow10(-e);
      // |q| < 1024 prints as DecimalSI, and so does anything that is not a whole number.
      if (small || e < 0) format = 'DecimalSI';
      else if (e >= 70) {
        // 10^70 holds 1024^7: past "Ei" whatever the mantissa, so no need to build the number.
        format = 'DecimalExponent';
      } else {
        let v = m * pow10(this.#exponent);
        let power = 0;
        while (v % 1024n === 0n) {
          v /= 1024n;
          power++;
        }
        const suffix = BINARY_BY_POWER[power];
        if (suffix !== undefined) return v.toString() + suffix;
        // Past "Ei" there is no binary suffix: print the exact decimal value instead.
        format = 'DecimalExponent';
      }
    }
    // Exponent down to a multiple of three; the mantissa grows to keep the value exact.
    const e3 = Math.floor(this.#exponent / 3) * 3;
    const digits = (m * pow10(this.#exponent - e3)).toString();
    if (format === 'DecimalSI') {
      const suffix = DECIMAL_BY_EXPONENT.get(e3);
      if (suffix !== undefined) return digits + suffix;
      // Beyond "E" upstream prints no suffix at all (a different number); Berth prints the
      // exact value with an exponent instead.
    }
    return e3 === 0 ? digits : `${digits}e${e3}`;
  }
}

function toBigInt(value: number | bigint, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) {
    throw new BerthError('SPEC_INVALID', `quantity ${what} ${value} must be a safe integer`, {
      component: COMPONENT,
    });
  }
  return BigInt(value);
}

/**
 * Parses a Kubernetes quantity string, throwing `BerthError('SPEC_INVALID')` whose message
 * quotes the input and shows a valid example.
 */
export function parseQuantity(input: string): Quantity {
  return Quantity.parse(input);
}
