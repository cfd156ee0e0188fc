/**
 * Fair share across tenants: the `FairQueueSort` queue order (priority, then weighted Dominant
 * Resource Fairness over tenants, then arrival), the `TenantQuota` filter (Mesos guarantee and
 * limit semantics) and `placeFairly`, which re-sorts after every placement so shares follow the
 * batch. Both read a `TenantLedger`: what each tenant holds in a snapshot, kept current from the
 * snapshot's log of changed nodes.
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
import {
  type Placement,
  type PlacementResult,
  type PlaceOptions,
  place,
  resolveFramework,
  type Unplaceable,
} from '../place.ts';
import type { FilterPlugin, PlacementContext, PreFilterPlugin, QueueSortPlugin } from '../plugin.ts';
import type { BuiltInProfileName } from '../profiles.ts';
import type { JsonValue, PlacementProfile } from '../registry.ts';
import type { RunningTask, Snapshot } from '../snapshot.ts';
import { SKIP, type Status, unschedulable } from '../status.ts';
import type { PlacementResources, PlacementTask } from '../task.ts';
import { bindPreemption } from './preemption.ts';

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

/**
 * Queue order: higher priority first; then the tenant with the lowest weighted dominant share
 * (a `DRFSorter` over tenants, ties to fewer allocations, then the smaller name, as in Mesos);
 * then arrival. `place` sorts its queue once, with the shares of the last `sync`;
 * `placeFairly` syncs from the snapshot and updates the shares after every placement.
 */
export class FairQueueSortPlugin implements QueueSortPlugin {
  readonly name = 'FairQueueSort';
  readonly #weights: ReadonlyMap<string, number>;
  #sorter = new DRFSorter();
  readonly #shares = new Map<string, number>();
  #dirty = false;

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

  /** The DRF sorter over tenants (read it for shares; `placeFairly` records placements in it). */
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

  /** Restarts the sorter from what each tenant holds in `snapshot`, measured against its total. */
  sync(snapshot: Snapshot): void {
    const ledger = tenantLedger(snapshot);
    this.#sorter = new DRFSorter();
    this.#sorter.addTotal(ledger.total());
    for (const tenant of this.#weights.keys()) this.ensure(tenant);
    for (const [tenant, held] of ledger.allocations()) {
      this.ensure(tenant);
      if (!held.isZero()) this.#sorter.allocated(tenant, held);
    }
    this.#dirty = true;
  }

  /** Records a placement made for `tenant`. */
  allocated(tenant: string, requests: PlacementResources): void {
    this.ensure(tenant);
    this.#sorter.allocated(tenant, requestResources(requests));
    this.#dirty = true;
  }

  /** The tenant's weighted dominant share as the sorter has it (0 when unknown). */
  share(tenant: string): number {
    if (this.#dirty) {
      this.#shares.clear();
      for (const name of this.#sorter.sort()) this.#shares.set(name, this.#sorter.client(name).share);
      this.#dirty = false;
    }
    return this.#shares.get(tenant) ?? 0;
  }

  /** Of `tenants`, the one DRF serves next. */
  next(tenants: ReadonlySet<string>): string | undefined {
    for (const t of tenants) this.ensure(t);
    for (const name of this.#sorter.sort()) if (tenants.has(name)) return name;
    return undefined;
  }

  less(a: PlacementTask, b: PlacementTask): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    if (a.tenant !== b.tenant) {
      const sa = this.share(a.tenant);
      const sb = this.share(b.tenant);
      if (sa !== sb) return sa < sb;
    }
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

interface Unit {
  readonly tasks: PlacementTask[];
  readonly tenant: string;
  priority: number;
  sequence: number;
}

/**
 * Places `tasks` like `place`, with a queue that follows the fair share as the batch goes: at
 * each step the highest priority left, then the tenant with the lowest weighted dominant share
 * (measured on the snapshot's holdings plus what this batch placed so far), then arrival. A gang
 * (tasks sharing a `group`) is one step, so it is placed all-or-nothing within one `place` call.
 * The profile's queue sort must be `FairQueueSort`.
 */
export function placeFairly(
  tasks: readonly PlacementTask[],
  snapshot: Snapshot,
  profile: PlacementProfile | BuiltInProfileName | Framework,
  options: PlaceOptions = {},
): PlacementResult {
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) {
      throw new BerthError('SPEC_INVALID', `task id ${t.id} appears twice in one placement batch`, {
        component: COMPONENT,
        hint: 'Give every task instance its own id (e.g. web-0, web-1).',
      });
    }
    ids.add(t.id);
  }
  const framework = resolveFramework(profile, options.registry);
  const fq = framework.queueSort;
  if (!(fq instanceof FairQueueSortPlugin)) {
    throw new BerthError(
      'SPEC_INVALID',
      `placeFairly needs a profile whose queue sort is FairQueueSort, not ${fq.name}`,
      { component: COMPONENT, hint: 'Replace PrioritySort with { name: "FairQueueSort" } in the profile.' },
    );
  }
  bindPreemption(framework);
  fq.sync(snapshot);

  const units: Unit[] = [];
  const groups = new Map<string, Unit>();
  for (const t of [...tasks].sort((a, b) => a.sequence - b.sequence)) {
    if (t.group !== undefined) {
      const g = groups.get(t.group);
      if (g !== undefined) {
        g.tasks.push(t);
        if (t.priority > g.priority) g.priority = t.priority;
        continue;
      }
    }
    const u: Unit = { tasks: [t], tenant: t.tenant, priority: t.priority, sequence: t.sequence };
    units.push(u);
    if (t.group !== undefined) groups.set(t.group, u);
  }
  const levels = [...new Set(units.map((u) => u.priority))].sort((a, b) => b - a);
  const placements: Placement[] = [];
  const unplaceable: Unplaceable[] = [];
  const seed = options.seed ?? 0;
  let step = 0;
  for (const level of levels) {
    const queues = new Map<string, Unit[]>();
    for (const u of units) {
      if (u.priority !== level) continue;
      let q = queues.get(u.tenant);
      if (q === undefined) {
        q = [];
        queues.set(u.tenant, q);
      }
      q.push(u);
    }
    const heads = new Map<string, number>();
    const waiting = new Set(queues.keys());
    while (waiting.size > 0) {
      const tenant = fq.next(waiting)!;
      const q = queues.get(tenant)!;
      const at = heads.get(tenant) ?? 0;
      const unit = q[at]!;
      if (at + 1 === q.length) waiting.delete(tenant);
      else heads.set(tenant, at + 1);
      const result = place(unit.tasks, snapshot, framework, { ...options, seed: seed + step++ });
      for (const p of result.placements) {
        const t = unit.tasks.find((x) => x.id === p.taskId)!;
        fq.allocated(t.tenant, t.requests);
        placements.push(p);
      }
      unplaceable.push(...result.unplaceable);
    }
  }
  return { placements, unplaceable };
}
