/**
 * `DefaultPreemption`: the post-filter that, when a task fits nowhere, looks for a node where
 * evicting strictly lower-priority tasks makes it fit, as kube-scheduler's DefaultPreemption
 * does. Per node: remove every lower-priority task, check the task fits (every filter, on a
 * what-if clone of the snapshot), then give back ("reprieve") as many as possible, most
 * important first — tasks whose eviction would break a disruption budget before the others.
 * Among the candidate nodes the pick is, in order: fewest budget violations, lowest
 * highest-victim priority, smallest sum of victim priorities, fewest victims, latest start of the
 * highest-priority victims, first node. The result is a nominated node and victim ids; the
 * adapters carry out the evictions (Mesos KILL, Kubernetes eviction).
 */
import { BerthError } from '../../cluster/errors.ts';
import { CycleState } from '../cycle-state.ts';
import type { Framework } from '../framework.ts';
import type {
  FilterPlugin,
  FrameworkHandle,
  NodeStatusMap,
  PlacementContext,
  PostFilterPlugin,
  PostFilterResult,
  PreFilterPlugin,
} from '../plugin.ts';
import type { JsonValue } from '../registry.ts';
import type { Eviction, RunningTask, Snapshot } from '../snapshot.ts';
import type { Status } from '../status.ts';
import type { PlacementResources, PlacementTask } from '../task.ts';
import { MarathonConstraints } from './marathon-constraints.ts';
import { NodeAffinityPlugin } from './node-affinity.ts';
import { NodeUnschedulable } from './node-unschedulable.ts';
import { ResourcesFit } from './resources-fit.ts';
import { TaintToleration } from './taint-toleration.ts';
import { TaskAffinity } from './task-affinity.ts';

const COMPONENT = 'core/placement';
/** Added to every priority before summing, as upstream does, so negative priorities sum sanely. */
const PRIORITY_OFFSET = 2 ** 31;
const NO_EXTENDED: ReadonlyMap<string, number> = new Map();
const ZERO: PlacementResources = { cpu: 0, memory: 0, disk: 0, gpus: 0, extended: NO_EXTENDED };

/** At most this many of the tasks of a service may be unavailable (Kubernetes PDB maxUnavailable). */
export interface DisruptionBudget {
  readonly maxUnavailable: number;
  /** Tasks of the service already down (default 0): they use up the budget first. */
  readonly unavailable?: number;
}

export interface DefaultPreemptionOptions {
  /** Budgets by service (a running task's `app`). */
  readonly disruptionBudgets?: Readonly<Record<string, DisruptionBudget>>;
  /**
   * `strict` (default): never pick victims that break a budget. `prefer`: as kube-scheduler
   * treats PodDisruptionBudgets — avoid breaking one, but do if no other node works.
   */
  readonly budgetMode?: 'strict' | 'prefer';
}

/** One node's proposal: victims most important first, and the ranking inputs. */
export interface PreemptionCandidate {
  readonly node: number;
  readonly victims: readonly RunningTask[];
  /** Victims whose eviction breaks their service's disruption budget. */
  readonly violations: number;
  readonly highest: number;
  readonly sum: number;
  /** Earliest start among the highest-priority victims (-Infinity when unknown). */
  readonly earliestHighest: number;
}

