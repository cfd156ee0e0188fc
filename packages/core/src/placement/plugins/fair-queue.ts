/**
 * Fair share across tenants: the `FairQueueSort` queue order (priority, then weighted Dominant
 * Resource Fairness over tenants, then arrival), which follows the shares through a `place` batch
 * by the framework's batch and reserve hooks, the `TenantQuota` filter (Mesos guarantee and limit
 * semantics) and `placeFairly`, kept as an alias of `place` for compatibility. The first two read
 * a `TenantLedger`: what each tenant holds in a snapshot, kept current from the snapshot's log of
 * changed nodes.
 */
import { BerthError } from '../../cluster/errors.ts';
import {
  formatQuotaViolation,
  parseTenantQuotas,
  type QuotaViolation,
  quotaViolation,
  type TenantQuota,
  type TenantQuotaInput,
} from '../../fairness/quota.ts';
import { DRFSorter } from '../../fairness/sorter.ts';
import { Resources } from '../../resources/resources.ts';
import { stateKey } from '../cycle-state.ts';
import type { Framework } from '../framework.ts';
import { type PlacementResult, type PlaceOptions, place, resolveFramework } from '../place.ts';
import type {
  BatchPlugin,
  FilterPlugin,
  PlacementContext,
  PreFilterPlugin,
  QueueSortPlugin,
  ReservePlugin,
} from '../plugin.ts';
import type { BuiltInProfileName } from '../profiles.ts';
import type { JsonValue, PlacementProfile } from '../registry.ts';
import type { RunningTask, Snapshot } from '../snapshot.ts';
import { SKIP, type Status, unschedulable } from '../status.ts';
import type { PlacementResources, PlacementTask } from '../task.ts';

const COMPONENT = 'core/placement';

const STANDARD = ['cpu', 'memory', 'disk', 'gpus'] as const;

/** The tenant a running task counts for (tasks without one belong to `default`, like specs). */
export function tenantOf(t: RunningTask): string {
  return t.tenant ?? 'default';
}

export class TenantLedger {
  readonly #snapshot: Snapshot;
  readonly #names: string[];
  #width: number;
  #mark = -1;
  /** Per node: its contribution per tenant. */
  #perNode: (Map<string, Float64Array> | undefined)[] = [];
  /** Per node, flattened: allocatable − allocated per resource. */
  #nodeFree = new Float64Array(0);
  #nodeTotal = new Float64Array(0);
  #tenants = new Map<string, Float64Array>();
  #free: Float64Array;
  #total: Float64Array;
  #cache: { allocations: Map<string, Resources>; unallocated: Resources; total: Resources } | undefined;

  constructor(snapshot: Snapshot) {
    this.#snapshot = snapshot;
    this.#names = [...STANDARD, ...snapshot.extendedResources];
    this.#width = this.#names.length;
    this.#free = new Float64Array(this.#width);
    this.#total = new Float64Array(this.#width);
  }

  /** Brings the ledger up to date with the snapshot (only the nodes changed since last time). */
  refresh(): this {
    const s = this.#snapshot;
    if (s.extendedResources.length + STANDARD.length !== this.#width) {
      // A new extended resource appeared: start over with the wider vector.
      this.#names.splice(0, this.#names.length, ...STANDARD, ...s.extendedResources);
      this.#mark = -1;
      return this.#rebuild();
    }
    const changed = this.#mark < 0 ? undefined : s.changedSince(this.#mark);
    if (changed === undefined) return this.#rebuild();
    if (changed.length === 0) return this;
    const seen = new Set<number>();
    for (const node of changed) {
      if (seen.has(node)) continue;
      seen.add(node);
      this.#apply(node, -1);
      this.#measure(node);
      this.#apply(node, 1);
    }
    this.#mark = s.changeMark;
    this.#cache = undefined;
    return this;
  }

