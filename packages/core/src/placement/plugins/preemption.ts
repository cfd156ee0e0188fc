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
import {
  EVICTABLE,
  EVICTABLE_FIELDS,
  type EvictableByLevel,
  type Eviction,
  moreImportant,
  type PriorityTotals,
  type RunningTask,
  type Snapshot,
} from '../snapshot.ts';
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
const NO_NAMES: readonly string[] = [];
const NO_SLACK = new Float64Array(0);
const NO_POSITIONS = new Int32Array(0);
/** Per lower-priority task of the node being examined: reprieved in the second pass. */
const ORDINARY = 0;
/** Its eviction breaks its service's budget: reprieved first. */
const BREAKS_BUDGET = 1;
/** Nominated earlier on this snapshot: neither freed nor chosen again. */
const SKIPPED = 2;

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

/** kube-scheduler's `MoreImportantPod` (it lives beside the snapshot, whose priority totals use it). */
export { moreImportant };

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
  /** The nodes those victims run on. */
  readonly nodes: Set<number>;
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

/** Whether the extended resources `r` asks for fit in `extSlack` (named by `ext`). */
function fitsIn(r: PlacementResources, ext: readonly string[], extSlack: Float64Array): boolean {
  for (let k = 0; k < ext.length; k++) if ((r.extended.get(ext[k]!) ?? 0) > extSlack[k]!) return false;
  return true;
}

function take(r: PlacementResources, ext: readonly string[], extSlack: Float64Array): void {
  for (let k = 0; k < ext.length; k++) extSlack[k]! -= r.extended.get(ext[k]!) ?? 0;
}

/** A start time for the newest-first order: unknown counts as newest. */
function startOf(t: RunningTask): number {
  return t.startTime ?? Number.POSITIVE_INFINITY;
}

/** Statuses readable by node index (the framework's `NodeStatuses`). */
interface IndexedStatuses {
  at(node: number): Status | undefined;
  /** How many are `UnschedulableAndUnresolvable`. */
  readonly unresolvable?: number;
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

