/**
 * Sets of ports as sorted, merged, inclusive ranges (the Mesos `RANGES` shape). Immutable:
 * every operation returns a new set, so a set handed to the engine never changes under it.
 */
import { BerthError } from '../cluster/errors.ts';

/** An inclusive range of ports, as Mesos writes them: `{ begin: 31000, end: 31002 }`. */
export interface PortRange {
  readonly begin: number;
  readonly end: number;
}

const COMPONENT = 'core/resources';
export const MAX_PORT = 65535;

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 0 || p > MAX_PORT) {
    throw new BerthError(
      'SPEC_INVALID',
      `${what} ${String(p)} is not a port (an integer from 0 to ${MAX_PORT})`,
      {
        component: COMPONENT,
        hint: 'Ports are whole numbers between 0 and 65535, e.g. 31000.',
      },
    );
  }
}

export class PortRanges {
  static readonly EMPTY: PortRanges = new PortRanges([], 0);

  /**
   * Alternating begin/end pairs, sorted, non-overlapping and non-adjacent (adjacent ranges are
   * merged), so two equal sets always have equal arrays.
   */
  readonly #bounds: readonly number[];
  /** Number of ports in the set. */
  readonly size: number;

  private constructor(bounds: readonly number[], size: number) {
    this.#bounds = bounds;
    this.size = size;
  }

  /** A set from ranges in any order, overlapping or not. Throws on an invalid range. */
  static of(...ranges: readonly PortRange[]): PortRanges {
    return PortRanges.from(ranges);
  }

  static from(ranges: Iterable<PortRange>): PortRanges {
    const list: PortRange[] = [];
    for (const r of ranges) {
      checkPort(r.begin, 'range begin');
      checkPort(r.end, 'range end');
      if (r.begin > r.end) {
        throw new BerthError('SPEC_INVALID', `port range ${r.begin}-${r.end} ends before it begins`, {
          component: COMPONENT,
          hint: 'Write the lower port first, e.g. 31000-31010.',
        });
      }
      list.push(r);
    }
    return PortRanges.#normalise(list);
  }

  /** A set of single ports. */
  static fromPorts(ports: Iterable<number>): PortRanges {
    const list: PortRange[] = [];
    for (const p of ports) {
      checkPort(p, 'port');
      list.push({ begin: p, end: p });
    }
    return PortRanges.#normalise(list);
  }