  #rebuild(): this {
    const s = this.#snapshot;
    this.#width = this.#names.length;
    const w = this.#width;
    this.#perNode = new Array(s.size);
    this.#nodeFree = new Float64Array(s.size * w);
    this.#nodeTotal = new Float64Array(s.size * w);
    this.#tenants = new Map();
    this.#free = new Float64Array(w);
    this.#total = new Float64Array(w);
    for (let node = 0; node < s.size; node++) {
      this.#measure(node);
      this.#apply(node, 1);
    }
    this.#mark = s.changeMark;
    this.#cache = undefined;
    return this;
  }

  #column(k: number) {
    return this.#snapshot.resource(this.#names[k]!);
  }

  /** Reads one node's free amounts and tenant contributions from the snapshot. */
  #measure(node: number): void {
    const w = this.#width;
    for (let k = 0; k < w; k++) {
      const c = this.#column(k);
      const alloc = c === undefined ? 0 : c.alloc[node]!;
      const free = c === undefined ? 0 : alloc - c.used[node]!;
      this.#nodeFree[node * w + k] = Math.max(free, 0);
      this.#nodeTotal[node * w + k] = alloc;
    }
    let per: Map<string, Float64Array> | undefined;
    for (const t of this.#snapshot.tasks(node)) {
      const r = t.requests;
      if (r === undefined) continue;
      per ??= new Map();
      const tenant = tenantOf(t);
      let v = per.get(tenant);
      if (v === undefined) {
        v = new Float64Array(w);
        per.set(tenant, v);
      }
      v[0]! += r.cpu;
      v[1]! += r.memory;
      v[2]! += r.disk;
      v[3]! += r.gpus;
      if (r.extended.size > 0) {
        for (let k = STANDARD.length; k < w; k++) v[k]! += r.extended.get(this.#names[k]!) ?? 0;
      }
    }
    this.#perNode[node] = per;
  }

  #apply(node: number, sign: 1 | -1): void {
    const w = this.#width;
    for (let k = 0; k < w; k++) {
      this.#free[k]! += sign * this.#nodeFree[node * w + k]!;
      this.#total[k]! += sign * this.#nodeTotal[node * w + k]!;
    }
    const per = this.#perNode[node];
    if (per === undefined) return;
    for (const [tenant, v] of per) {
      let sum = this.#tenants.get(tenant);
      if (sum === undefined) {
        sum = new Float64Array(w);
        this.#tenants.set(tenant, sum);
      }
      for (let k = 0; k < w; k++) sum[k]! += sign * v[k]!;
    }
  }

  #resources(v: Float64Array): Resources {
    const extended: Record<string, number> = {};
    for (let k = STANDARD.length; k < this.#width; k++) if (v[k]! > 0) extended[this.#names[k]!] = v[k]!;
    return Resources.of({
      cpu: Math.max(0, v[0]!),
      memory: Math.max(0, v[1]!),
      disk: Math.max(0, v[2]!),
      gpus: Math.max(0, v[3]!),
      extended,
    });
  }

  #view() {
    this.refresh();
    if (this.#cache === undefined) {
      const allocations = new Map<string, Resources>();
      for (const [tenant, v] of this.#tenants) allocations.set(tenant, this.#resources(v));
      this.#cache = {
        allocations,
        unallocated: this.#resources(this.#free),
        total: this.#resources(this.#total),
      };
    }
    return this.#cache;
  }

  /** Requests of each tenant's tasks in the snapshot. */
  allocations(): ReadonlyMap<string, Resources> {
    return this.#view().allocations;
  }

  allocation(tenant: string): Resources {
    return this.#view().allocations.get(tenant) ?? Resources.ZERO;
  }

  /** Σ over nodes of allocatable − allocated (ports excluded). */
  unallocated(): Resources {
    return this.#view().unallocated;
  }

  /** Σ over nodes of allocatable (ports excluded): what shares are measured against. */
  total(): Resources {
    return this.#view().total;
  }
}

const LEDGERS = new WeakMap<Snapshot, TenantLedger>();

/** The ledger of `snapshot`, created on first use and refreshed on every call. */
export function tenantLedger(snapshot: Snapshot): TenantLedger {
  let l = LEDGERS.get(snapshot);
  if (l === undefined) {
    l = new TenantLedger(snapshot);
    LEDGERS.set(snapshot, l);
  }
  return l.refresh();
}

const REQUESTS = new WeakMap<PlacementResources, Resources>();

