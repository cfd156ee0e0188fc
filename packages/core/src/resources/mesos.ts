/**
 * Conversion between {@link Resources} and Mesos v1 `Resource` messages in their JSON form:
 * `{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}}`, `mem`/`disk` in MB, `gpus`,
 * `ports` as `RANGES`, other scalars as extended resources.
 *
 * Mesos scalars are fixed-point with three decimal digits (the master rounds every value to
 * the nearest 0.001). Conversions are exact where the units allow; where they do not, a request
 * going to Mesos rounds UP (never under-request) and resources read from Mesos round DOWN by
 * default (never count capacity that is not there).
 */
import { BerthError } from '../cluster/errors.ts';
import { type PortRange, PortRanges } from './port-ranges.ts';
import { Resources } from './resources.ts';

const COMPONENT = 'core/resources';
const MIB = 1048576;

/** Mesos `Value.Type`. */
export type MesosValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';

/** Mesos `Resource.ReservationInfo` (the fields Berth reads; others pass through untyped). */
export interface MesosReservation {
  readonly type?: 'STATIC' | 'DYNAMIC' | (string & {});
  readonly role?: string;
  readonly principal?: string;
  readonly labels?: unknown;
  readonly [field: string]: unknown;
}

/** One Mesos v1 `Resource` in JSON form. */
export interface MesosResource {
  readonly name: string;
  readonly type: MesosValueType | (string & {});
  readonly scalar?: { readonly value: number };
  readonly ranges?: { readonly range: readonly { readonly begin: number; readonly end: number }[] };
  readonly set?: { readonly item: readonly string[] };
  /** Pre-reservation-refinement role ("*" = unreserved). */
  readonly role?: string;
  readonly reservations?: readonly MesosReservation[];
  readonly allocation_info?: { readonly role?: string };
  readonly [field: string]: unknown;
}

export interface ToMesosOptions {
  /** Sets the legacy `role` field (the form a master without RESERVATION_REFINEMENT sends). */
  readonly role?: string;
  /** Sets `allocation_info.role` (required by MULTI_ROLE frameworks when launching). */
  readonly allocationRole?: string;
  /** Copied onto every resource (e.g. the reservations of the offered resources). */
  readonly reservations?: readonly MesosReservation[];
}

export interface FromMesosOptions {
  /**
   * Keep only resources usable by this role: allocated to it (`allocation_info.role`) or,
   * without allocation info, unreserved or reserved to it.
   */
  readonly role?: string;
  /** How values that are not whole base units round: `'down'` (default, for offers) or `'up'` (for requests). */
  readonly rounding?: 'down' | 'up';
  /** What to do with resources Berth cannot model (`SET`, `TEXT`, non-port `RANGES`): `'error'` (default) or `'skip'`. */
  readonly unsupported?: 'error' | 'skip';
}

function unitError(message: string, details: Record<string, unknown>): BerthError {
  return new BerthError('SPEC_INVALID', message, { component: COMPONENT, details });
}

/** Mesos' own conversion of a double to its fixed-point representation (thousandths). */
function toFixedMilli(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw unitError(
      `Mesos resource ${name} has scalar value ${String(value)}; expected a finite number ≥ 0`,
      {
        name,
        value,
      },
    );
  }
  const milli = Math.round(value * 1000);
  if (!Number.isSafeInteger(milli)) {
    throw unitError(`Mesos resource ${name} = ${value} is too large to count exactly`, { name, value });
  }
  return milli;
}

/** thousandths of a MB → bytes (1 MB = 2^20 bytes), rounded as asked; exact when milli % 125 === 0. */
function megabyteMilliToBytes(milli: number, up: boolean): number {
  const q = Math.floor(milli / 125);
  const r = milli % 125;
  const rest = (r * 131072) / 125;
  return q * 131072 + (up ? Math.ceil(rest) : Math.floor(rest));
}

/** bytes → thousandths of a MB, rounded up (a request never shrinks). */
function bytesToMegabyteMilli(bytes: number): number {
  const q = Math.floor(bytes / MIB);
  const r = bytes % MIB;
  return q * 1000 + Math.ceil((r * 1000) / MIB);
}

/** thousandths → whole units. */
function milliToUnits(milli: number, up: boolean): number {
  return up ? Math.ceil(milli / 1000) : Math.floor(milli / 1000);
}

function scalar(name: string, milli: number, opts: ToMesosOptions): MesosResource {
  return decorate({ name, type: 'SCALAR', scalar: { value: milli / 1000 } }, opts);
}

function decorate(r: MesosResource, opts: ToMesosOptions): MesosResource {
  return {
    ...r,
    ...(opts.role === undefined ? {} : { role: opts.role }),
    ...(opts.reservations === undefined ? {} : { reservations: opts.reservations.map((x) => ({ ...x })) }),
    ...(opts.allocationRole === undefined ? {} : { allocation_info: { role: opts.allocationRole } }),
  };
}

/**
 * `res` as Mesos resources: `cpus` (cores, exact to 0.001), `mem` and `disk` (MB, rounded up to
 * the next 0.001 MB), `gpus`, `ports` as RANGES, extended resources as scalars. Zero amounts are
 * left out, as Mesos rejects zero-valued resources.
 */
