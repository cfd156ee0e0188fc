/**
 * Fair-share ordering of clients (tenants, Mesos roles, frameworks) behind one {@link Sorter}
 * interface, as the Mesos allocator does: the allocator asks `sort()` who goes next, offers that
 * client resources, and reports what it handed out with `allocated()`. Every implementation gives
 * a total order, so a replay of the same calls always yields the same sequence.
 */
import { BerthError } from '../cluster/errors.ts';
import { PortRanges } from '../resources/port-ranges.ts';
import { Resources } from '../resources/resources.ts';

const COMPONENT = 'core/fairness';

/**
 * Ports are sets of specific ports on one node: they neither add up across nodes nor count in a
 * share, so sorters keep only the scalar part of what they are given.
 */
function scalars(r: Resources): Resources {
  return r.ports.isEmpty ? r : r.withPorts(PortRanges.EMPTY);
}

/** Options of a client when it is added. */
export interface SorterClientOptions {
  /** Relative weight (> 0, default 1): a client of weight 2 is entitled to twice the share. */
  readonly weight?: number;
  /** Inactive clients keep their allocation but are left out of `sort()` (default true). */
  readonly active?: boolean;
}

/** What a sorter knows about one client. */
export interface SorterClient {
  readonly name: string;
  readonly weight: number;
  readonly active: boolean;
  /** Everything currently allocated to the client (scalar resources; ports are not tracked). */
  readonly allocation: Resources;
  /** How many times `allocated()` was called for the client (a DRF tie-breaker, as in Mesos). */
  readonly allocations: number;
  /** The client's weighted share as this sorter computes it (0 for sorters without shares). */
  readonly share: number;
}

/**
 * A total order over clients. Quota (guarantee/limit per client) is applied by the allocator
 * around the sorter, as Mesos does, so the interface needs no change when quota arrives.
 */
export interface Sorter {
  /** `drf`, `fifo`, ... */
  readonly kind: string;
  /** Number of clients, active or not. */
  readonly size: number;
  add(name: string, options?: SorterClientOptions): void;
  /** Forgets a client and its allocation. */
  remove(name: string): void;
  contains(name: string): boolean;
  activate(name: string): void;
  deactivate(name: string): void;
  updateWeight(name: string, weight: number): void;
  /** Records resources handed to a client. */
  allocated(name: string, resources: Resources): void;
  /** Records resources a client gave back (must not exceed what it holds). */
  unallocated(name: string, resources: Resources): void;
  allocation(name: string): Resources;
  client(name: string): SorterClient;
  /** Adds capacity to the pool the shares are measured against (Mesos `addSlave`). */
  addTotal(resources: Resources): void;
  /** Removes capacity from the pool (Mesos `removeSlave`). */
  removeTotal(resources: Resources): void;
  readonly total: Resources;
  /** Active clients, the one that should be served next first. */
  sort(): string[];
}

interface ClientRec {
  readonly name: string;
  readonly seq: number;
  weight: number;
  active: boolean;
  allocation: Resources;
  allocations: number;
  share: number;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new BerthError(
      'SPEC_INVALID',
      `sorter client name must be a non-empty string, got ${JSON.stringify(name)}`,
      {
        component: COMPONENT,
        hint: 'Name clients after their tenant or role, e.g. "analytics".',
      },
    );
  }
}

function checkWeight(name: string, weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `weight of client ${JSON.stringify(name)} must be a finite number > 0, got ${String(weight)}`,
      {
        component: COMPONENT,
        hint: 'Use 1 for an ordinary share, 2 for twice the share.',
      },
    );
  }
  return weight;
}

/** Shared bookkeeping; subclasses decide the order. */
abstract class BaseSorter implements Sorter {
  abstract readonly kind: string;
  protected readonly clients = new Map<string, ClientRec>();
  protected dirty = true;
  #total: Resources = Resources.ZERO;
  #seq = 0;

  get size(): number {
    return this.clients.size;
  }

  get total(): Resources {
    return this.#total;
  }

  add(name: string, options: SorterClientOptions = {}): void {
    checkName(name);
    const weight = checkWeight(name, options.weight ?? 1);
    if (this.clients.has(name)) {
      throw new BerthError('CONFLICT', `sorter client ${JSON.stringify(name)} already exists`, {
        component: COMPONENT,
        hint: 'Call remove() first, or updateWeight() to change its weight.',
      });
    }
    this.clients.set(name, {
      name,
      seq: this.#seq++,
      weight,
      active: options.active ?? true,
      allocation: Resources.ZERO,
      allocations: 0,
      share: 0,
    });
    this.dirty = true;
  }

  remove(name: string): void {
    this.get(name);
    this.clients.delete(name);
    this.dirty = true;
  }

  contains(name: string): boolean {
    return this.clients.has(name);
  }

  activate(name: string): void {
    const c = this.get(name);
    if (!c.active) {
      c.active = true;
      this.dirty = true;
    }
  }

  deactivate(name: string): void {
    const c = this.get(name);
    if (c.active) {
      c.active = false;
      this.dirty = true;
    }
  }

  updateWeight(name: string, weight: number): void {
    const c = this.get(name);
    c.weight = checkWeight(name, weight);
    this.dirty = true;
  }