/** kube-scheduler's `MoreImportantPod`: higher priority, then started earlier (unknown = newest). */
export function moreImportant(a: RunningTask, b: RunningTask): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const sa = a.startTime ?? Number.POSITIVE_INFINITY;
  const sb = b.startTime ?? Number.POSITIVE_INFINITY;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Negative when candidate `a` is the better pick (upstream's `pickOneNodeForPreemption` order). */
export function compareCandidates(a: PreemptionCandidate, b: PreemptionCandidate): number {
  return compareKeys(keyOfCandidate(a), keyOfCandidate(b));
}

interface RankKey {
  readonly violations: number;
  readonly highest: number;
  readonly sum: number;
  readonly count: number;
  readonly earliestHighest: number;
  readonly node: number;
}

function compareKeys(a: RankKey, b: RankKey): number {
  return (
    a.violations - b.violations ||
    a.highest - b.highest ||
    a.sum - b.sum ||
    a.count - b.count ||
    (a.earliestHighest === b.earliestHighest ? 0 : a.earliestHighest > b.earliestHighest ? -1 : 1) ||
    a.node - b.node
  );
}

function keyOfCandidate(c: PreemptionCandidate): RankKey {
  return { ...c, count: c.victims.length };
}

function candidate(node: number, victims: RunningTask[], violations: number): PreemptionCandidate {
  victims.sort(moreImportant);
  const highest = victims[0]!.priority;
  let sum = 0;
  let earliest = Number.POSITIVE_INFINITY;
  for (const v of victims) {
    sum += v.priority + PRIORITY_OFFSET;
    if (v.priority === highest && v.startTime !== undefined && v.startTime < earliest) earliest = v.startTime;
  }
  return {
    node,
    victims,
    violations,
    highest,
    sum,
    earliestHighest: earliest === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : earliest,
  };
}

interface Book {
  /** Victims nominated earlier on this snapshot: not chosen again, and counted in budgets. */
  readonly victims: Set<string>;
  readonly perApp: Map<string, number>;
}

const DEFAULT_FILTERS: readonly FilterPlugin[] = [
  NodeUnschedulable,
  TaintToleration,
  NodeAffinityPlugin,
  ResourcesFit,
  TaskAffinity,
  MarathonConstraints,
];

function fitsIn(r: PlacementResources, slack: Float64Array, ext: readonly string[], extSlack: Float64Array) {
  if (r.cpu > slack[0]! || r.memory > slack[1]! || r.disk > slack[2]! || r.gpus > slack[3]!) return false;
  for (let k = 0; k < ext.length; k++) if ((r.extended.get(ext[k]!) ?? 0) > extSlack[k]!) return false;
  return true;
}

function take(r: PlacementResources, slack: Float64Array, ext: readonly string[], extSlack: Float64Array) {
  slack[0]! -= r.cpu;
  slack[1]! -= r.memory;
  slack[2]! -= r.disk;
  slack[3]! -= r.gpus;
  for (let k = 0; k < ext.length; k++) extSlack[k]! -= r.extended.get(ext[k]!) ?? 0;
}

/** Statuses readable by node index (the framework's `NodeStatuses`). */
interface IndexedStatuses {
  at(node: number): Status | undefined;
}

/**
 * The fewest tasks (among positions below `below`) whose steps of `sums`, largest first as
 * `byStep` lists them, add up to `need` (0 when nothing is needed).
 */
function fewest(byStep: Int32Array, sums: Float64Array, below: number, need: number): number {
  if (need <= 0) return 0;
  let got = 0;
  let k = 0;
  for (let i = 0; i < byStep.length; i++) {
    const at = byStep[i]!;
    if (at >= below) continue;
    got += sums[at + 1]! - sums[at]!;
    k++;
    if (got >= need) return k;
  }
  return k;
}

/** A binary heap of node indexes, best first by `better`. */
class NodeHeap {
  readonly #items: Int32Array;
  readonly #better: (a: number, b: number) => boolean;
  #size = 0;

  constructor(capacity: number, better: (a: number, b: number) => boolean) {
    this.#items = new Int32Array(capacity);
    this.#better = better;
  }

  peek(): number {
    return this.#size === 0 ? -1 : this.#items[0]!;
  }

  push(node: number): void {
    const h = this.#items;
    let i = this.#size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.#better(node, h[up]!)) break;
      h[i] = h[up]!;
      i = up;
    }
    h[i] = node;
  }

  pop(): number {
    if (this.#size === 0) return -1;
    const h = this.#items;
    const top = h[0]!;
    const last = h[--this.#size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.#size) break;
      const c = l + 1 < this.#size && this.#better(h[l + 1]!, h[l]!) ? l + 1 : l;
      if (!this.#better(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

export class DefaultPreemptionPlugin implements PostFilterPlugin {
  readonly name = 'DefaultPreemption';
  readonly budgets: ReadonlyMap<string, DisruptionBudget>;
  readonly budgetMode: 'strict' | 'prefer';
  #handle: Pick<FrameworkHandle, 'filters' | 'preFilters'> = {
    filters: DEFAULT_FILTERS,
    preFilters: DEFAULT_FILTERS.filter((f): f is FilterPlugin & PreFilterPlugin => 'preFilter' in f),
  };
  readonly #books = new WeakMap<Snapshot, Book>();

  /**
   * `handle`: the framework whose pre-filters and filters the what-ifs re-run (the registry
   * passes it); without one, the built-in hard rules.
   */
  constructor(options: DefaultPreemptionOptions = {}, handle?: FrameworkHandle) {
    this.budgets = new Map(Object.entries(options.disruptionBudgets ?? {}));
    this.budgetMode = options.budgetMode ?? 'strict';
    if (handle !== undefined) this.#handle = handle;
  }

  /** Points the what-ifs at `framework`'s pre-filters and filters (the handle already does). */
  bind(framework: Framework): void {
    this.#handle = { filters: framework.filter, preFilters: framework.preFilter };
  }

  #book(s: Snapshot): Book {
    let b = this.#books.get(s);
    if (b === undefined) {
      b = { victims: new Set(), perApp: new Map() };
      this.#books.set(s, b);
    }
    return b;
  }

  /** How many more tasks of `app` may go down now (Infinity without a budget). */
  #allowed(app: string | undefined, book: Book): number {
    if (app === undefined) return Number.POSITIVE_INFINITY;
    const b = this.budgets.get(app);
    if (b === undefined) return Number.POSITIVE_INFINITY;
    return b.maxUnavailable - (b.unavailable ?? 0) - (book.perApp.get(app) ?? 0);
  }

  /** Runs pre-filters and filters for `ctx.task` on one node; the first rejection, or undefined. */
  #check(task: PlacementTask, snapshot: Snapshot, node: number): Status | undefined {
    const ctx: PlacementContext = { task, snapshot, state: new CycleState() };
    let skipped: Set<unknown> | undefined;
    for (const p of this.#handle.preFilters) {
      const s = p.preFilter(ctx);
      if (s === undefined || s.code === 'Success') continue;
      if (s.code === 'Skip') {
        skipped ??= new Set();
        skipped.add(p);
      } else return { ...s, plugin: p.name };
    }
    for (const f of this.#handle.filters) {
      if (skipped?.has(f)) continue;
      const s = f.filter(ctx, node);
      if (s !== undefined && s.code !== 'Success') return { ...s, plugin: f.name };
    }
    return undefined;
  }

  /** Splits the node's lower-priority tasks (most important first) into budget-breaking and not. */
  #classify(lower: RunningTask[], book: Book): { violating: RunningTask[]; other: RunningTask[] } {
    lower.sort(moreImportant);
    const violating: RunningTask[] = [];
    const other: RunningTask[] = [];
    let left: Map<string, number> | undefined;
    for (const t of lower) {
      const app = t.app;
      if (app !== undefined && this.budgets.has(app)) {
        left ??= new Map();
        const n = (left.get(app) ?? this.#allowed(app, book)) - 1;
        left.set(app, n);
        if (n < 0) {
          violating.push(t);
          continue;
        }
      }
      other.push(t);
    }
    return { violating, other };
  }

  /**
   * The exact victims on one node: on the snapshot `w`, evict every lower-priority task, check
   * the task fits, then reprieve in order while it still fits. `w` is left exactly as it was.
   */
  #verify(
    task: PlacementTask,
    w: Snapshot,
    node: number,
    violating: readonly RunningTask[],
    other: readonly RunningTask[],
  ): { candidate: PreemptionCandidate | undefined; reason?: Status } {
    const all = [...violating, ...other];
    const evicted: Eviction[] = all.map((t) => w.evict(node, t.id));
    const putBack = () => {
      for (let i = evicted.length - 1; i >= 0; i--) w.restore(evicted[i]!);
    };
    const rejected = this.#check(task, w, node);
    if (rejected !== undefined) {
      putBack();
      return { candidate: undefined, reason: rejected };
    }
    // Reprieve: put tasks back most important first; keep the ones the task still fits beside.
    const victims: RunningTask[] = [];
    const kept: Eviction[] = [];
    let violations = 0;
    all.forEach((t, i) => {
      const e = evicted[i]!;
      const back: Eviction = { node, task: t, at: w.tasks(node).length };
      w.restore(back);
      if (this.#check(task, w, node) === undefined) {
        kept.push(back);
        return;
      }
      w.evict(node, t.id);
      victims.push(e.task);
      if (i < violating.length) violations++;
    });
    // Undo the reprieves, then restore every task at its original position.
    for (let i = kept.length - 1; i >= 0; i--) w.evict(node, kept[i]!.task.id);
    putBack();
    if (victims.length === 0) return { candidate: undefined };
    return { candidate: candidate(node, victims, violations) };
  }

  /** The node's lower-priority tasks not yet nominated (in task order). */
  #lower(s: Snapshot, node: number, p: number, book: Book, out: RunningTask[]): RunningTask[] {
    out.length = 0;
    const skip = book.victims.size > 0;
    for (const t of s.tasks(node)) if (t.priority < p && !(skip && book.victims.has(t.id))) out.push(t);
    return out;
  }

  postFilter(ctx: PlacementContext, statuses: NodeStatusMap): PostFilterResult {
    const { task, snapshot: s } = ctx;
    const p = task.priority;
    const book = this.#book(s);
    const r = task.requests;
    const ext = [...r.extended.keys()];
    const extCols = ext.map((name) => s.resource(name));
    const strict = this.budgetMode === 'strict';
    const budgeted = this.budgets.size > 0;
    const skipNominated = book.victims.size > 0;
    let unresolvable = 0;
    let noLower = 0;
    let short = 0;
    let otherReasons = 0;
    const broken = new Set<string>();
    // Optimistic (resources-only) ranking inputs per node, without allocating per node.
    const n = s.size;
    const kViol = new Int32Array(n);
    const kHigh = new Float64Array(n);
    const kSum = new Float64Array(n);
    const kCount = new Int32Array(n);
    const kEarly = new Float64Array(n);
    const slack = new Float64Array(4);
    const extSlack = new Float64Array(ext.length);
    const lower: RunningTask[] = [];
    const flags: number[] = [];
    const left = new Map<string, number>();
    const cpu = s.cpu;
    const mem = s.memory;
    const disk = s.disk;
    const gpus = s.gpus;
    const keyOf = (node: number) => ({
      violations: kViol[node]!,
      highest: kHigh[node]!,
      sum: kSum[node]!,
      count: kCount[node]!,
      earliestHighest: kEarly[node]!,
      node,
    });
    const better = (a: number, b: number): boolean => {
      if (kViol[a] !== kViol[b]) return kViol[a]! < kViol[b]!;
      if (kHigh[a] !== kHigh[b]) return kHigh[a]! < kHigh[b]!;
      if (kSum[a] !== kSum[b]) return kSum[a]! < kSum[b]!;
      if (kCount[a] !== kCount[b]) return kCount[a]! < kCount[b]!;
      if (kEarly[a] !== kEarly[b]) return kEarly[a]! > kEarly[b]!;
      return a < b;
    };

    // A task holding a host port the new task needs fixed must go.
    const fixed = task.fixedPorts.length > 0 ? new Set(task.fixedPorts) : undefined;
    const pool = new NodeHeap(n, (x, y) => better(x, y));
    const examine = (node: number): void => {
      const st = statuses.get(s.ids[node]!);
      if (st !== undefined && st.code === 'UnschedulableAndUnresolvable') {
        unresolvable++;
        return;
      }
      slack[0] = cpu.alloc[node]! - cpu.used[node]! - r.cpu;
      slack[1] = mem.alloc[node]! - mem.used[node]! - r.memory;
      slack[2] = disk.alloc[node]! - disk.used[node]! - r.disk;
      slack[3] = gpus.alloc[node]! - gpus.used[node]! - r.gpus;
      for (let k = 0; k < ext.length; k++) {
        const c = extCols[k];
        extSlack[k] = (c === undefined ? 0 : c.alloc[node]! - c.used[node]!) - r.extended.get(ext[k]!)!;
      }
      lower.length = 0;
      let freedPorts = 0;
      const list = s.tasks(node);
      let c0 = slack[0]!;
      let c1 = slack[1]!;
      let c2 = slack[2]!;
      let c3 = slack[3]!;
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        if (t.priority >= p || (skipNominated && book.victims.has(t.id))) continue;
        lower.push(t);
        freedPorts += t.ports?.length ?? 0;
        const q = t.requests;
        if (q === undefined) continue;
        c0 += q.cpu;
        c1 += q.memory;
        c2 += q.disk;
        c3 += q.gpus;
        for (let k = 0; k < ext.length; k++) extSlack[k]! += q.extended.get(ext[k]!) ?? 0;
      }
      slack[0] = c0;
      slack[1] = c1;
      slack[2] = c2;
      slack[3] = c3;
      if (lower.length === 0) {
        noLower++;
        return;
      }
      // Running tasks record their host ports, so evictions free them.
      let portSlack = s.freePortCount[node]! + freedPorts - task.ports.length;
      let fits = portSlack >= 0;
      if (fits) for (let k = 0; k < 4; k++) if (slack[k]! < 0) fits = false;
      if (fits) for (let k = 0; k < ext.length; k++) if (extSlack[k]! < 0) fits = false;
      if (!fits) {
        short++;
        return;
      }
      // Most important first (insertion sort: a node runs few tasks).
      for (let i = 1; i < lower.length; i++) {
        const t = lower[i]!;
        let j = i - 1;
        while (j >= 0 && moreImportant(lower[j]!, t) > 0) {
          lower[j + 1] = lower[j]!;
          j--;
        }
        lower[j + 1] = t;
      }
      // Budget-breaking tasks (1) are reprieved before the others (0).
      flags.length = lower.length;
      let anyViolating = false;
      if (budgeted) left.clear();
      for (let i = 0; i < lower.length; i++) {
        flags[i] = 0;
        const app = lower[i]!.app;
        if (!budgeted || app === undefined || !this.budgets.has(app)) continue;
        const k = (left.get(app) ?? this.#allowed(app, book)) - 1;
        left.set(app, k);
        if (k < 0) {
          flags[i] = 1;
          anyViolating = true;
        }
      }
      let count = 0;
      let violations = 0;
      let highest = Number.NEGATIVE_INFINITY;
      let sum = 0;
      let earliest = Number.POSITIVE_INFINITY;
      for (let pass = anyViolating ? 1 : 0; pass >= 0; pass--) {
        for (let i = 0; i < lower.length; i++) {
          if (flags[i] !== pass) continue;
          const t = lower[i]!;
          const q = t.requests ?? ZERO;
          const held = t.ports?.length ?? 0;
          const blocks = fixed !== undefined && held > 0 && t.ports!.some((x) => fixed.has(x));
          if (!blocks && held <= portSlack && fitsIn(q, slack, ext, extSlack)) {
            take(q, slack, ext, extSlack);
            portSlack -= held;
            continue;
          }
          count++;
          if (pass === 1) {
            violations++;
            if (strict && t.app !== undefined) broken.add(t.app);
          }
          sum += t.priority + PRIORITY_OFFSET;
          const start = t.startTime ?? Number.POSITIVE_INFINITY;
          if (t.priority > highest) {
            highest = t.priority;
            earliest = start;
          } else if (t.priority === highest && start < earliest) earliest = start;
        }
      }
      if (count === 0) {
        // Resources are not what keeps the task off this node; evictions would not help.
        otherReasons++;
        return;
      }
      if (strict && violations > 0) return;

      kViol[node] = violations;
      kHigh[node] = highest;
      kSum[node] = sum;
      kCount[node] = count;
      kEarly[node] = earliest === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : earliest;
      pool.push(node);
    };

    // Every node gets a lower bound of its highest victim's priority from its priority totals:
    // the lowest priority level whose tasks and all below free enough (resources and ports).
    // Nodes are examined exactly in bound order, only while their bound could still beat the best
    // proposal found, so the cost follows the candidate nodes rather than every running task.
    const prune = !skipNominated && ext.length === 0;
    const bound = new Float64Array(n);
    const sumBound = new Float64Array(n);
    const countBound = new Int32Array(n);
    const startBound = new Float64Array(n);
    const order: number[] = [];
    const byIndex =
      typeof (statuses as Partial<IndexedStatuses>).at === 'function'
        ? (statuses as unknown as IndexedStatuses)
        : undefined;
    for (let node = 0; node < n; node++) {
      if (!prune) {
        examine(node);
        continue;
      }
      const st = byIndex !== undefined ? byIndex.at(node) : statuses.get(s.ids[node]!);
      if (st !== undefined && st.code === 'UnschedulableAndUnresolvable') {
        unresolvable++;
        continue;
      }
      const t = s.priorityTotals(node);
      const pr = t.priorities;
      let below = 0;
      let hi = pr.length;
      while (below < hi) {
        const mid = (below + hi) >>> 1;
        if (pr[mid]! < p) below = mid + 1;
        else hi = mid;
      }
      if (below === 0) {
        noLower++;
        continue;
      }
      const c0 = cpu.alloc[node]! - cpu.used[node]! - r.cpu;
      const c1 = mem.alloc[node]! - mem.used[node]! - r.memory;
      const c2 = disk.alloc[node]! - disk.used[node]! - r.disk;
      const c3 = gpus.alloc[node]! - gpus.used[node]! - r.gpus;
      const c4 = s.freePortCount[node]! - task.ports.length;
      const tc = t.cpu;
      const tm = t.memory;
      const td = t.disk;
      const tg = t.gpus;
      const tp = t.ports;
      if (
        !(
          c0 + tc[below]! >= 0 &&
          c1 + tm[below]! >= 0 &&
          c2 + td[below]! >= 0 &&
          c3 + tg[below]! >= 0 &&
          c4 + tp[below]! >= 0
        )
      ) {
        short++;
        continue;
      }
      let lo = 0;
      hi = below;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (
          c0 + tc[mid]! >= 0 &&
          c1 + tm[mid]! >= 0 &&
          c2 + td[mid]! >= 0 &&
          c3 + tg[mid]! >= 0 &&
          c4 + tp[mid]! >= 0
        )
          hi = mid;
        else lo = mid + 1;
      }
      // `lo` tasks must go at least; evicting all of a level costs that level's priority.
      const b = lo === 0 ? Number.NEGATIVE_INFINITY : pr[lo - 1]!;
      bound[node] = b;
      // Fewest victims: per resource, the largest lower-priority requests taken first; each
      // victim adds at least the offset plus one of the lowest priorities to the sum.
      let m = 0;
      let latest = Number.POSITIVE_INFINITY;
      if (lo > 0) {
        const lf = t.largestFirst;
        m = fewest(lf.cpu, tc, below, -c0);
        if (c1 < 0) m = Math.max(m, fewest(lf.memory, tm, below, -c1));
        if (c2 < 0) m = Math.max(m, fewest(lf.disk, td, below, -c2));
        if (c3 < 0) m = Math.max(m, fewest(lf.gpus, tg, below, -c3));
        if (c4 < 0) m = Math.max(m, fewest(lf.ports, tp, below, -c4));
        // When the highest victim is at the bound, its earliest start is at most the latest
        // start of the tasks at that level.
        latest = Number.NEGATIVE_INFINITY;
        for (let i = lo - 1; i >= 0 && pr[i] === b; i--) if (t.starts[i]! > latest) latest = t.starts[i]!;
        for (let i = lo; i < below && pr[i] === b; i++) if (t.starts[i]! > latest) latest = t.starts[i]!;
      }
      let least = 0;
      for (let i = 0; i < m; i++) least += pr[i]! + PRIORITY_OFFSET;
      sumBound[node] = least;
      countBound[node] = m;
      startBound[node] = latest;
      order.push(node);
    }
    // Each node's best possible key (no violations, then the bounds) is a lower bound of its
    // real key in the ranking order, so nodes are examined in that order.
    order.sort(
      (a, b) =>
        bound[a]! - bound[b]! ||
        sumBound[a]! - sumBound[b]! ||
        countBound[a]! - countBound[b]! ||
        (startBound[a] === startBound[b] ? 0 : startBound[a]! > startBound[b]! ? -1 : 1) ||
        a - b,
    );
    let at = 0;
    /** The best unverified proposal, examining bounded nodes while one of them could beat it. */
    const nextProposal = (): number => {
      for (;;) {
        const top = pool.peek();
        if (at < order.length) {
          const next = order[at]!;
          const could =
            top < 0 ||
            kViol[top]! > 0 ||
            compareKeys(
              {
                violations: 0,
                highest: bound[next]!,
                sum: sumBound[next]!,
                count: countBound[next]!,
                earliestHighest: startBound[next]!,
                node: next,
              },
              keyOf(top),
            ) <= 0;
          if (could) {
            examine(next);
            at++;
            continue;
          }
        }
        return pool.pop();
      }
    };

    // Verify best-first on one what-if clone, in the optimistic (resources-only) order; stop
    // when the next optimistic proposal cannot beat the best verified one.
    const cap = Math.max(100, Math.ceil(n / 10));
    let best: PreemptionCandidate | undefined;
    const rejections = new Map<string, number>();
    for (let verified = 0; verified < cap; verified++) {
      const next = nextProposal();
      if (next < 0) break;
      if (best !== undefined && compareKeys(keyOfCandidate(best), keyOf(next)) <= 0) break;
      const mine = this.#lower(s, next, p, book, []);
      const { violating, other } = this.#classify(mine, book);
      // The what-if runs on the snapshot itself: #verify puts every task back as it was.
      const { candidate: exact, reason } = this.#verify(task, s, next, violating, other);
      if (exact === undefined) {
        const why = reason?.reasons[0] ?? 'no victim needed for resources';
        rejections.set(why, (rejections.get(why) ?? 0) + 1);
        continue;
      }
      if (strict && exact.violations > 0) {
        for (const v of exact.victims) if (v.app !== undefined && this.budgets.has(v.app)) broken.add(v.app);
        continue;
      }
      if (best === undefined || compareCandidates(exact, best) < 0) best = exact;
    }

    // Without a proposal the explanation counts every node: examine the ones still bounded.
    if (best === undefined) while (at < order.length) examine(order[at++]!);
    if (best !== undefined) {
      const ids = best.victims.map((v) => v.id);
      for (const v of best.victims) {
        book.victims.add(v.id);
        if (v.app !== undefined && this.budgets.has(v.app))
          book.perApp.set(v.app, (book.perApp.get(v.app) ?? 0) + 1);
      }
      const nodeId = s.ids[best.node]!;
      return {
        status: {
          code: 'Success',
          reasons: [
            `preempt ${ids.length} lower-priority task${ids.length === 1 ? '' : 's'} on ${nodeId}: ${ids.join(', ')}`,
          ],
        },
        nominatedNodeId: nodeId,
        victims: ids,
      };
    }
    const parts: string[] = [];
    const nodes = (k: number) => `${k} node${k === 1 ? '' : 's'}`;
    if (noLower > 0) parts.push(`${nodes(noLower)} run no task of priority below ${p}`);
    if (short > 0)
      parts.push(`${nodes(short)} would still lack resources after evicting every lower-priority task`);
    if (broken.size > 0)
      parts.push(`evictions would break the disruption budget of ${[...broken].sort().join(', ')}`);
    for (const [why, k] of rejections) parts.push(`${nodes(k)} still rejected after evictions (${why})`);
    if (otherReasons > 0) parts.push(`${nodes(otherReasons)} rejected for reasons evictions do not change`);
    if (unresolvable > 0) parts.push(`${nodes(unresolvable)} rejected for reasons preemption cannot fix`);
    return {
      status: { code: 'Unschedulable', reasons: [`no victims: ${parts.join('; ') || 'no nodes'}`] },
    };
  }
}