export function toMesosResources(res: Resources, opts: ToMesosOptions = {}): MesosResource[] {
  const out: MesosResource[] = [];
  if (res.cpu > 0) out.push(scalar('cpus', res.cpu, opts));
  if (res.memory > 0) out.push(scalar('mem', bytesToMegabyteMilli(res.memory), opts));
  if (res.disk > 0) out.push(scalar('disk', bytesToMegabyteMilli(res.disk), opts));
  if (res.gpus > 0) out.push(scalar('gpus', res.gpus * 1000, opts));
  if (res.ports.size > 0) {
    out.push(decorate({ name: 'ports', type: 'RANGES', ranges: { range: res.ports.toJSON() } }, opts));
  }
  for (const [name, amount] of res.extended) out.push(scalar(name, amount * 1000, opts));
  return out;
}

/** The role a resource is reserved to, or `'*'` when unreserved. */
export function mesosReservationRole(r: MesosResource): string {
  const reservations = r.reservations;
  if (reservations !== undefined && reservations.length > 0) {
    return reservations[reservations.length - 1]?.role ?? '*';
  }
  return r.role ?? '*';
}

/** Whether a framework acting in `role` may use resource `r`. */
export function mesosResourceUsableBy(r: MesosResource, role: string): boolean {
  const allocated = r.allocation_info?.role;
  if (allocated !== undefined) return allocated === role;
  const reserved = mesosReservationRole(r);
  return reserved === '*' || reserved === role;
}

/**
 * Sums a list of Mesos resources (an offer, a task's resources) into one {@link Resources}.
 * Same-named scalars add up; `ports` ranges merge. Throws `BerthError('SPEC_INVALID')` on
 * malformed entries and (unless `unsupported: 'skip'`) `BerthError('UNSUPPORTED')` on types
 * Berth does not model.
 */
export function fromMesosResources(list: readonly MesosResource[], opts: FromMesosOptions = {}): Resources {
  if (!Array.isArray(list)) {
    throw unitError('Mesos resources must be a list of Resource objects', { got: typeof list });
  }
  const up = opts.rounding === 'up';
  const skip = opts.unsupported === 'skip';
  // Sum thousandths per name first, then convert once: rounding happens a single time.
  const milli = new Map<string, number>();
  const ranges: PortRange[] = [];
  for (const [index, r] of list.entries()) {
    if (r === null || typeof r !== 'object' || typeof r.name !== 'string') {
      throw unitError(`Mesos resource #${index} has no name`, { index });
    }
    if (opts.role !== undefined && !mesosResourceUsableBy(r, opts.role)) continue;
    if (r.type === 'SCALAR') {
      if (r.scalar === undefined) {
        throw unitError(`Mesos resource ${r.name} is SCALAR but has no scalar.value`, {
          index,
          name: r.name,
        });
      }
      const total = (milli.get(r.name) ?? 0) + toFixedMilli(r.name, r.scalar.value);
      if (!Number.isSafeInteger(total))
        throw unitError(`Mesos resource ${r.name} sums beyond the safe range`, {});
      milli.set(r.name, total);
    } else if (r.type === 'RANGES' && r.name === 'ports') {
      const got = r.ranges?.range;
      if (!Array.isArray(got)) {
        throw unitError('Mesos resource ports is RANGES but has no ranges.range', { index });
      }
      for (const g of got) ranges.push({ begin: Number(g.begin), end: Number(g.end) });
    } else if (!skip) {
      throw new BerthError(
        'UNSUPPORTED',
        `Mesos resource ${r.name} has type ${String(r.type)}, which Berth does not model (it models SCALAR resources and ports RANGES)`,
        {
          component: COMPONENT,
          hint: "Pass { unsupported: 'skip' } to ignore such resources.",
          details: { index, name: r.name, type: r.type },
        },
      );
    }
  }
  const extended: Record<string, number> = {};
  let cpu = 0;
  let memory = 0;
  let disk = 0;
  let gpus = 0;
  for (const [name, m] of milli) {
    switch (name) {
      case 'cpus':
        cpu = m;
        break;
      case 'mem':
        memory = megabyteMilliToBytes(m, up);
        break;
      case 'disk':
        disk = megabyteMilliToBytes(m, up);
        break;
      case 'gpus':
        gpus = milliToUnits(m, up);
        break;
      default: {
        const v = milliToUnits(m, up);
        if (v > 0) extended[name] = v;
      }
    }
  }
  return Resources.of({ cpu, memory, disk, gpus, ports: PortRanges.from(ranges), extended });
}

/** Splits resources by the role they are allocated (or reserved) to, e.g. to see a multi-role offer. */
export function mesosResourcesByRole(
  list: readonly MesosResource[],
  opts: Omit<FromMesosOptions, 'role'> = {},
): Map<string, Resources> {
  const groups = new Map<string, MesosResource[]>();
  for (const r of list) {
    const role = r.allocation_info?.role ?? mesosReservationRole(r);
    let g = groups.get(role);
    if (g === undefined) {
      g = [];
      groups.set(role, g);
    }
    g.push(r);
  }
  const out = new Map<string, Resources>();
  for (const [role, g] of groups) out.set(role, fromMesosResources(g, opts));
  return out;
}