  allocated(name: string, given: Resources): void {
    const resources = scalars(given);
    const c = this.get(name);
    c.allocation = c.allocation.add(resources);
    c.allocations++;
    this.dirty = true;
  }

  unallocated(name: string, given: Resources): void {
    const resources = scalars(given);
    const c = this.get(name);
    if (!resources.fits(c.allocation)) {
      throw new BerthError(
        'CONFLICT',
        `client ${JSON.stringify(name)} holds ${c.allocation.toString()}, cannot give back ${resources.toString()}`,
        {
          component: COMPONENT,
          hint: 'Unallocate only what allocated() recorded for this client.',
        },
      );
    }
    c.allocation = c.allocation.sub(resources);
    this.dirty = true;
  }

  allocation(name: string): Resources {
    return this.get(name).allocation;
  }

  client(name: string): SorterClient {
    const c = this.get(name);
    this.refresh();
    return {
      name: c.name,
      weight: c.weight,
      active: c.active,
      allocation: c.allocation,
      allocations: c.allocations,
      share: c.share,
    };
  }

  addTotal(resources: Resources): void {
    this.#total = this.#total.add(scalars(resources));
    this.dirty = true;
  }

  removeTotal(given: Resources): void {
    const resources = scalars(given);
    if (!resources.fits(this.#total)) {
      throw new BerthError(
        'CONFLICT',
        `the sorter's total ${this.#total.toString()} does not contain ${resources.toString()}`,
        {
          component: COMPONENT,
          hint: 'Remove only capacity that addTotal() added.',
        },
      );
    }
    this.#total = this.#total.sub(resources);
    this.dirty = true;
  }

  sort(): string[] {
    const order = this.refresh();
    const out: string[] = [];
    for (const c of order) if (c.active) out.push(c.name);
    return out;
  }

  #order: ClientRec[] = [];

  /** Recomputes shares and the order only when something changed since the last sort. */
  protected refresh(): readonly ClientRec[] {
    if (this.dirty) {
      this.#order = this.order([...this.clients.values()], this.#total);
      this.dirty = false;
    }
    return this.#order;
  }

  /** Sets `share` on each client and returns them in serving order. */
  protected abstract order(clients: ClientRec[], total: Resources): ClientRec[];

  protected get(name: string): ClientRec {
    const c = this.clients.get(name);
    if (c === undefined) {
      throw new BerthError('NOT_FOUND', `sorter client ${JSON.stringify(name)} does not exist`, {
        component: COMPONENT,
        hint: 'add() the client before using it.',
      });
    }
    return c;
  }
}

/** Options of {@link DRFSorter}. */
export interface DRFSorterOptions {
  /**
   * Resources left out of the shares (Mesos `--fair_sharing_excluded_resource_names`): `cpu`,
   * `memory`, `disk`, `gpus` or an extended resource name.
   */
  readonly excludeResources?: readonly string[];
}

/**
 * Weighted Dominant Resource Fairness, as the Mesos allocator's DRF sorter computes it: a client's
 * share is the maximum over scalar resources of allocated/total (ports, being ranges, do not
 * count), divided by its weight. Ties go to fewer allocations, then to the smaller name.
 */
export class DRFSorter extends BaseSorter {
  readonly kind = 'drf';
  readonly #exclude: ReadonlySet<string>;

  constructor(options: DRFSorterOptions = {}) {
    super();
    this.#exclude = new Set(options.excludeResources ?? []);
  }

  /** The unweighted dominant share of `allocation` against `total`. */
  dominantShare(allocation: Resources, total: Resources): number {
    const ex = this.#exclude;
    let share = 0;
    if (total.cpu > 0 && !ex.has('cpu')) share = Math.max(share, allocation.cpu / total.cpu);
    if (total.memory > 0 && !ex.has('memory')) share = Math.max(share, allocation.memory / total.memory);
    if (total.disk > 0 && !ex.has('disk')) share = Math.max(share, allocation.disk / total.disk);
    if (total.gpus > 0 && !ex.has('gpus')) share = Math.max(share, allocation.gpus / total.gpus);
    for (const [name, amount] of total.extended) {
      if (amount > 0 && !ex.has(name)) share = Math.max(share, allocation.extendedAmount(name) / amount);
    }
    return share;
  }

  protected order(clients: ClientRec[], total: Resources): ClientRec[] {
    for (const c of clients) c.share = this.dominantShare(c.allocation, total) / c.weight;
    return clients.sort(compareDRF);
  }
}

function compareDRF(a: ClientRec, b: ClientRec): number {
  if (a.share !== b.share) return a.share < b.share ? -1 : 1;
  if (a.allocations !== b.allocations) return a.allocations - b.allocations;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * First come, first served: clients in the order they were added, whatever they hold. Useful as a
 * baseline, and it keeps the {@link Sorter} interface honest about not assuming DRF.
 */
export class FifoSorter extends BaseSorter {
  readonly kind = 'fifo';

  protected order(clients: ClientRec[]): ClientRec[] {
    for (const c of clients) c.share = 0;
    return clients.sort((a, b) => a.seq - b.seq);
  }
}
