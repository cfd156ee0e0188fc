/**
 * The resource vector every placement decision rests on: integer base units only (millicpu,
 * bytes, whole GPUs, ports, whole extended units), so sums are exact. Immutable and cheap:
 * `fits` reads plain number fields and touches no Map unless extended resources are present.
 */
import { BerthError } from '../cluster/errors.ts';
import { PortRanges } from './port-ranges.ts';
import { Quantity } from './quantity.ts';

const COMPONENT = 'core/resources';

/** The Kubernetes name Berth maps onto {@link Resources.gpus}. */
export const GPU_RESOURCE_NAME = 'nvidia.com/gpu';

/** Base-unit integers for {@link Resources.of}. */
export interface ResourcesInit {
  /** millicpu (1000 = one core). */
  readonly cpu?: number;
  /** bytes. */
  readonly memory?: number;
  /** bytes of disk (Kubernetes `ephemeral-storage`). */
  readonly disk?: number;
  /** whole GPUs. */
  readonly gpus?: number;
  readonly ports?: PortRanges;
  /** whole units of named extended resources, e.g. `example.com/fpga`. */
  readonly extended?: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
}

/**
 * Kubernetes-style quantities for {@link Resources.fromQuantities}: strings like `"500m"` or
 * `"4Gi"`, or plain numbers (`0.5` cpu = `"500m"`). `ports` takes `"31000-31002,31005"`.
 */
export interface ResourceQuantities {
  readonly cpu?: string | number;
  readonly memory?: string | number;
  readonly 'ephemeral-storage'?: string | number;
  readonly disk?: string | number;
  readonly 'nvidia.com/gpu'?: string | number;
  readonly ports?: string;
  readonly [extended: string]: string | number | undefined;
}

/** What {@link Resources.toQuantities} returns: a Kubernetes ResourceList. */
export type ResourceList = Record<string, string>;

export type SubtractMode = 'error' | 'clamp';

/** Names that have their own field and may not appear as extended resources. */
const STANDARD_NAMES: ReadonlySet<string> = new Set([
  'cpu',
  'cpus',
  'memory',
  'mem',
  'disk',
  'ephemeral-storage',
  'gpus',
  'ports',
  GPU_RESOURCE_NAME,
]);
const EMPTY_EXTENDED: ReadonlyMap<string, number> = new Map();
const NO_KEYS: readonly string[] = [];
const NO_VALUES: readonly number[] = [];

function fieldError(field: string, value: unknown, what: string): BerthError {
  return new BerthError('SPEC_INVALID', `resources.${field} must be ${what}, got ${String(value)}`, {
    component: COMPONENT,
    hint: 'Resources are whole base units: millicpu, bytes, GPUs; use Resources.fromQuantities for "500m" or "1Gi".',
    issues: [{ path: `resources.${field}`, message: `must be ${what}` }],
  });
}

function checkCount(field: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw fieldError(field, value, 'a whole number ≥ 0 (and ≤ Number.MAX_SAFE_INTEGER)');
  }
  return value;
}

function checkSum(field: string, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new BerthError(
      'SPEC_INVALID',
      `resources.${field} overflows: ${value} is beyond Number.MAX_SAFE_INTEGER`,
      {
        component: COMPONENT,
      },
    );
  }
  return value;
}

function checkExtendedName(name: string): void {
  if (name.length === 0 || /\s/.test(name)) {
    throw fieldError(`extended[${JSON.stringify(name)}]`, name, 'a non-empty resource name without spaces');
  }
}

/** Human form of a byte count: the BinarySI quantity (4Gi, 1536Mi, 1500). */
function bytesString(bytes: number): string {
  return Quantity.fromValue(bytes, 'BinarySI').toString();
}