  clear(): void {
    this.#size = 0;
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

/** The first position of ascending `sorted` holding a value ≥ `p` (= how many are below `p`). */
function lowerBound(sorted: Float64Array, p: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether evicting the `k` lowest-priority tasks of `t` leaves room (`c*`: free − requested). */
function roomAfter(t: PriorityTotals, k: number, c0: number, c1: number, c2: number, c3: number, c4: number) {
  return (
    c0 + t.cpu[k]! >= 0 &&
    c1 + t.memory[k]! >= 0 &&
    c2 + t.disk[k]! >= 0 &&
    c3 + t.gpus[k]! >= 0 &&
    c4 + t.ports[k]! >= 0
  );
}

/** The fewest tasks, none freeing more than `max`, that free `need` together (0 if none needed). */
function atLeast(need: number, max: number): number {
  if (need <= 0) return 0;
  let k = Math.ceil(need / max);
  // Exact in integers whatever the division rounded to.
  if (k * max < need) k++;
  else if ((k - 1) * max >= need) k--;
  return k;
}

const BOUNDED = 0;
const NO_LOWER = 1;
const SHORT = 2;

/**
 * The bound key of one node from its priority totals (when the snapshot tracks too many priority
 * levels for its evictable-by-level rows): the lowest level whose tasks and all below free enough,
 * the fewest victims taking the largest requests first, the least sum that many could have, the
 * latest start at that level. Writes it into `sc` and says whether the node is bounded at all.
 */
function boundFromTotals(s: Snapshot, node: number, task: PlacementTask, sc: Scratch): number {
  const t = s.priorityTotals(node);
  const pr = t.priorities;
  const below = lowerBound(pr, task.priority);
  if (below === 0) return NO_LOWER;
  const r = task.requests;
  const c0 = s.cpu.alloc[node]! - s.cpu.used[node]! - r.cpu;
  const c1 = s.memory.alloc[node]! - s.memory.used[node]! - r.memory;
  const c2 = s.disk.alloc[node]! - s.disk.used[node]! - r.disk;
  const c3 = s.gpus.alloc[node]! - s.gpus.used[node]! - r.gpus;
  const c4 = s.freePortCount[node]! - task.ports.length;
  if (!roomAfter(t, below, c0, c1, c2, c3, c4)) return SHORT;
  // The fewest lowest-priority tasks whose eviction leaves room.
  let lo = 0;
  let hi = below;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (roomAfter(t, mid, c0, c1, c2, c3, c4)) hi = mid;
    else lo = mid + 1;
  }
  if (lo === 0) {
    sc.bound[node] = Number.NEGATIVE_INFINITY;
    sc.sumBound[node] = 0;
    sc.countBound[node] = 0;
    sc.startBound[node] = Number.POSITIVE_INFINITY;
    return BOUNDED;
  }
  const b = pr[lo - 1]!;
  const lf = t.largestFirst;
  let m = fewest(lf.cpu, t.cpu, below, -c0);
  if (c1 < 0) m = Math.max(m, fewest(lf.memory, t.memory, below, -c1));
  if (c2 < 0) m = Math.max(m, fewest(lf.disk, t.disk, below, -c2));
  if (c3 < 0) m = Math.max(m, fewest(lf.gpus, t.gpus, below, -c3));
  if (c4 < 0) m = Math.max(m, fewest(lf.ports, t.ports, below, -c4));
  let sum = 0;
  for (let i = 0; i < m; i++) sum += pr[i]! + PRIORITY_OFFSET;
  let latest = Number.NEGATIVE_INFINITY;
  for (let i = lowerBound(pr, b); i < below && pr[i] === b; i++)
    if (t.starts[i]! > latest) latest = t.starts[i]!;
  sc.bound[node] = b;
  sc.sumBound[node] = sum;
  sc.countBound[node] = m;
  sc.startBound[node] = latest;
  return BOUNDED;
}

/** Buffers of one search, sized to the snapshot and reused by the next search. */
interface Scratch {
  readonly size: number;
  /** Exact resources-only ranking inputs of examined nodes. */
  readonly kViol: Int32Array;
  readonly kHigh: Float64Array;
  readonly kSum: Float64Array;
  readonly kCount: Int32Array;
  readonly kEarly: Float64Array;
  /** Lower bounds of those inputs (no violations assumed). */
  readonly bound: Float64Array;
  readonly sumBound: Float64Array;
  readonly countBound: Int32Array;
  readonly startBound: Float64Array;
  /** Per bounded node: the index of its bound's level (0: nothing must go). */
  readonly levelOf: Int32Array;
  /** The bounded nodes, in bound order once `reach`ed. */
  readonly order: Int32Array;
  readonly byLevel: Int32Array;
  /** Zeroed counters, one per level and one more (at least `k`). */
  levelStarts(k: number): Int32Array;
  readonly pool: NodeHeap;
  /** Bounded nodes not examined yet, least bound first. */
  readonly waiting: NodeHeap;
  /** Per-task flags of the node being examined (at least `k` long). */
  flagsFor(k: number): Uint8Array;
}

function newScratch(n: number): Scratch {
  const kViol = new Int32Array(n);
  const kHigh = new Float64Array(n);
  const kSum = new Float64Array(n);
  const kCount = new Int32Array(n);
  const kEarly = new Float64Array(n);
  const better = (a: number, b: number): boolean => {
    if (kViol[a] !== kViol[b]) return kViol[a]! < kViol[b]!;
    if (kHigh[a] !== kHigh[b]) return kHigh[a]! < kHigh[b]!;
    if (kSum[a] !== kSum[b]) return kSum[a]! < kSum[b]!;
    if (kCount[a] !== kCount[b]) return kCount[a]! < kCount[b]!;
    if (kEarly[a] !== kEarly[b]) return kEarly[a]! > kEarly[b]!;
    return a < b;
  };
  const bound = new Float64Array(n);
  const sumBound = new Float64Array(n);
  const countBound = new Int32Array(n);
  const startBound = new Float64Array(n);
  const lessBound = (a: number, b: number): boolean => {
    if (bound[a] !== bound[b]) return bound[a]! < bound[b]!;
    if (sumBound[a] !== sumBound[b]) return sumBound[a]! < sumBound[b]!;
    if (countBound[a] !== countBound[b]) return countBound[a]! < countBound[b]!;
    if (startBound[a] !== startBound[b]) return startBound[a]! > startBound[b]!;
    return a < b;
  };
  let flags = new Uint8Array(64);
  let starts = new Int32Array(16);
  return {
    size: n,
    kViol,
    kHigh,
    kSum,
    kCount,
    kEarly,
    bound,
    sumBound,
    countBound,
    startBound,
    levelOf: new Int32Array(n),
    order: new Int32Array(n),
    byLevel: new Int32Array(n),
    pool: new NodeHeap(n, better),
    waiting: new NodeHeap(n, lessBound),
    levelStarts(k: number): Int32Array {
      if (starts.length < k) starts = new Int32Array(Math.max(k, 2 * starts.length));
      starts.fill(0, 0, k);
      return starts;
    },
    flagsFor(k: number): Uint8Array {
      if (flags.length < k) flags = new Uint8Array(Math.max(k, 2 * flags.length));
      return flags;
    },
  };
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
  #scratch: Scratch | undefined;
  /** Budgeted services by number (their index in `budgets`). */
  readonly #budgetNames: readonly string[];
  readonly #budgetIds: ReadonlyMap<string, number>;
  /**
   * Per node's priority totals: for each of its tasks of a budgeted service, its position and
   * the service's number (pairs, positions ascending).
   */
  readonly #budgeted = new WeakMap<PriorityTotals, Int32Array>();

  /**
   * `handle`: the framework whose pre-filters and filters the what-ifs re-run (the registry
   * passes it); without one, the built-in hard rules.
   */
  constructor(options: DefaultPreemptionOptions = {}, handle?: FrameworkHandle) {
    this.budgets = new Map(Object.entries(options.disruptionBudgets ?? {}));
    this.#budgetNames = [...this.budgets.keys()];
    this.#budgetIds = new Map(this.#budgetNames.map((name, i) => [name, i]));
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
      b = { victims: new Set(), nodes: new Set(), perApp: new Map() };
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

  #budgetedAt(t: PriorityTotals): Int32Array {
    let at = this.#budgeted.get(t);
    if (at === undefined) {
      const found: number[] = [];
      t.tasks.forEach((x, i) => {
        const id = x.app === undefined ? undefined : this.#budgetIds.get(x.app);
        if (id !== undefined) found.push(i, id);
      });
      at = found.length === 0 ? NO_POSITIONS : Int32Array.from(found);
      this.#budgeted.set(t, at);
    }
    return at;
  }

  #scratchFor(n: number): Scratch {
    let sc = this.#scratch;
    if (sc === undefined || sc.size !== n) {
      sc = newScratch(n);
      this.#scratch = sc;
    }
    return sc;
  }

  postFilter(ctx: PlacementContext, statuses: NodeStatusMap): PostFilterResult {
    const { task, snapshot: s } = ctx;
    const p = task.priority;
    const book = this.#book(s);
    const r = task.requests;
    const ext = r.extended.size === 0 ? NO_NAMES : [...r.extended.keys()];
    const extCols = ext.map((name) => s.resource(name));
    const strict = this.budgetMode === 'strict';
    const budgeted = this.budgets.size > 0;
    const skipNominated = book.victims.size > 0;
    let unresolvable = 0;
    let noLower = 0;
    let short = 0;
    let otherReasons = 0;
    const broken = new Set<string>();
    // Per-node ranking inputs and bounds live in buffers kept between calls (nothing per node).
    const n = s.size;
    const sc = this.#scratchFor(n);
    const { kViol, kHigh, kSum, kCount, kEarly, bound, sumBound, countBound, startBound } = sc;
    const { order, pool } = sc;
    pool.clear();
    // How many more tasks of each budgeted service may go down now, and a count per node.
    const allowance = new Float64Array(this.#budgetNames.length);
    for (let id = 0; id < allowance.length; id++) allowance[id] = this.#allowed(this.#budgetNames[id], book);
    const taken = new Int32Array(allowance.length);
    const extSlack = ext.length === 0 ? NO_SLACK : new Float64Array(ext.length);
    const cpu = s.cpu;
    const mem = s.memory;
    const disk = s.disk;
    const gpus = s.gpus;
    const byIndex =
      typeof (statuses as Partial<IndexedStatuses>).at === 'function'
        ? (statuses as unknown as IndexedStatuses)
        : undefined;
    const statusOf = (node: number): Status | undefined =>
      byIndex !== undefined ? byIndex.at(node) : statuses.get(s.ids[node]!);
    // Without unresolvable statuses (the framework counts them), no node needs looking up.
    const skipStatuses = byIndex !== undefined && byIndex.unresolvable === 0;

    // A task holding a host port the new task needs fixed must go.
    const fixed = task.fixedPorts.length > 0 ? new Set(task.fixedPorts) : undefined;
    /**
     * The exact resources-only proposal of one node: its lower-priority tasks (walked most
     * important first from the node's cached `priorityTotals` order, so nothing is sorted here)
     * are all evicted, then reprieved — budget-breaking ones first — while the task still fits.
     */
    const examine = (node: number): void => {
      if (!skipStatuses) {
        const st = statusOf(node);
        if (st !== undefined && st.code === 'UnschedulableAndUnresolvable') {
          unresolvable++;
          return;
        }
      }
      // Read from the node's priority totals (one buffer, least important first); the task
      // objects are looked at only for what the totals do not hold (ids of nominated victims,
      // extended resources, fixed host ports, budgeted services, unknown start times).
      const t = s.priorityTotals(node);
      const list = t.tasks;
      const pr = t.priorities;
      const starts = t.starts;
      const tc = t.cpu;
      const tm = t.memory;
      const td = t.disk;
      const tg = t.gpus;
      const tp = t.ports;
      const below = lowerBound(pr, p);
      const flags = sc.flagsFor(below);
      flags.fill(ORDINARY, 0, below);
      let c0 = cpu.alloc[node]! - cpu.used[node]! - r.cpu + tc[below]!;
      let c1 = mem.alloc[node]! - mem.used[node]! - r.memory + tm[below]!;
      let c2 = disk.alloc[node]! - disk.used[node]! - r.disk + td[below]!;
      let c3 = gpus.alloc[node]! - gpus.used[node]! - r.gpus + tg[below]!;
      // Running tasks record their host ports, so evictions free them.
      let c4 = s.freePortCount[node]! + tp[below]! - task.ports.length;
      let lower = below;
      const nominated = skipNominated && book.nodes.has(node);
      if (nominated || ext.length > 0) {
        for (let k = 0; k < ext.length; k++) {
          const c = extCols[k];
          extSlack[k] = (c === undefined ? 0 : c.alloc[node]! - c.used[node]!) - r.extended.get(ext[k]!)!;
        }
        for (let i = 0; i < below; i++) {
          const x = list[i]!;
          if (nominated && book.victims.has(x.id)) {
            // Not freed, and not chosen again.
            flags[i] = SKIPPED;
            lower--;
            c0 -= tc[i + 1]! - tc[i]!;
            c1 -= tm[i + 1]! - tm[i]!;
            c2 -= td[i + 1]! - td[i]!;
            c3 -= tg[i + 1]! - tg[i]!;
            c4 -= tp[i + 1]! - tp[i]!;
            continue;
          }
          const q = x.requests;
          if (q !== undefined)
            for (let k = 0; k < ext.length; k++) extSlack[k]! += q.extended.get(ext[k]!) ?? 0;
        }
      }
      if (lower === 0) {
        noLower++;
        return;
      }
      let fits = c0 >= 0 && c1 >= 0 && c2 >= 0 && c3 >= 0 && c4 >= 0;
      if (fits) for (let k = 0; k < ext.length; k++) if (extSlack[k]! < 0) fits = false;
      if (!fits) {
        short++;
        return;
      }
      // A fixed host port neither free nor held by a task that may go stays taken: without this
      // check such nodes would be proposed, fail verification and use up the verification cap.
      if (fixed !== undefined) {
        const free = s.freePorts(node);
        for (const port of task.fixedPorts) {
          if (free.contains(port)) continue;
          let held = false;
          for (let i = 0; i < below && !held; i++)
            held = flags[i] !== SKIPPED && tp[i + 1]! > tp[i]! && list[i]!.ports!.includes(port);
          if (!held) {
            otherReasons++;
            return;
          }
        }
      }
      // Tasks whose eviction breaks their service's budget are reprieved before the others.
      let anyViolating = false;
      if (budgeted) {
        // Most important first, the tasks of a service beyond what its budget allows.
        const at = this.#budgetedAt(t);
        for (let k = at.length - 2; k >= 0; k -= 2) {
          const i = at[k]!;
          if (i >= below || flags[i] === SKIPPED) continue;
          const id = at[k + 1]!;
          if (++taken[id]! > allowance[id]!) {
            flags[i] = BREAKS_BUDGET;
            anyViolating = true;
          }
        }
        for (let k = at.length - 1; k >= 0; k -= 2) taken[at[k]!] = 0;
      }
      let count = 0;
      let violations = 0;
      let highest = Number.NEGATIVE_INFINITY;
      let sum = 0;
      let earliest = Number.POSITIVE_INFINITY;
      for (let pass = anyViolating ? BREAKS_BUDGET : ORDINARY; pass >= ORDINARY; pass--) {
        for (let i = below - 1; i >= 0; i--) {
          if (flags[i] !== pass) continue;
          const q0 = tc[i + 1]! - tc[i]!;
          const q1 = tm[i + 1]! - tm[i]!;
          const q2 = td[i + 1]! - td[i]!;
          const q3 = tg[i + 1]! - tg[i]!;
          const held = tp[i + 1]! - tp[i]!;
          let back = q0 <= c0 && q1 <= c1 && q2 <= c2 && q3 <= c3 && held <= c4;
          if (back && fixed !== undefined && held > 0 && list[i]!.ports!.some((y) => fixed.has(y)))
            back = false;
          if (back && ext.length > 0) back = fitsIn(list[i]!.requests ?? ZERO, ext, extSlack);
          if (back) {
            c0 -= q0;
            c1 -= q1;
            c2 -= q2;
            c3 -= q3;
            c4 -= held;
            if (ext.length > 0) take(list[i]!.requests ?? ZERO, ext, extSlack);
            continue;
          }
          count++;
          if (pass === BREAKS_BUDGET) {
            violations++;
            if (strict) broken.add(list[i]!.app!);
          }
          const priority = pr[i]!;
          sum += priority + PRIORITY_OFFSET;
          // `starts` holds -Infinity for an unknown start; here unknown counts as newest.
          const start = starts[i] === Number.NEGATIVE_INFINITY ? startOf(list[i]!) : starts[i]!;
          if (priority > highest) {
            highest = priority;
            earliest = start;
          } else if (priority === highest && start < earliest) earliest = start;
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

    // Every node gets a lower bound of its ranking key (no violations; the lowest priority level
    // whose tasks and all below free enough; at least as many victims as the largest requests
    // need; the least priority sum that many could have; the latest start at that level), read
    // from the snapshot's evictable-by-level rows in one sequential pass (or, when it tracks too
    // many levels, from each node's priority totals). Nodes are then examined exactly in bound
    // order, level by level, and only while their bound could still beat the best proposal, so
    // the cost follows the candidate nodes rather than every running task.
    const prune = !skipNominated && ext.length === 0;
    let count = 0;
    const groupEnds: number[] = [];
    const table = prune ? s.evictableByLevel() : undefined;
    if (!prune) for (let node = 0; node < n; node++) examine(node);
    else {
      const levelOf = sc.levelOf;
      let levels: Float64Array;
      if (table !== undefined) {
        // Per node, only the level here (the rest of the key when the search reaches it).
        levels = table.levels;
        const col = table.columns;
        const j = lowerBound(levels, p) * EVICTABLE_FIELDS;
        const below = col[j + EVICTABLE.count]!;
        const e0 = col[j + EVICTABLE.cpu]!;
        const e1 = col[j + EVICTABLE.memory]!;
        const e2 = col[j + EVICTABLE.disk]!;
        const e3 = col[j + EVICTABLE.gpus]!;
        const e4 = col[j + EVICTABLE.ports]!;
        for (let node = 0; node < n; node++) {
          if (!skipStatuses) {
            const st = statusOf(node);
            if (st !== undefined && st.code === 'UnschedulableAndUnresolvable') {
              unresolvable++;
              continue;
            }
          }
          if (below[node] === 0) {
            noLower++;
            continue;
          }
          const c0 = cpu.alloc[node]! - cpu.used[node]! - r.cpu;
          const c1 = mem.alloc[node]! - mem.used[node]! - r.memory;
          const c2 = disk.alloc[node]! - disk.used[node]! - r.disk;
          const c3 = gpus.alloc[node]! - gpus.used[node]! - r.gpus;
          const c4 = s.freePortCount[node]! - task.ports.length;
          if (
            !(
              c0 + e0[node]! >= 0 &&
              c1 + e1[node]! >= 0 &&
              c2 + e2[node]! >= 0 &&
              c3 + e3[node]! >= 0 &&
              c4 + e4[node]! >= 0
            )
          ) {
            short++;
            continue;
          }
          // The lowest level whose tasks and all below free enough (row j does).
          let k = 0;
          for (let at = 0; at < j; at += EVICTABLE_FIELDS, k++) {
            if (
              c0 + col[at + EVICTABLE.cpu]![node]! >= 0 &&
              c1 + col[at + EVICTABLE.memory]![node]! >= 0 &&
              c2 + col[at + EVICTABLE.disk]![node]! >= 0 &&
              c3 + col[at + EVICTABLE.gpus]![node]! >= 0 &&
              c4 + col[at + EVICTABLE.ports]![node]! >= 0
            )
              break;
          }
          levelOf[node] = k;
          order[count++] = node;
        }
      } else {
        const seen = new Set<number>();
        for (let node = 0; node < n; node++) {
          if (!skipStatuses) {
            const st = statusOf(node);
            if (st !== undefined && st.code === 'UnschedulableAndUnresolvable') {
              unresolvable++;
              continue;
            }
          }
          const verdict = boundFromTotals(s, node, task, sc);
          if (verdict === NO_LOWER) noLower++;
          else if (verdict === SHORT) short++;
          else {
            const b = bound[node]!;
            if (b !== Number.NEGATIVE_INFINITY) seen.add(b);
            order[count++] = node;
          }
        }
        levels = Float64Array.from(seen).sort();
        for (let k = 0; k < count; k++) {
          const b = bound[order[k]!]!;
          levelOf[order[k]!] = b === Number.NEGATIVE_INFINITY ? 0 : lowerBound(levels, b) + 1;
        }
      }
      // Stable counting sort by level, lowest first.
      const starts = sc.levelStarts(levels.length + 2);
      for (let k = 0; k < count; k++) starts[levelOf[order[k]!]! + 1]!++;
      for (let k = 1; k < levels.length + 2; k++) {
        starts[k]! += starts[k - 1]!;
        if (starts[k]! > starts[k - 1]!) groupEnds.push(starts[k]!);
      }
      const byLevel = sc.byLevel;
      for (let k = 0; k < count; k++) {
        const node = order[k]!;
        byLevel[starts[levelOf[node]!]!++] = node;
      }
      order.set(byLevel.subarray(0, count));
    }

    /**
     * The rest of a node's bound key from the level columns (level `k` found above): each victim
     * frees at most the largest request below the task's priority, so at least that many go; one
     * of them at the level, the others at best at the lowest priorities there are; and when the
     * highest victim is at the level, its earliest start is at most the latest start there.
     */
    const keyFromTable = (node: number, t: EvictableByLevel): void => {
      const col = t.columns;
      const k = sc.levelOf[node]!;
      if (k === 0) {
        // Nothing needs to go as far as resources go.
        bound[node] = Number.NEGATIVE_INFINITY;
        sumBound[node] = 0;
        countBound[node] = 0;
        startBound[node] = Number.POSITIVE_INFINITY;
        return;
      }
      const levels = t.levels;
      const j = lowerBound(levels, p) * EVICTABLE_FIELDS;
      const victims = Math.max(
        1,
        atLeast(r.cpu - (cpu.alloc[node]! - cpu.used[node]!), col[j + EVICTABLE.maxCpu]![node]!),
        atLeast(r.memory - (mem.alloc[node]! - mem.used[node]!), col[j + EVICTABLE.maxMemory]![node]!),
        atLeast(r.disk - (disk.alloc[node]! - disk.used[node]!), col[j + EVICTABLE.maxDisk]![node]!),
        atLeast(r.gpus - (gpus.alloc[node]! - gpus.used[node]!), col[j + EVICTABLE.maxGpus]![node]!),
        atLeast(task.ports.length - s.freePortCount[node]!, col[j + EVICTABLE.maxPorts]![node]!),
      );
      const b = levels[k - 1]!;
      let sum = b + PRIORITY_OFFSET;
      let m = victims - 1;
      for (let q = 0, prev = 0; m > 0; q++) {
        const upTo = col[(q + 1) * EVICTABLE_FIELDS + EVICTABLE.count]![node]!;
        const take = Math.min(m, upTo - prev);
        sum += take * (levels[q]! + PRIORITY_OFFSET);
        m -= take;
        prev = upTo;
      }
      bound[node] = b;
      sumBound[node] = sum;
      countBound[node] = victims;
      startBound[node] = col[k * EVICTABLE_FIELDS + EVICTABLE.latestStart]![node]!;
    };

    // The bounded nodes of one level at a time go into a heap by the rest of their bound.
    const waiting = sc.waiting;
    waiting.clear();
    let filled = 0;
    let level = 0;
    /** The unexamined node with the least bound (-1 when none is left). */
    const peekBounded = (): number => {
      while (waiting.peek() < 0 && level < groupEnds.length) {
        const to = groupEnds[level++]!;
        for (; filled < to; filled++) {
          const node = order[filled]!;
          if (table !== undefined) keyFromTable(node, table);
          waiting.push(node);
        }
      }
      return waiting.peek();
    };
    /** Whether a node with bound key of `next` could rank before the proposal `top`. */
    const couldBeat = (next: number, top: number): boolean => {
      if (kViol[top]! > 0) return true;
      if (bound[next] !== kHigh[top]) return bound[next]! < kHigh[top]!;
      if (sumBound[next] !== kSum[top]) return sumBound[next]! < kSum[top]!;
      if (countBound[next] !== kCount[top]) return countBound[next]! < kCount[top]!;
      if (startBound[next] !== kEarly[top]) return startBound[next]! > kEarly[top]!;
      return next <= top;
    };
    /** The best unverified proposal, examining bounded nodes while one of them could beat it. */
    const nextProposal = (): number => {
      for (;;) {
        const top = pool.peek();
        const next = peekBounded();
        if (next >= 0 && (top < 0 || couldBeat(next, top))) {
          waiting.pop();
          examine(next);
          continue;
        }
        return pool.pop();
      }
    };
    const keyOf = (node: number): RankKey => ({
      violations: kViol[node]!,
      highest: kHigh[node]!,
      sum: kSum[node]!,
      count: kCount[node]!,
      earliestHighest: kEarly[node]!,
      node,
    });
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
    if (best === undefined) {
      for (let next = waiting.pop(); next >= 0; next = waiting.pop()) examine(next);
      for (; filled < count; filled++) examine(order[filled]!);
    }
    if (best !== undefined) {
      const ids = best.victims.map((v) => v.id);
      for (const v of best.victims) {
        book.victims.add(v.id);
        book.nodes.add(best.node);
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