/** Points every DefaultPreemption of `framework` at the framework's own pre-filters and filters. */
export function bindPreemption(framework: Framework): Framework {
  for (const p of framework.postFilter) if (p instanceof DefaultPreemptionPlugin) p.bind(framework);
  return framework;
}

function argsError(message: string, path: string): BerthError {
  return new BerthError('SPEC_INVALID', message, { component: COMPONENT, issues: [{ path, message }] });
}

/**
 * Registry factory. Args: `{ disruptionBudgets?: { <service>: { maxUnavailable, unavailable? } },
 * budgetMode?: 'strict' | 'prefer' }`.
 */
export function defaultPreemption(
  args: JsonValue | undefined,
  handle?: FrameworkHandle,
): DefaultPreemptionPlugin {
  if (args === undefined || args === null) return new DefaultPreemptionPlugin({}, handle);
  if (typeof args !== 'object' || Array.isArray(args))
    throw argsError('DefaultPreemption args must be an object { disruptionBudgets?, budgetMode? }', '');
  const a = args as Record<string, JsonValue>;
  for (const key of Object.keys(a))
    if (key !== 'disruptionBudgets' && key !== 'budgetMode')
      throw argsError(`unknown DefaultPreemption arg ${key}; use disruptionBudgets or budgetMode`, key);
  const mode = a.budgetMode;
  if (mode !== undefined && mode !== 'strict' && mode !== 'prefer')
    throw argsError(`budgetMode must be "strict" or "prefer", got ${JSON.stringify(mode)}`, 'budgetMode');
  const budgets: Record<string, DisruptionBudget> = {};
  const raw = a.disruptionBudgets;
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw argsError('disruptionBudgets must map service names to { maxUnavailable }', 'disruptionBudgets');
    for (const [app, b] of Object.entries(raw as Record<string, JsonValue>)) {
      const at = `disruptionBudgets.${app}`;
      const rec = (typeof b === 'object' && b !== null && !Array.isArray(b) ? b : {}) as Record<
        string,
        JsonValue
      >;
      const max = rec.maxUnavailable;
      if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0)
        throw argsError(
          `${at}.maxUnavailable must be an integer ≥ 0, got ${JSON.stringify(max)}`,
          `${at}.maxUnavailable`,
        );
      const down = rec.unavailable ?? 0;
      if (typeof down !== 'number' || !Number.isSafeInteger(down) || down < 0)
        throw argsError(
          `${at}.unavailable must be an integer ≥ 0, got ${JSON.stringify(down)}`,
          `${at}.unavailable`,
        );
      budgets[app] = { maxUnavailable: max, unavailable: down };
    }
  }
  return new DefaultPreemptionPlugin(
    { disruptionBudgets: budgets, ...(mode === undefined ? {} : { budgetMode: mode }) },
    handle,
  );
}