  /** Parses the {@link PortRanges.toString} form: `"31000-31002,31005"` (also `"[31000-31002]"`). */
  static parse(text: string): PortRanges {
    const body = text
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .trim();
    if (body === '') return PortRanges.EMPTY;
    const list: PortRange[] = [];
    for (const part of body.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
      if (m === null) {
        throw new BerthError(
          'SPEC_INVALID',
          `${JSON.stringify(text)} is not a list of ports (e.g. "31000-31002,31005")`,
          { component: COMPONENT, hint: 'Separate ports and begin-end ranges with commas.' },
        );
      }
      const begin = Number(m[1]);
      list.push({ begin, end: m[2] === undefined ? begin : Number(m[2]) });
    }
    return PortRanges.from(list);
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** The ranges, lowest first, merged. */
  get ranges(): readonly PortRange[] {
    const out: PortRange[] = [];
    const b = this.#bounds;
    for (let i = 0; i < b.length; i += 2) out.push({ begin: b[i]!, end: b[i + 1]! });
    return out;
  }

  /** Every port, lowest first. */
  *ports(): IterableIterator<number> {
    const b = this.#bounds;
    for (let i = 0; i < b.length; i += 2) for (let p = b[i]!; p <= b[i + 1]!; p++) yield p;
  }

  contains(port: number): boolean {
    const b = this.#bounds;
    // Binary search over the ranges.
    let lo = 0;
    let hi = b.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (port < b[2 * mid]!) hi = mid - 1;
      else if (port > b[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Whether every port of `other` is in this set. Allocation-free. */
  containsAll(other: PortRanges): boolean {
    const o = other.#bounds;
    if (o.length === 0) return true;
    if (other.size > this.size) return false;
    const b = this.#bounds;
    let i = 0;
    for (let j = 0; j < o.length; j += 2) {
      const begin = o[j]!;
      const end = o[j + 1]!;
      while (i < b.length && b[i + 1]! < begin) i += 2;
      if (i >= b.length || b[i]! > begin || b[i + 1]! < end) return false;
    }
    return true;
  }

  /** Whether the two sets share a port. */
  intersects(other: PortRanges): boolean {
    const a = this.#bounds;
    const b = other.#bounds;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      if (a[i + 1]! < b[j]!) i += 2;
      else if (b[j + 1]! < a[i]!) j += 2;
      else return true;
    }
    return false;
  }

  /** The union. */
  add(other: PortRanges): PortRanges {
    const a = this.#bounds;
    const b = other.#bounds;
    if (b.length === 0 || this === other) return this;
    if (a.length === 0) return other;
    // One merge pass over both sorted lists, joining overlapping and adjacent ranges.
    const out: number[] = [];
    let size = 0;
    let i = 0;
    let j = 0;
    let begin = -2;
    let end = -2;
    while (i < a.length || j < b.length) {
      let nb: number;
      let ne: number;
      if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) {
        nb = a[i]!;
        ne = a[i + 1]!;
        i += 2;
      } else {
        nb = b[j]!;
        ne = b[j + 1]!;
        j += 2;
      }
      if (nb <= end + 1) {
        if (ne > end) end = ne;
      } else {
        if (end >= 0) {
          out.push(begin, end);
          size += end - begin + 1;
        }
        begin = nb;
        end = ne;
      }
    }
    out.push(begin, end);
    size += end - begin + 1;
    return size === this.size ? this : size === other.size ? other : new PortRanges(out, size);
  }

  /** The ports of this set that are not in `other`. */
  sub(other: PortRanges): PortRanges {
    const o = other.#bounds;
    if (o.length === 0 || this.#bounds.length === 0) return this;
    const b = this.#bounds;
    const out: number[] = [];
    let size = 0;
    let j = 0;
    for (let i = 0; i < b.length; i += 2) {
      let begin = b[i]!;
      const end = b[i + 1]!;
      while (j < o.length && o[j + 1]! < begin) j += 2;
      let k = j;
      while (begin <= end) {
        if (k >= o.length || o[k]! > end) {
          out.push(begin, end);
          size += end - begin + 1;
          break;
        }
        if (o[k]! > begin) {
          out.push(begin, o[k]! - 1);
          size += o[k]! - begin;
        }
        begin = o[k + 1]! + 1;
        k += 2;
      }
    }
    return size === this.size ? this : size === 0 ? PortRanges.EMPTY : new PortRanges(out, size);
  }

  /** The ports in both sets. */
  intersect(other: PortRanges): PortRanges {
    return this.sub(this.sub(other));
  }

  /**
   * The `n` lowest ports of this set, or `undefined` when it holds fewer than `n`. The caller
   * removes them with {@link PortRanges.sub}, so a port is never handed out twice.
   */
  take(n: number): PortRanges | undefined {
    if (!Number.isInteger(n) || n < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `cannot take ${String(n)} ports: the count must be a whole number ≥ 0`,
        {
          component: COMPONENT,
        },
      );
    }
    if (n > this.size) return undefined;
    if (n === 0) return PortRanges.EMPTY;
    if (n === this.size) return this;
    const b = this.#bounds;
    const out: number[] = [];
    let left = n;
    for (let i = 0; left > 0; i += 2) {
      const begin = b[i]!;
      const len = b[i + 1]! - begin + 1;
      const used = Math.min(len, left);
      out.push(begin, begin + used - 1);
      left -= used;
    }
    return new PortRanges(out, n);
  }

  equals(other: PortRanges): boolean {
    if (this === other) return true;
    const a = this.#bounds;
    const b = other.#bounds;
    if (a.length !== b.length || this.size !== other.size) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** A total order: by size, then lexicographically by ranges. */
  compare(other: PortRanges): number {
    if (this.size !== other.size) return this.size < other.size ? -1 : 1;
    const a = this.#bounds;
    const b = other.#bounds;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }

  /** `"31000-31002,31005"`; empty for the empty set. */
  toString(): string {
    const b = this.#bounds;
    const parts: string[] = [];
    for (let i = 0; i < b.length; i += 2) parts.push(b[i] === b[i + 1] ? `${b[i]}` : `${b[i]}-${b[i + 1]}`);
    return parts.join(',');
  }

  toJSON(): PortRange[] {
    return [...this.ranges];
  }

  static #normalise(list: PortRange[]): PortRanges {
    if (list.length === 0) return PortRanges.EMPTY;
    list.sort((x, y) => x.begin - y.begin || x.end - y.end);
    const out: number[] = [];
    let size = 0;
    let begin = list[0]!.begin;
    let end = list[0]!.end;
    for (let i = 1; i < list.length; i++) {
      const r = list[i]!;
      if (r.begin <= end + 1) {
        if (r.end > end) end = r.end;
      } else {
        out.push(begin, end);
        size += end - begin + 1;
        begin = r.begin;
        end = r.end;
      }
    }
    out.push(begin, end);
    size += end - begin + 1;
    return new PortRanges(out, size);
  }
}