function cpuString(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

export class Resources {
  /** millicpu */
  readonly cpu: number;
  /** bytes */
  readonly memory: number;
  /** bytes (Kubernetes `ephemeral-storage`, Mesos `disk`) */
  readonly disk: number;
  /** whole GPUs (Kubernetes `nvidia.com/gpu`, Mesos `gpus`) */
  readonly gpus: number;
  readonly ports: PortRanges;
  #extended: ReadonlyMap<string, number> | undefined;
  // Extended entries as parallel arrays sorted by name: loops without iterator allocation.
  readonly #extKeys: readonly string[];
  readonly #extValues: readonly number[];

  static readonly ZERO: Resources = new Resources(0, 0, 0, 0, PortRanges.EMPTY, NO_KEYS, NO_VALUES);

  private constructor(
    cpu: number,
    memory: number,
    disk: number,
    gpus: number,
    ports: PortRanges,
    extKeys: readonly string[],
    extValues: readonly number[],
  ) {
    this.cpu = cpu;
    this.memory = memory;
    this.disk = disk;
    this.gpus = gpus;
    this.ports = ports;
    this.#extKeys = extKeys;
    this.#extValues = extValues;
    this.#extended = extKeys.length === 0 ? EMPTY_EXTENDED : undefined;
  }

  /** Extended resources with non-zero amounts, in whole units, sorted by name. */
  get extended(): ReadonlyMap<string, number> {
    if (this.#extended === undefined) {
      const m = new Map<string, number>();
      for (let i = 0; i < this.#extKeys.length; i++) m.set(this.#extKeys[i]!, this.#extValues[i]!);
      this.#extended = m;
    }
    return this.#extended;
  }

  /** From base-unit integers; rejects fractions and negatives with an error naming the field. */
  static of(init: ResourcesInit = {}): Resources {
    const cpu = checkCount('cpu', init.cpu);
    const memory = checkCount('memory', init.memory);
    const disk = checkCount('disk', init.disk);
    const gpus = checkCount('gpus', init.gpus);
    const ports = init.ports ?? PortRanges.EMPTY;
    if (!(ports instanceof PortRanges)) throw fieldError('ports', ports, 'a PortRanges');
    const entries: [string, number][] = [];
    const ext = init.extended;
    if (ext !== undefined) {
      const pairs = ext instanceof Map ? [...ext] : Object.entries(ext as Record<string, number>);
      for (const [name, v] of pairs) {
        checkExtendedName(name);
        if (STANDARD_NAMES.has(name)) {
          throw fieldError(
            `extended[${JSON.stringify(name)}]`,
            v,
            'given as its own field, not as an extended resource',
          );
        }
        const n = checkCount(`extended[${JSON.stringify(name)}]`, v);
        if (n > 0) entries.push([name, n]);
      }
    }
    return Resources.#make(cpu, memory, disk, gpus, ports, entries);
  }

  /**
   * From Kubernetes quantities: `cpu` rounds up to millicpu (like `MilliValue()`), memory and
   * disk (`ephemeral-storage` or `disk`) and GPUs (`nvidia.com/gpu`) round up to whole units
   * (like `Value()`); any other name is an extended resource in whole units.
   */
  static fromQuantities(q: ResourceQuantities): Resources {
    const entries: [string, number][] = [];
    let cpu = 0;
    let memory = 0;
    let disk = 0;
    let gpus = 0;
    let ports = PortRanges.EMPTY;
    const diskKeys = Object.hasOwn(q, 'disk') && Object.hasOwn(q, 'ephemeral-storage');
    if (diskKeys) {
      throw new BerthError(
        'SPEC_INVALID',
        'resources give both disk and ephemeral-storage; they are the same resource',
        {
          component: COMPONENT,
          hint: 'Keep one of them.',
        },
      );
    }
    for (const [name, raw] of Object.entries(q)) {
      if (raw === undefined) continue;
      if (name === 'ports') {
        if (typeof raw !== 'string') throw fieldError('ports', raw, 'a string like "31000-31002,31005"');
        ports = PortRanges.parse(raw);
        continue;
      }
      const quantity = toQuantity(name, raw);
      if (quantity.sign() < 0) throw fieldError(name, raw, 'a quantity ≥ 0');
      switch (name) {
        case 'cpu':
          cpu = scaled(name, quantity, -3);
          break;
        case 'memory':
          memory = scaled(name, quantity, 0);
          break;
        case 'disk':
        case 'ephemeral-storage':
          disk = scaled(name, quantity, 0);
          break;
        case GPU_RESOURCE_NAME:
          gpus = scaled(name, quantity, 0);
          break;
        default: {
          checkExtendedName(name);
          const v = scaled(name, quantity, 0);
          if (v > 0) entries.push([name, v]);
        }
      }
    }
    return Resources.#make(cpu, memory, disk, gpus, ports, entries);
  }

  static #make(
    cpu: number,
    memory: number,
    disk: number,
    gpus: number,
    ports: PortRanges,
    entries: [string, number][],
  ): Resources {
    if (entries.length === 0) {
      if (cpu === 0 && memory === 0 && disk === 0 && gpus === 0 && ports.isEmpty) return Resources.ZERO;
      return new Resources(cpu, memory, disk, gpus, ports, NO_KEYS, NO_VALUES);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Resources(
      cpu,
      memory,
      disk,
      gpus,
      ports,
      entries.map((e) => e[0]),
      entries.map((e) => e[1]),
    );
  }

  /** The amount of one extended resource (0 when absent). */
  extendedAmount(name: string): number {
    const keys = this.#extKeys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === name) return this.#extValues[i]!;
    return 0;
  }

  /** Same vector with other ports. */
  withPorts(ports: PortRanges): Resources {
    return new Resources(this.cpu, this.memory, this.disk, this.gpus, ports, this.#extKeys, this.#extValues);
  }

  add(o: Resources): Resources {
    if (o === Resources.ZERO) return this;
    if (this === Resources.ZERO) return o;
    const cpu = checkSum('cpu', this.cpu + o.cpu);
    const memory = checkSum('memory', this.memory + o.memory);
    const disk = checkSum('disk', this.disk + o.disk);
    const gpus = checkSum('gpus', this.gpus + o.gpus);
    const ports = this.ports.add(o.ports);
    if (this.#extKeys.length === 0 && o.#extKeys.length === 0) {
      return new Resources(cpu, memory, disk, gpus, ports, NO_KEYS, NO_VALUES);
    }
    const [keys, values] = mergeExtended(this.#extKeys, this.#extValues, o.#extKeys, o.#extValues, 1, false);
    return new Resources(cpu, memory, disk, gpus, ports, keys, values);
  }

  /**
   * `this - o`. With `'error'` (the default) a resource that would go negative, or a port of
   * `o` that is not in `this`, throws `BerthError('SPEC_INVALID')` naming it; with `'clamp'` it
   * stops at zero (and ports not held are ignored). Never returns a negative amount.
   */
  sub(o: Resources, mode: SubtractMode = 'error'): Resources {
    if (mode !== 'error' && mode !== 'clamp') {
      throw new BerthError('SPEC_INVALID', `subtract mode must be 'error' or 'clamp', got ${String(mode)}`, {
        component: COMPONENT,
      });
    }
    if (o === Resources.ZERO) return this;
    const clamp = mode === 'clamp';
    const take = (field: string, a: number, b: number): number => {
      if (a >= b) return a - b;
      if (clamp) return 0;
      throw new BerthError(
        'SPEC_INVALID',
        `cannot subtract ${field} ${b} from ${a}: the result would be negative`,
        {
          component: COMPONENT,
          hint: "Pass mode 'clamp' to stop at zero.",
          details: { field, have: a, subtract: b },
        },
      );
    };
    const cpu = take('cpu', this.cpu, o.cpu);
    const memory = take('memory', this.memory, o.memory);
    const disk = take('disk', this.disk, o.disk);
    const gpus = take('gpus', this.gpus, o.gpus);
    if (!clamp && !this.ports.containsAll(o.ports)) {
      throw new BerthError(
        'SPEC_INVALID',
        `cannot subtract ports ${o.ports.sub(this.ports).toString()}: they are not in ${this.ports.toString() || 'the (empty) port set'}`,
        { component: COMPONENT, hint: "Pass mode 'clamp' to ignore ports that are not held." },
      );
    }
    const ports = this.ports.sub(o.ports);
    if (this.#extKeys.length === 0 && o.#extKeys.length === 0) {
      return Resources.#make(cpu, memory, disk, gpus, ports, []);
    }
    const [keys, values] = mergeExtended(this.#extKeys, this.#extValues, o.#extKeys, o.#extValues, -1, clamp);
    if (keys.length === 0) return Resources.#make(cpu, memory, disk, gpus, ports, []);
    return new Resources(cpu, memory, disk, gpus, ports, keys, values);
  }

  /**
   * Whether this request fits into `free`: every amount ≤ the free amount and every requested
   * port is free. Allocation-free; dynamic port counts are the placement engine's business.
   */
  fits(free: Resources): boolean {
    if (this.cpu > free.cpu || this.memory > free.memory || this.disk > free.disk || this.gpus > free.gpus) {
      return false;
    }
    const keys = this.#extKeys;
    if (keys.length !== 0) {
      const freeKeys = free.#extKeys;
      if (freeKeys.length === 0) return false;
      const values = this.#extValues;
      const freeValues = free.#extValues;
      // Both key lists are sorted: one merge pass.
      let j = 0;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        while (j < freeKeys.length && freeKeys[j]! < k) j++;
        if (j >= freeKeys.length || freeKeys[j] !== k || freeValues[j]! < values[i]!) return false;
      }
    }
    return this.ports.size === 0 || free.ports.containsAll(this.ports);
  }

  isZero(): boolean {
    return (
      this.cpu === 0 &&
      this.memory === 0 &&
      this.disk === 0 &&
      this.gpus === 0 &&
      this.ports.size === 0 &&
      this.#extKeys.length === 0
    );
  }

  equals(o: Resources): boolean {
    return this === o || this.compare(o) === 0;
  }

  /**
   * A total order for sorting: cpu, memory, disk, gpus, then extended resources by name, then
   * ports. Consistent with {@link Resources.equals}.
   */
  compare(o: Resources): number {
    if (this.cpu !== o.cpu) return this.cpu < o.cpu ? -1 : 1;
    if (this.memory !== o.memory) return this.memory < o.memory ? -1 : 1;
    if (this.disk !== o.disk) return this.disk < o.disk ? -1 : 1;
    if (this.gpus !== o.gpus) return this.gpus < o.gpus ? -1 : 1;
    const ak = this.#extKeys;
    const bk = o.#extKeys;
    const n = Math.min(ak.length, bk.length);
    for (let i = 0; i < n; i++) {
      // A name present on one side only: the side holding it sorts after.
      if (ak[i] !== bk[i]) return ak[i]! < bk[i]! ? 1 : -1;
      const av = this.#extValues[i]!;
      const bv = o.#extValues[i]!;
      if (av !== bv) return av < bv ? -1 : 1;
    }
    if (ak.length !== bk.length) return ak.length < bk.length ? -1 : 1;
    return this.ports.compare(o.ports);
  }

  /**
   * The dominant share of this allocation against `total` (DRF): the maximum over resources of
   * this/total. Resources the total lacks (0) count 0. Ports count by number of ports.
   */
  dominantShare(total: Resources): number {
    let share = 0;
    if (total.cpu > 0) share = Math.max(share, this.cpu / total.cpu);
    if (total.memory > 0) share = Math.max(share, this.memory / total.memory);
    if (total.disk > 0) share = Math.max(share, this.disk / total.disk);
    if (total.gpus > 0) share = Math.max(share, this.gpus / total.gpus);
    if (total.ports.size > 0) share = Math.max(share, this.ports.size / total.ports.size);
    const keys = this.#extKeys;
    for (let i = 0; i < keys.length; i++) {
      const t = total.extendedAmount(keys[i]!);
      if (t > 0) share = Math.max(share, this.#extValues[i]! / t);
    }
    return share;
  }

  /**
   * Every amount times `factor`, rounded up (a request never shrinks below what it asked for).
   * Ports are kept as they are: a set of specific ports cannot be scaled.
   */
  scale(factor: number): Resources {
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `scale factor must be a finite number ≥ 0, got ${String(factor)}`,
        {
          component: COMPONENT,
        },
      );
    }
    const up = (field: string, v: number): number => {
      if (v === 0) return 0;
      const exact = v * factor;
      // Guard against float noise (3 × 1.1 = 3.3000000000000003 must give 4, not 5).
      const r = Math.round(exact);
      return checkSum(
        field,
        Math.abs(exact - r) <= 1e-9 * Math.max(1, Math.abs(exact)) ? r : Math.ceil(exact),
      );
    };
    const entries: [string, number][] = [];
    for (let i = 0; i < this.#extKeys.length; i++) {
      const k = this.#extKeys[i]!;
      const v = up(`extended[${JSON.stringify(k)}]`, this.#extValues[i]!);
      if (v > 0) entries.push([k, v]);
    }
    return Resources.#make(
      up('cpu', this.cpu),
      up('memory', this.memory),
      up('disk', this.disk),
      up('gpus', this.gpus),
      this.ports,
      entries,
    );
  }

  /** Compact human form: `"2 cpu, 4Gi mem, ports 31000-31002"`; `"none"` when zero. */
  toString(): string {
    const parts: string[] = [];
    if (this.cpu !== 0) parts.push(`${cpuString(this.cpu)} cpu`);
    if (this.memory !== 0) parts.push(`${bytesString(this.memory)} mem`);
    if (this.disk !== 0) parts.push(`${bytesString(this.disk)} disk`);
    if (this.gpus !== 0) parts.push(`${this.gpus} ${this.gpus === 1 ? 'gpu' : 'gpus'}`);
    for (let i = 0; i < this.#extKeys.length; i++) parts.push(`${this.#extValues[i]} ${this.#extKeys[i]}`);
    if (this.ports.size !== 0) parts.push(`ports ${this.ports.toString()}`);
    return parts.length === 0 ? 'none' : parts.join(', ');
  }

  /**
   * A Kubernetes ResourceList: `cpu` as a DecimalSI quantity ("1500m", "2"), `memory` and
   * `ephemeral-storage` as BinarySI ("4Gi"), `nvidia.com/gpu` and extended resources as whole
   * numbers. Zero amounts are left out; ports are not a Kubernetes resource.
   */
  toQuantities(): ResourceList {
    const out: ResourceList = {};
    if (this.cpu !== 0) out.cpu = Quantity.fromMilli(this.cpu).toString();
    if (this.memory !== 0) out.memory = bytesString(this.memory);
    if (this.disk !== 0) out['ephemeral-storage'] = bytesString(this.disk);
    if (this.gpus !== 0) out[GPU_RESOURCE_NAME] = String(this.gpus);
    for (let i = 0; i < this.#extKeys.length; i++) out[this.#extKeys[i]!] = String(this.#extValues[i]);
    return out;
  }

  /** {@link Resources.toQuantities} plus `ports` ("31000-31002") when there are any; {@link Resources.fromQuantities} reads it back. */
  toJSON(): ResourceList {
    const out = this.toQuantities();
    if (this.ports.size !== 0) out.ports = this.ports.toString();
    return out;
  }
}

/**
 * Merges two name-sorted extended lists: `a + sign × b`, dropping zeros. Subtraction below zero
 * clamps or throws (naming the resource) before anything is built.
 */
function mergeExtended(
  ak: readonly string[],
  av: readonly number[],
  bk: readonly string[],
  bv: readonly number[],
  sign: 1 | -1,
  clamp: boolean,
): [string[], number[]] {
  const keys: string[] = [];
  const values: number[] = [];
  let i = 0;
  let j = 0;
  while (i < ak.length || j < bk.length) {
    let key: string;
    let a = 0;
    let b = 0;
    if (j >= bk.length || (i < ak.length && ak[i]! < bk[j]!)) {
      key = ak[i]!;
      a = av[i++]!;
    } else if (i >= ak.length || bk[j]! < ak[i]!) {
      key = bk[j]!;
      b = bv[j++]!;
    } else {
      key = ak[i]!;
      a = av[i++]!;
      b = bv[j++]!;
    }
    let v: number;
    if (sign === 1) {
      v = a + b;
      if (!Number.isSafeInteger(v)) checkSum(`extended[${JSON.stringify(key)}]`, v);
    } else if (a >= b) v = a - b;
    else if (clamp) v = 0;
    else throw negativeError(`extended[${JSON.stringify(key)}]`, a, b);
    if (v > 0) {
      keys.push(key);
      values.push(v);
    }
  }
  return [keys, values];
}

function negativeError(field: string, have: number, subtract: number): BerthError {
  return new BerthError(
    'SPEC_INVALID',
    `cannot subtract ${field} ${subtract} from ${have}: the result would be negative`,
    {
      component: COMPONENT,
      hint: "Pass mode 'clamp' to stop at zero.",
      details: { field, have, subtract },
    },
  );
}

function toQuantity(name: string, raw: string | number): Quantity {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw fieldError(name, raw, 'a finite number or a quantity string');
    // Numbers are plain quantities: 0.5 is "0.5" (500m). Go through the shortest exact decimal.
    return Quantity.parse(numberToDecimal(raw));
  }
  if (typeof raw !== 'string') throw fieldError(name, raw, 'a quantity string like "500m" or "1Gi"');
  try {
    return Quantity.parse(raw);
  } catch (err) {
    const e = err as BerthError;
    throw new BerthError(
      'SPEC_INVALID',
      `resources.${name}: ${e.message.replace(/^\[berth\] \[[^\]]*\] /, '')}`,
      {
        component: COMPONENT,
        ...(e.hint === undefined ? {} : { hint: e.hint }),
        issues: [{ path: `resources.${name}`, message: `${JSON.stringify(raw)} is not a quantity` }],
        cause: err,
      },
    );
  }
}

/** A JS number as a plain decimal string (no exponent), e.g. 1e-7 → "0.0000001". */
function numberToDecimal(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, int, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = int! + frac;
  const point = int!.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function scaled(name: string, q: Quantity, scale: number): number {
  try {
    return q.scaledValue(scale);
  } catch (err) {
    throw new BerthError(
      'SPEC_INVALID',
      `resources.${name} = ${q.toString()} is too large to count exactly`,
      { component: COMPONENT, cause: err, issues: [{ path: `resources.${name}`, message: 'too large' }] },
    );
  }
}