/** A task's requests as a `Resources` (ports left out: they are per node). */
export function requestResources(r: PlacementResources): Resources {
  let out = REQUESTS.get(r);
  if (out === undefined) {
    out = Resources.of({ cpu: r.cpu, memory: r.memory, disk: r.disk, gpus: r.gpus, extended: r.extended });
    REQUESTS.set(r, out);
  }
  return out;
}

function argsError(message: string, path = ''): BerthError {
  return new BerthError('SPEC_INVALID', message, {
    component: COMPONENT,
    issues: [{ path, message }],
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface FairQueueSortArgs {
  /** Tenant weights (> 0, default 1): a tenant of weight 2 is entitled to twice the share. */
  readonly tenants?: Readonly<Record<string, { readonly weight?: number }>>;
}

/** What a batch's reservations recorded for one task, to replay after a rollback. */
interface Reserved {
  readonly tenant: string;
  readonly requests: PlacementResources;
}

/** A gang (tasks sharing a `group`) is ordered as one unit: its highest priority, its first arrival. */
interface Unit {
  readonly priority: number;
  readonly sequence: number;
}

/**
 * Queue order: higher priority first; then the tenant with the lowest weighted dominant share
 * (a `DRFSorter` over tenants: ties to fewer allocations, then the smaller name, as in Mesos);
 * then arrival. Tasks sharing a `group` (a gang) are ordered as one unit and, once one of them
 * is reserved, the rest of the unit comes next.
 *
 * It follows the batch as `place` goes (`dynamic`): `beginBatch` measures what every tenant
 * already holds in the snapshot, each reservation of the batch adds to its tenant's share
 * (`reserve`), and a reservation rolled back (a gang that could not fit, a permit refusal) is
 * taken out again (`unreserve`), so plain `place` with this queue sort gives the DRF order.
 */
export class FairQueueSortPlugin implements QueueSortPlugin, BatchPlugin, ReservePlugin {
  readonly name = 'FairQueueSort';
  /** The order changes as the batch is placed: `place` re-picks after every reservation. */
  readonly dynamic = true;
  readonly #weights: ReadonlyMap<string, number>;
  #sorter = new DRFSorter();
  readonly #shares = new Map<string, number>();
  readonly #rank = new Map<string, number>();
  #dirty = false;
  /** What tenants held when the batch began, and the total shares are measured against. */
  #held: ReadonlyMap<string, Resources> = new Map();
  #total = Resources.ZERO;
  /** The batch's reservations still standing, in the order they were made. */
  readonly #reserved = new Map<string, Reserved>();
  readonly #units = new Map<string, Unit>();
  /** The group of the last reservation: its other members go next. */
  #current: string | undefined;

  constructor(args: FairQueueSortArgs = {}) {
    const weights = new Map<string, number>();
    for (const [tenant, t] of Object.entries(args.tenants ?? {})) {
      const w = t.weight ?? 1;
      if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0)
        throw argsError(
          `weight of tenant ${tenant} must be a number > 0, got ${String(w)}`,
          `tenants.${tenant}.weight`,
        );
      weights.set(tenant, w);
    }
    this.#weights = weights;
  }

  weight(tenant: string): number {
    return this.#weights.get(tenant) ?? 1;
  }

  /** The DRF sorter over tenants (read it for shares). */
  get sorter(): DRFSorter {
    return this.#sorter;
  }

  /** Makes sure the sorter knows `tenant` (with its weight). */
  ensure(tenant: string): void {
    if (!this.#sorter.contains(tenant)) {
      this.#sorter.add(tenant, { weight: this.weight(tenant) });
      this.#dirty = true;
    }
  }

  /**
   * Restarts the sorter from what each tenant holds in `snapshot`, measured against its total
   * (`beginBatch` does this; call it yourself only to read shares outside a batch).
   */
  sync(snapshot: Snapshot): void {
    const ledger = tenantLedger(snapshot);
    this.#held = new Map(ledger.allocations());
    this.#total = ledger.total();
    this.#reserved.clear();
    this.#restart();
  }

  #restart(): void {
    this.#sorter = new DRFSorter();
    this.#sorter.addTotal(this.#total);
    for (const tenant of this.#weights.keys()) this.ensure(tenant);
    for (const [tenant, held] of this.#held) {
      this.ensure(tenant);
      if (!held.isZero()) this.#sorter.allocated(tenant, held);
    }
    for (const r of this.#reserved.values()) this.allocated(r.tenant, r.requests);
    this.#dirty = true;
  }

  /** Records a placement made for `tenant` (outside a batch; inside one, `reserve` does it). */
  allocated(tenant: string, requests: PlacementResources): void {
    this.ensure(tenant);
    this.#sorter.allocated(tenant, requestResources(requests));
    this.#dirty = true;
  }

  beginBatch(tasks: readonly PlacementTask[], snapshot: Snapshot): void {
    this.sync(snapshot);
    for (const t of tasks) this.ensure(t.tenant);
    this.#units.clear();
    this.#current = undefined;
    for (const t of tasks) {
      if (t.group === undefined) continue;
      const u = this.#units.get(t.group);
      this.#units.set(
        t.group,
        u === undefined
          ? { priority: t.priority, sequence: t.sequence }
          : { priority: Math.max(u.priority, t.priority), sequence: Math.min(u.sequence, t.sequence) },
      );
    }
  }

  reserve(ctx: PlacementContext): undefined {
    const { task } = ctx;
    this.#reserved.set(task.id, { tenant: task.tenant, requests: task.requests });
    this.allocated(task.tenant, task.requests);
    this.#current = task.group;
    return undefined;
  }

  unreserve(ctx: PlacementContext): void {
    // Replay the reservations still standing, as if this one had never been made.
    if (this.#reserved.delete(ctx.task.id)) this.#restart();
  }

  #refresh(): void {
    if (!this.#dirty) return;
    this.#shares.clear();
    this.#rank.clear();
    for (const name of this.#sorter.sort()) {
      this.#rank.set(name, this.#rank.size);
      this.#shares.set(name, this.#sorter.client(name).share);
    }
    this.#dirty = false;
  }

  /** The tenant's weighted dominant share as the sorter has it (0 when unknown). */
  share(tenant: string): number {
    this.#refresh();
    return this.#shares.get(tenant) ?? 0;
  }

  /** Of `tenants`, the one DRF serves next. */
  next(tenants: ReadonlySet<string>): string | undefined {
    for (const t of tenants) this.ensure(t);
    for (const name of this.#sorter.sort()) if (tenants.has(name)) return name;
    return undefined;
  }

  /** A gang's members keep their order, and so do a tenant's other tasks (`place` uses it). */
  lane(task: PlacementTask): string {
    return task.group === undefined ? `tenant\u0000${task.tenant}` : `group\u0000${task.group}`;
  }

  less(a: PlacementTask, b: PlacementTask): boolean {
    // A gang's members in arrival order, whatever tenants they name.
    if (a.group !== undefined && a.group === b.group) return a.sequence < b.sequence;
    const current = this.#current;
    if (current !== undefined && a.group !== b.group) {
      if (a.group === current) return true;
      if (b.group === current) return false;
    }
    const ua = a.group === undefined ? undefined : this.#units.get(a.group);
    const ub = b.group === undefined ? undefined : this.#units.get(b.group);
    const pa = ua?.priority ?? a.priority;
    const pb = ub?.priority ?? b.priority;
    if (pa !== pb) return pa > pb;
    if (a.tenant !== b.tenant) {
      for (const t of [a.tenant, b.tenant]) if (!this.#sorter.contains(t)) this.ensure(t);
      this.#refresh();
      const ra = this.#rank.get(a.tenant) ?? Number.POSITIVE_INFINITY;
      const rb = this.#rank.get(b.tenant) ?? Number.POSITIVE_INFINITY;
      if (ra !== rb) return ra < rb;
    }
    const sa = ua?.sequence ?? a.sequence;
    const sb = ub?.sequence ?? b.sequence;
    if (sa !== sb) return sa < sb;
    return a.sequence < b.sequence;
  }
}

export function fairQueueSort(args: JsonValue | undefined): FairQueueSortPlugin {
  if (args === undefined || args === null) return new FairQueueSortPlugin();
  if (!isRecord(args)) throw argsError('FairQueueSort args must be { tenants: { <name>: { weight } } }');
  for (const key of Object.keys(args))
    if (key !== 'tenants') throw argsError(`unknown FairQueueSort arg ${key}; use tenants`, key);
  const tenants = args.tenants;
  if (tenants !== undefined && !isRecord(tenants))
    throw argsError('tenants must map tenant names to { weight }', 'tenants');
  for (const [tenant, t] of Object.entries(tenants ?? {}))
    if (!isRecord(t)) throw argsError(`tenant ${tenant} must be { weight }`, `tenants.${tenant}`);
  return new FairQueueSortPlugin(
    tenants === undefined ? {} : { tenants: tenants as NonNullable<FairQueueSortArgs['tenants']> },
  );
}

interface QuotaState {
  readonly mark: number;
  readonly violation: QuotaViolation | undefined;
}

const QUOTA_STATE = stateKey<QuotaState>('TenantQuota/check');

/**
 * Per-tenant quota as a pre-filter and filter: a task is refused when its tenant would exceed
 * its limit (`tenant analytics quota limit cpu 8 reached`) or when it would eat into headroom
 * held for another tenant's unmet guarantee. The check is cluster-wide, so the pre-filter
 * decides for every node at once and the filter (which what-ifs such as preemption run) repeats
 * it against the snapshot it is given.
 */
export class TenantQuotaPlugin implements PreFilterPlugin, FilterPlugin {
  readonly name = 'TenantQuota';
  readonly quotas: ReadonlyMap<string, TenantQuota>;

  constructor(quotas: ReadonlyMap<string, TenantQuota>) {
    this.quotas = quotas;
  }

  /** The quota the task would break on `ctx.snapshot`, if any. */
  check(ctx: PlacementContext): QuotaViolation | undefined {
    const mark = ctx.snapshot.changeMark;
    const cached = ctx.state.read(QUOTA_STATE);
    if (cached !== undefined && cached.mark === mark) return cached.violation;
    const ledger = tenantLedger(ctx.snapshot);
    const violation = quotaViolation(
      ctx.task.tenant,
      requestResources(ctx.task.requests),
      this.quotas,
      ledger.allocations(),
      ledger.unallocated(),
    );
    ctx.state.write(QUOTA_STATE, { mark, violation });
    return violation;
  }

  preFilter(ctx: PlacementContext): Status {
    const v = this.check(ctx);
    return v === undefined ? SKIP : unschedulable(formatQuotaViolation(v));
  }

  filter(ctx: PlacementContext): Status | undefined {
    const v = this.check(ctx);
    return v === undefined ? undefined : unschedulable(formatQuotaViolation(v));
  }
}

export function tenantQuota(args: JsonValue | undefined): TenantQuotaPlugin {
  if (!isRecord(args) || !isRecord(args.tenants))
    throw argsError('TenantQuota needs args { tenants: { <name>: { guarantee?, limit? } } }', 'tenants');
  for (const key of Object.keys(args))
    if (key !== 'tenants') throw argsError(`unknown TenantQuota arg ${key}; use tenants`, key);
  return new TenantQuotaPlugin(
    parseTenantQuotas(args.tenants as unknown as Record<string, TenantQuotaInput>, 'tenants'),
  );
}

/**
 * Kept for compatibility: the same as `place` with a profile whose queue sort is
 * `FairQueueSort`, which now follows the shares through the batch by itself (priority, then the
 * tenant with the lowest weighted dominant share, then arrival; a gang as one unit). Checks that
 * the profile's queue sort is `FairQueueSort`, as before.
 */
export function placeFairly(
  tasks: readonly PlacementTask[],
  snapshot: Snapshot,
  profile: PlacementProfile | BuiltInProfileName | Framework,
  options: PlaceOptions = {},
): PlacementResult {
  const framework = resolveFramework(profile, options.registry);
  const fq = framework.queueSort;
  if (!(fq instanceof FairQueueSortPlugin)) {
    throw new BerthError(
      'SPEC_INVALID',
      `placeFairly needs a profile whose queue sort is FairQueueSort, not ${fq.name}`,
      { component: COMPONENT, hint: 'Replace PrioritySort with { name: "FairQueueSort" } in the profile.' },
    );
  }
  return place(tasks, snapshot, framework, options);
}
