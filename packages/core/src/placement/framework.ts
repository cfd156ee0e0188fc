/**
 * A built profile: the plugins of each extension point, resolved once, and the cycle that runs
 * them for one task (pre-filter → filter → post-filter | pre-score → score → normalise → select).
 */
import { BerthError, type BerthErrorIssue } from '../cluster/errors.ts';
import { CycleState } from './cycle-state.ts';
import type {
  NodeRejection,
  PlacedExplanation,
  PluginScore,
  ScoredNode,
  UnplaceableExplanation,
} from './explanation.ts';
import { placedMessage, sortReasons, unplaceableMessage } from './explanation.ts';
import type {
  AnyPlugin,
  BatchPlugin,
  FilterPlugin,
  FrameworkHandle,
  NodeStatusMap,
  PermitPlugin,
  PlacementContext,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  QueueSortPlugin,
  ReservePlugin,
  ScorePlugin,
} from './plugin.ts';
import { MAX_NODE_SCORE } from './plugin.ts';
import type { PlacementProfile, PluginRegistry } from './registry.ts';
import type { SeededRandom } from './seeded-random.ts';
import {
  finishScore,
  type IndexedScore,
  type IndexScratch,
  NotIndexable,
  runFilters,
  ShapeIndex,
} from './shape-index.ts';
import type { Snapshot } from './snapshot.ts';
import { type Status, withPlugin } from './status.ts';
import type { PlacementTask } from './task.ts';

const COMPONENT = 'core/placement';
const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** Memory the per-shape indexes of one snapshot may use before the least recently used go. */
const INDEX_BUDGET_BYTES = 192 * 1024 * 1024;
const NO_CANDIDATES = new Int32Array(0);

interface IndexCache {
  readonly indexes: Map<string, ShapeIndex>;
  bytes: number;
  /** Counts uses; an index records when it was last used, and the least recent goes first. */
  clock: number;
}

export interface CycleOptions {
  readonly random: SeededRandom;
  /** How many runner-up nodes a placed explanation lists (default 3). */
  readonly alternatives?: number;
  /** Include per-node rejection detail for unplaceable tasks. */
  readonly nodeDetail?: boolean;
  /**
   * Use the per-shape indexes when every plugin allows it (default true). `false` scans every
   * node for every task; the placements and explanations are the same either way.
   */
  readonly indexed?: boolean;
}

export type CycleResult =
  | {
      readonly kind: 'placed';
      readonly node: number;
      readonly ctx: PlacementContext;
      readonly explanation: PlacedExplanation;
    }
  | {
      readonly kind: 'unplaceable';
      readonly ctx: PlacementContext;
      readonly explanation: UnplaceableExplanation;
    };

interface WeightedScore {
  readonly plugin: ScorePlugin;
  readonly weight: number;
}

function implementsAny(p: AnyPlugin): boolean {
  return (
    p.less !== undefined ||
    p.preFilter !== undefined ||
    p.filter !== undefined ||
    p.postFilter !== undefined ||
    p.preScore !== undefined ||
    p.score !== undefined ||
    p.reserve !== undefined ||
    p.permit !== undefined ||
    p.beginBatch !== undefined
  );
}

/** Positions of the `count` highest totals other than `pick`: total descending, then position. */
function topOthers(total: Float64Array, size: number, pick: number, count: number): number[] {
  const top: number[] = [];
  if (count <= 0) return top;
  for (let k = 0; k < size; k++) {
    if (k === pick) continue;
    const v = total[k]!;
    if (top.length === count && v <= total[top[top.length - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && total[top[at - 1]!]! < v) at--;
    top.splice(at, 0, k);
    if (top.length > count) top.pop();
  }
  return top;
}

/**
 * The per-node statuses of a failed cycle, as the `NodeStatusMap` post-filters read (by node id),
 * kept in an array by node index so building it costs no hashing; `at(node)` reads by index.
 */
export class NodeStatuses implements NodeStatusMap {
  readonly #snapshot: Snapshot;
  readonly #byNode: (Status | undefined)[];
  #size = 0;
  #unresolvable = 0;

  constructor(snapshot: Snapshot) {
    this.#snapshot = snapshot;
    this.#byNode = new Array(snapshot.size);
  }

  set(node: number, s: Status): void {
    const old = this.#byNode[node];
    if (old === undefined) this.#size++;
    else if (old.code === 'UnschedulableAndUnresolvable') this.#unresolvable--;
    if (s.code === 'UnschedulableAndUnresolvable') this.#unresolvable++;
    this.#byNode[node] = s;
  }

  /** How many nodes have an `UnschedulableAndUnresolvable` status (preemption skips them). */
  get unresolvable(): number {
    return this.#unresolvable;
  }

  at(node: number): Status | undefined {
    return this.#byNode[node];
  }

  get size(): number {
    return this.#size;
  }

  get(id: string): Status | undefined {
    const i = this.#snapshot.indexOf(id);
    return i < 0 ? undefined : this.#byNode[i];
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  *entries(): MapIterator<[string, Status]> {
    for (let i = 0; i < this.#byNode.length; i++) {
      const s = this.#byNode[i];
      if (s !== undefined) yield [this.#snapshot.ids[i]!, s];
    }
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<Status> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, Status]> {
    return this.entries();
  }

  forEach(fn: (value: Status, key: string, map: ReadonlyMap<string, Status>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

export class Framework {
  readonly profile: PlacementProfile;
  readonly queueSort: QueueSortPlugin;
  readonly preFilter: readonly PreFilterPlugin[];
  readonly filter: readonly FilterPlugin[];
  readonly postFilter: readonly PostFilterPlugin[];
  readonly preScore: readonly PreScorePlugin[];
  readonly score: readonly WeightedScore[];
  readonly reserve: readonly ReservePlugin[];
  readonly permit: readonly PermitPlugin[];
  /** Plugins told when a `place` batch starts (`beginBatch`). */
  readonly batch: readonly BatchPlugin[];
  /** For each pre-filter plugin: the index of the same plugin among filters, or -1. */
  readonly #preFilterToFilter: Int32Array;
  readonly #preScoreToScore: Int32Array;
  readonly #skipFilter: Uint8Array;
  readonly #skipScore: Uint8Array;
  #size = -1;
  #candidates = new Int32Array(0);
  #scores: Float64Array[] = [];
  #total = new Float64Array(0);
  #nextStart = 0;
  readonly #indexedScores: readonly IndexedScore[];
  #indexable: boolean;
  readonly #indexes = new WeakMap<Snapshot, IndexCache>();
  readonly #indexSkip: Uint8Array;
  readonly #residual: Uint8Array;
  readonly #residualSkip: Uint8Array;
  #residualCount = 0;
  readonly #maxima: Float64Array;
  #scratch: IndexScratch = {
    list: new Int32Array(0),
    kept: new Int32Array(0),
    seen: new Int32Array(0),
    scores: [],
    totals: new Float64Array(0),
    marks: new Int32Array(0),
    stamp: 0,
  };

  private constructor(profile: PlacementProfile, plugins: readonly { plugin: AnyPlugin; weight: number }[]) {
    this.profile = profile;
    const sorters = plugins
      .filter((p) => p.plugin.less !== undefined)
      .map((p) => p.plugin as QueueSortPlugin);
    this.queueSort = sorters[0]!;
    this.preFilter = plugins
      .filter((p) => p.plugin.preFilter !== undefined)
      .map((p) => p.plugin as PreFilterPlugin);
    this.filter = plugins.filter((p) => p.plugin.filter !== undefined).map((p) => p.plugin as FilterPlugin);
    this.postFilter = plugins
      .filter((p) => p.plugin.postFilter !== undefined)
      .map((p) => p.plugin as PostFilterPlugin);
    this.preScore = plugins
      .filter((p) => p.plugin.preScore !== undefined)
      .map((p) => p.plugin as PreScorePlugin);
    this.score = plugins
      .filter((p) => p.plugin.score !== undefined)
      .map((p) => ({ plugin: p.plugin as ScorePlugin, weight: p.weight }));
    this.reserve = plugins
      .filter((p) => p.plugin.reserve !== undefined)
      .map((p) => p.plugin as ReservePlugin);
    this.permit = plugins.filter((p) => p.plugin.permit !== undefined).map((p) => p.plugin as PermitPlugin);
    this.batch = plugins.filter((p) => p.plugin.beginBatch !== undefined).map((p) => p.plugin as BatchPlugin);
    this.#preFilterToFilter = Int32Array.from(this.preFilter, (p) =>
      this.filter.indexOf(p as unknown as FilterPlugin),
    );
    this.#preScoreToScore = Int32Array.from(this.preScore, (p) =>
      this.score.findIndex((s) => s.plugin === (p as unknown as ScorePlugin)),
    );
    this.#skipFilter = new Uint8Array(this.filter.length);
    this.#skipScore = new Uint8Array(this.score.length);
    this.#indexSkip = new Uint8Array(this.filter.length);
    this.#residual = new Uint8Array(this.filter.length);
    this.#residualSkip = new Uint8Array(this.filter.length);
    this.#maxima = new Float64Array(this.score.length);
    const kinds = this.score.map(({ plugin }) => {
      if (plugin.shapeKey === undefined) return -1;
      if (plugin.normalizeScore === undefined) return 0;
      // 3: a normalisation the index cannot follow; indexable only while pre-score skips it.
      return plugin.normalization === 'max' ? 1 : plugin.normalization === 'reverse-max' ? 2 : 3;
    });
    // Pre-score plugins see the candidates in a scan; only shape-aware ones promise not to look.
    this.#indexable =
      kinds.every((k) => k >= 0) && this.preScore.every((p) => (p as AnyPlugin).shapeKey !== undefined);
    this.#indexedScores = this.score.map(({ plugin, weight }, i) => ({
      plugin,
      weight,
      normalization: (kinds[i]! === 3 ? 0 : Math.max(0, kinds[i]!)) as 0 | 1 | 2,
      mustSkip: kinds[i] === 3,
    }));
  }

  /**
   * Resolves a profile against a registry. Throws SPEC_INVALID naming every bad entry (unknown
   * plugin, bad weight, not exactly one queue sort, bad percentage).
   */
  static build(profile: PlacementProfile, registry: PluginRegistry): Framework {
    const issues: BerthErrorIssue[] = [];
    const built: { plugin: AnyPlugin; weight: number }[] = [];
    let framework: Framework | undefined;
    const unbuilt = (): never => {
      throw new BerthError('INTERNAL', 'a plugin read the framework handle before the profile was built', {
        component: COMPONENT,
        hint: 'Read handle.filters / handle.preFilters when the plugin runs, not in its factory.',
      });
    };
    const handle: FrameworkHandle = {
      profileName: profile.name,
      get preFilters() {
        return framework?.preFilter ?? unbuilt();
      },
      get filters() {
        return framework?.filter ?? unbuilt();
      },
    };
    const seen = new Set<string>();
    profile.plugins.forEach((setting, i) => {
      const path = `profile.plugins[${i}]`;
      if (seen.has(setting.name))
        issues.push({ path: `${path}.name`, message: `plugin ${setting.name} is listed twice` });
      seen.add(setting.name);
      const factory = registry.get(setting.name);
      if (factory === undefined) {
        issues.push({
          path: `${path}.name`,
          message: `unknown plugin ${JSON.stringify(setting.name)}; registered: ${registry.names().join(', ')}`,
        });
        return;
      }
      const weight = setting.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
        issues.push({
          path: `${path}.weight`,
          message: `weight must be an integer from 1 to 100, got ${weight}`,
        });
      }
      let plugin: AnyPlugin;
      try {
        plugin = factory(setting.args, handle);
      } catch (err) {
        if (err instanceof BerthError && err.issues.length > 0) {
          for (const x of err.issues)
            issues.push({ path: `${path}.args${x.path === '' ? '' : `.${x.path}`}`, message: x.message });
        } else issues.push({ path: `${path}.args`, message: (err as Error).message });
        return;
      }
      if (!implementsAny(plugin)) {
        issues.push({
          path: `${path}.name`,
          message: `plugin ${setting.name} implements no extension point`,
        });
      }
      built.push({ plugin, weight });
    });
    const sorters = built.filter((b) => b.plugin.less !== undefined).length;
    if (sorters !== 1 && issues.length === 0) {
      issues.push({
        path: 'profile.plugins',
        message: `exactly one queue-sort plugin is needed, found ${sorters}; add PrioritySort or remove the extras`,
      });
    }
    const pct = profile.percentageOfNodesToScore;
    if (pct !== undefined && (!Number.isFinite(pct) || pct <= 0 || pct > 100)) {
      issues.push({ path: 'profile.percentageOfNodesToScore', message: `must be in (0, 100], got ${pct}` });
    }
    if (issues.length > 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `placement profile ${profile.name} is invalid: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`,
        {
          component: COMPONENT,
          issues,
          hint: 'Fix the listed entries of the profile; `registry.names()` lists the plugins you can use.',
        },
      );
    }
    framework = new Framework(profile, built);
    return framework;
  }

  /** Tells every `beginBatch` plugin (queue sort included) that a batch of `tasks` starts. */
  beginBatch(tasks: readonly PlacementTask[], snapshot: Snapshot): void {
    for (const p of this.batch) p.beginBatch(tasks, snapshot);
  }

  /** Orders tasks with the profile's queue-sort plugin (stable). */
  sortTasks(tasks: readonly PlacementTask[]): PlacementTask[] {
    const less = this.queueSort.less.bind(this.queueSort);
    return [...tasks].sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
  }

  #ensureBuffers(n: number): void {
    if (this.#size === n) return;
    this.#size = n;
    this.#candidates = new Int32Array(n);
    this.#scores = this.score.map(() => new Float64Array(n));
    this.#total = new Float64Array(n);
    this.#nextStart = 0;
    this.#scratch = {
      list: new Int32Array(n),
      kept: new Int32Array(n),
      seen: new Int32Array(n),
      scores: this.#scores,
      totals: new Float64Array(n),
      marks: new Int32Array(2 * n + 2),
      stamp: 0,
    };
  }

  /** Runs one scheduling cycle for `task` (the snapshot is not changed). */
  runCycle(task: PlacementTask, snapshot: Snapshot, options: CycleOptions): CycleResult {
    const n = snapshot.size;
    this.#ensureBuffers(n);
    const ctx: PlacementContext = { task, snapshot, state: new CycleState() };
    const skipFilter = this.#skipFilter;
    skipFilter.fill(0);
    for (let i = 0; i < this.preFilter.length; i++) {
      const p = this.preFilter[i]!;
      const s = p.preFilter(ctx);
      if (s === undefined || s.code === 'Success') continue;
      if (s.code === 'Skip') {
        const f = this.#preFilterToFilter[i]!;
        if (f >= 0) skipFilter[f] = 1;
        continue;
      }
      return this.#rejectAll(ctx, withPlugin(s, p.name), options);
    }

    const pct = this.profile.percentageOfNodesToScore;
    const sampling = pct !== undefined && pct < 100 && n > MIN_FEASIBLE_NODES_TO_FIND;
    if (!sampling && this.#indexable && options.indexed !== false) {
      const result = this.#indexedCycle(ctx, options);
      if (result !== undefined) return result;
    }

    // Filter, in chunks when sampling so that only enough nodes are visited.
    const cand = this.#candidates;
    const wanted = sampling ? Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((n * pct) / 100)) : n;
    const start = sampling ? this.#nextStart % n : 0;
    let feasible = 0;
    let visited = 0;
    while (visited < n && feasible < wanted) {
      const chunk = sampling ? Math.min(n - visited, Math.max(wanted - feasible, 64)) : n;
      const view = feasible === 0 ? cand : cand.subarray(feasible);
      for (let k = 0, j = start + visited; k < chunk; k++, j++) view[k] = j >= n ? j - n : j;
      let count = chunk;
      for (let f = 0; f < this.filter.length && count > 0; f++) {
        if (skipFilter[f] === 1) continue;
        const plugin = this.filter[f]!;
        if (plugin.filterAll !== undefined) count = plugin.filterAll(ctx, view, count);
        else {
          let kept = 0;
          for (let k = 0; k < count; k++) {
            const node = view[k]!;
            const s = plugin.filter(ctx, node);
            if (s === undefined || s.code === 'Success') view[kept++] = node;
          }
          count = kept;
        }
      }
      feasible += count;
      visited += chunk;
    }
    if (sampling) {
      this.#nextStart = (start + visited) % n;
      if (feasible > wanted) feasible = wanted;
    }
    if (feasible === 0) return this.#diagnose(ctx, options);

    // Score.
    const skipScore = this.#skipScore;
    skipScore.fill(0);
    for (let i = 0; i < this.preScore.length; i++) {
      const p = this.preScore[i]!;
      const s = p.preScore(ctx, cand, feasible);
      if (s === undefined || s.code === 'Success') continue;
      if (s.code === 'Skip') {
        const j = this.#preScoreToScore[i]!;
        if (j >= 0) skipScore[j] = 1;
        continue;
      }
      return this.#rejectAll(ctx, withPlugin(s, p.name), options);
    }
    const total = this.#total;
    total.fill(0, 0, feasible);
    for (let i = 0; i < this.score.length; i++) {
      const out = this.#scores[i]!;
      if (skipScore[i] === 1) {
        out.fill(0, 0, feasible);
        continue;
      }
      const { plugin, weight } = this.score[i]!;
      if (plugin.scoreAll !== undefined) plugin.scoreAll(ctx, cand, feasible, out);
      else for (let k = 0; k < feasible; k++) out[k] = plugin.score(ctx, cand[k]!);
      plugin.normalizeScore?.(ctx, cand, feasible, out);
      for (let k = 0; k < feasible; k++) {
        let v = out[k]!;
        if (!(v >= 0)) v = 0;
        else if (v > MAX_NODE_SCORE) v = MAX_NODE_SCORE;
        out[k] = v;
        total[k]! += v * weight;
      }
    }

    // Select: highest total; ties broken by the seeded random source.
    let best = -1;
    let ties = 0;
    for (let k = 0; k < feasible; k++) {
      const v = total[k]!;
      if (v > best) {
        best = v;
        ties = 1;
      } else if (v === best) ties++;
    }
    let pick = 0;
    if (ties === 1) {
      while (total[pick] !== best) pick++;
    } else {
      let r = options.random.nextInt(ties);
      for (let k = 0; k < feasible; k++) {
        if (total[k] === best && r-- === 0) {
          pick = k;
          break;
        }
      }
    }
    const node = cand[pick]!;
    return {
      kind: 'placed',
      node,
      ctx,
      explanation: this.#placed(snapshot, pick, feasible, visited, ties, options.alternatives ?? 3),
    };
  }

  /**
   * The task's shape: the keys of the filters that run and of every score plugin; undefined when
   * a score plugin has none. Fills `#indexSkip` (filters the index leaves out: skipped ones and
   * those without a key) and `#residual` (filters without a key, to run after the index).
   */
  #shapeKey(ctx: PlacementContext): string | undefined {
    let key = '';
    for (const { plugin } of this.score) {
      const k = plugin.shapeKey?.(ctx, 'score');
      if (k === undefined) return undefined;
      key += `\u0001${k}`;
    }
    let residual = 0;
    for (let f = 0; f < this.filter.length; f++) {
      this.#residual[f] = 0;
      this.#indexSkip[f] = 1;
      if (this.#skipFilter[f] === 1) {
        key += '\u0000-';
        continue;
      }
      const k = this.filter[f]!.shapeKey?.(ctx, 'filter');
      if (k === undefined) {
        // Left out of the index, as if skipped: tasks that differ only there share it.
        this.#residual[f] = 1;
        residual++;
        key += '\u0000-';
        continue;
      }
      this.#indexSkip[f] = 0;
      key += `\u0000${k}`;
    }
    this.#residualCount = residual;
    return key;
  }

  #indexFor(snapshot: Snapshot, key: string): { index: ShapeIndex; fresh: boolean } {
    let cache = this.#indexes.get(snapshot);
    if (cache === undefined) {
      cache = { indexes: new Map(), bytes: 0, clock: 0 };
      this.#indexes.set(snapshot, cache);
    }
    const found = cache.indexes.get(key);
    if (found !== undefined) {
      found.lastUse = ++cache.clock;
      return { index: found, fresh: false };
    }
    const index = new ShapeIndex(snapshot.size, this.#indexedScores);
    index.lastUse = ++cache.clock;
    cache.bytes += index.bytes;
    while (cache.bytes > INDEX_BUDGET_BYTES && cache.indexes.size > 0) {
      let oldest: string | undefined;
      let when = Number.POSITIVE_INFINITY;
      for (const [k, x] of cache.indexes) {
        if (x.lastUse < when) {
          when = x.lastUse;
          oldest = k;
        }
      }
      cache.bytes -= cache.indexes.get(oldest!)!.bytes;
      cache.indexes.delete(oldest!);
    }
    cache.indexes.set(key, index);
    return { index, fresh: true };
  }

  /**
   * Filter, score and select through the task shape's index. Undefined when the task cannot use
   * one (a plugin gives no key) or a plugin broke its promise (then indexing is off for good).
   */
  #indexedCycle(ctx: PlacementContext, options: CycleOptions): CycleResult | undefined {
    const key = this.#shapeKey(ctx);
    if (key === undefined) return undefined;
    const { index, fresh } = this.#indexFor(ctx.snapshot, key);
    let survivors = 0;
    try {
      index.refreshFilters(ctx, this.filter, this.#indexSkip, this.#scratch, fresh);
      if (index.feasible === 0) return this.#diagnose(ctx, options);
      if (this.#residualCount > 0) {
        // The filters without a key, over the nodes the index found feasible (as a scan would,
        // before any pre-score).
        survivors = index.feasibleNodes(this.#candidates);
        const only = this.#residualSkip;
        for (let f = 0; f < only.length; f++) only[f] = this.#residual[f] === 1 ? 0 : 1;
        survivors = runFilters(ctx, this.filter, only, this.#candidates, survivors);
        if (survivors === 0) return this.#diagnose(ctx, options);
      }
      const skipScore = this.#skipScore;
      skipScore.fill(0);
      for (let i = 0; i < this.preScore.length; i++) {
        const p = this.preScore[i]!;
        const s = p.preScore(ctx, NO_CANDIDATES, 0);
        if (s === undefined || s.code === 'Success') continue;
        if (s.code === 'Skip') {
          const j = this.#preScoreToScore[i]!;
          if (j >= 0) skipScore[j] = 1;
          continue;
        }
        return this.#rejectAll(ctx, withPlugin(s, p.name), options);
      }
      index.refreshScores(ctx, this.#indexedScores, skipScore, this.#scratch);
    } catch (err) {
      if (!(err instanceof NotIndexable)) throw err;
      this.#indexable = false;
      this.#indexes.delete(ctx.snapshot);
      return undefined;
    }
    if (this.#residualCount > 0) return this.#residualCycle(ctx, index, survivors, options);
    const ties = index.ties;
    const node = ties === 1 ? index.nth(0) : index.nth(options.random.nextInt(ties));
    const snapshot = ctx.snapshot;
    const maxima = this.#maxima;
    for (let i = 0; i < maxima.length; i++) maxima[i] = index.normMax(i);
    const alternatives: ScoredNode[] = index.alternatives(node, options.alternatives ?? 3).map((a) => ({
      nodeId: snapshot.ids[a]!,
      score: index.total(a),
      scores: this.#nodeScores(ctx, a),
    }));
    return this.#placedResult(ctx, node, index.total(node), alternatives, index.feasible, ties);
  }

  #placedResult(
    ctx: PlacementContext,
    node: number,
    score: number,
    alternatives: ScoredNode[],
    feasible: number,
    ties: number,
  ): CycleResult {
    const snapshot = ctx.snapshot;
    const body = {
      nodeId: snapshot.ids[node]!,
      score,
      scores: this.#nodeScores(ctx, node),
      alternatives,
      totalNodes: snapshot.size,
      evaluatedNodes: snapshot.size,
      feasibleNodes: feasible,
      tiedNodes: ties,
    };
    return {
      kind: 'placed',
      node,
      ctx,
      explanation: { kind: 'placed', ...body, message: placedMessage(body) },
    };
  }

  /**
   * Selection among the nodes that also passed the filters without a key (`#candidates[0..count)`):
   * totals come from the index, with normalised scores rescaled when the survivors' maximum
   * differs from the index's.
   */
  #residualCycle(
    ctx: PlacementContext,
    index: ShapeIndex,
    count: number,
    options: CycleOptions,
  ): CycleResult {
    const cand = this.#candidates;
    const total = this.#total;
    for (let k = 0; k < count; k++) total[k] = index.total(cand[k]!);
    const maxima = this.#maxima;
    const scores = this.#indexedScores;
    for (let j = 0; j < scores.length; j++) {
      const base = index.normMax(j);
      maxima[j] = base;
      const { normalization, weight } = scores[j]!;
      if (normalization === 0 || this.#skipScore[j] === 1) continue;
      const raw = index.raw(j)!;
      let top = 0;
      for (let k = 0; k < count; k++) {
        const v = raw[cand[k]!]!;
        if (v > top) top = v;
      }
      if (top === base) continue;
      maxima[j] = top;
      for (let k = 0; k < count; k++) {
        const v = raw[cand[k]!]!;
        total[k]! += (finishScore(v, normalization, top) - finishScore(v, normalization, base)) * weight;
      }
    }
    let best = -1;
    let ties = 0;
    for (let k = 0; k < count; k++) {
      const v = total[k]!;
      if (v > best) {
        best = v;
        ties = 1;
      } else if (v === best) ties++;
    }
    let pick = 0;
    let r = ties === 1 ? 0 : options.random.nextInt(ties);
    for (let k = 0; k < count; k++) {
      if (total[k] === best && r-- === 0) {
        pick = k;
        break;
      }
    }
    const top = topOthers(total, count, pick, options.alternatives ?? 3);
    const snapshot = ctx.snapshot;
    const alternatives: ScoredNode[] = top.map((k) => ({
      nodeId: snapshot.ids[cand[k]!]!,
      score: total[k]!,
      scores: this.#nodeScores(ctx, cand[k]!),
    }));
    return this.#placedResult(ctx, cand[pick]!, total[pick]!, alternatives, count, ties);
  }

  /** Each scoring plugin's finished score on one node (normalised with `#maxima`), for explanations. */
  #nodeScores(ctx: PlacementContext, node: number): PluginScore[] {
    const out: PluginScore[] = [];
    for (let i = 0; i < this.score.length; i++) {
      if (this.#skipScore[i] === 1) continue;
      const { plugin, weight, normalization } = this.#indexedScores[i]!;
      const score = finishScore(plugin.score(ctx, node), normalization, this.#maxima[i]!);
      out.push({ plugin: plugin.name, score, weight });
    }
    return out;
  }

  #pluginScores(k: number): PluginScore[] {
    const out: PluginScore[] = [];
    for (let i = 0; i < this.score.length; i++) {
      if (this.#skipScore[i] === 1) continue;
      const s = this.score[i]!;
      out.push({ plugin: s.plugin.name, score: this.#scores[i]![k]!, weight: s.weight });
    }
    return out;
  }

  #placed(
    snapshot: Snapshot,
    pick: number,
    feasible: number,
    visited: number,
    ties: number,
    alternatives: number,
  ): PlacedExplanation {
    const cand = this.#candidates;
    const total = this.#total;
    const top = topOthers(total, feasible, pick, alternatives);
    const alts: ScoredNode[] = top.map((k) => ({
      nodeId: snapshot.ids[cand[k]!]!,
      score: total[k]!,
      scores: this.#pluginScores(k),
    }));
    const body = {
      nodeId: snapshot.ids[cand[pick]!]!,
      score: total[pick]!,
      scores: this.#pluginScores(pick),
      alternatives: alts,
      totalNodes: snapshot.size,
      evaluatedNodes: visited,
      feasibleNodes: feasible,
      tiedNodes: ties,
    };
    return { kind: 'placed', ...body, message: placedMessage(body) };
  }

  /**
   * Says why nothing fits: which filter rejects each node first, and with what reasons. Filters
   * with a `filterAll` run vectorised over the nodes still in play; only the nodes a filter
   * rejects are asked for their reasons.
   */
  #diagnose(ctx: PlacementContext, options: CycleOptions): CycleResult {
    const { snapshot } = ctx;
    const n = snapshot.size;
    const counts = new Map<string, number>();
    // Nodes per reason list: plugins that hand out shared statuses make this one lookup a node.
    const byReasons = new Map<readonly string[], number>();
    const statuses = new NodeStatuses(snapshot);
    const list = this.#scratch.list;
    const kept = this.#scratch.kept;
    let count = n;
    for (let k = 0; k < n; k++) list[k] = k;
    for (let f = 0; f < this.filter.length && count > 0; f++) {
      if (this.#skipFilter[f] === 1) continue;
      const plugin = this.filter[f]!;
      let passed = 0;
      if (plugin.filterAll !== undefined) {
        kept.set(list.subarray(0, count));
        passed = plugin.filterAll(ctx, kept, count);
      }
      // `kept[0..passed)` is an ordered subsequence of `list`: the rest were rejected here.
      let next = 0;
      let left = 0;
      for (let k = 0; k < count; k++) {
        const node = list[k]!;
        if (next < passed && kept[next] === node) {
          next++;
          list[left++] = node;
          continue;
        }
        const s = plugin.filter(ctx, node);
        if (s === undefined || s.code === 'Success') {
          list[left++] = node;
          continue;
        }
        statuses.set(node, withPlugin(s, plugin.name));
        if (s.reasons.length === 0) {
          const r = `rejected by ${plugin.name}`;
          counts.set(r, (counts.get(r) ?? 0) + 1);
        } else byReasons.set(s.reasons, (byReasons.get(s.reasons) ?? 0) + 1);
      }
      count = left;
    }
    for (const [reasons, k] of byReasons) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + k);
    let detail: NodeRejection[] | undefined;
    if (options.nodeDetail === true) {
      detail = [];
      for (let node = 0; node < n; node++) {
        const s = statuses.at(node);
        if (s !== undefined)
          detail.push({ nodeId: snapshot.ids[node]!, plugin: s.plugin!, code: s.code, reasons: s.reasons });
      }
    }
    return this.#unplaceable(ctx, counts, detail, statuses, undefined);
  }

  /** A pre-filter / pre-score rejected the task as a whole: every node gets that status. */
  #rejectAll(ctx: PlacementContext, s: Status, options: CycleOptions): CycleResult {
    const { snapshot } = ctx;
    const counts = new Map<string, number>();
    const reasons = s.reasons.length === 0 ? [`rejected by ${s.plugin ?? 'a plugin'}`] : s.reasons;
    if (s.code !== 'Error') for (const r of reasons) counts.set(r, snapshot.size);
    const statuses = new NodeStatuses(snapshot);
    const detail: NodeRejection[] | undefined = options.nodeDetail === true ? [] : undefined;
    for (let i = 0; i < snapshot.size; i++) {
      statuses.set(i, s);
      detail?.push({ nodeId: snapshot.ids[i]!, plugin: s.plugin ?? '', code: s.code, reasons: s.reasons });
    }
    return this.#unplaceable(ctx, counts, detail, statuses, s);
  }

  #unplaceable(
    ctx: PlacementContext,
    counts: Map<string, number>,
    detail: NodeRejection[] | undefined,
    statuses: NodeStatuses,
    status: Status | undefined,
  ): CycleResult {
    const reasons = sortReasons(counts);
    let postFilter: UnplaceableExplanation['postFilter'];
    /** Post-filter rejections with reasons, in plugin order (kube appends them to the message). */
    const refusals: string[] = [];
    if (status === undefined || status.code !== 'Error') {
      for (const p of this.postFilter) {
        const r = p.postFilter(ctx, statuses);
        if (r.status.code === 'Unschedulable' || r.status.code === 'UnschedulableAndUnresolvable') {
          if (r.status.reasons.length > 0) {
            refusals.push(r.status.reasons.join(', '));
            postFilter ??= { plugin: p.name, code: r.status.code, reasons: r.status.reasons };
          }
          continue;
        }
        postFilter = {
          plugin: p.name,
          code: r.status.code,
          reasons: r.status.reasons,
          ...(r.nominatedNodeId === undefined ? {} : { nominatedNodeId: r.nominatedNodeId }),
          ...(r.victims === undefined ? {} : { victims: r.victims }),
        };
        break;
      }
    }
    const extra =
      status?.code === 'Error'
        ? `error in ${status.plugin ?? 'a plugin'}: ${status.reasons.join(', ')}`
        : postFilter?.nominatedNodeId !== undefined
          ? `${postFilter.plugin} nominated ${postFilter.nominatedNodeId}`
          : refusals.length > 0
            ? refusals.join('; ')
            : undefined;
    const explanation: UnplaceableExplanation = {
      kind: 'unplaceable',
      totalNodes: ctx.snapshot.size,
      feasibleNodes: 0,
      reasons,
      ...(detail === undefined ? {} : { nodes: detail }),
      ...(status === undefined
        ? {}
        : {
            status: {
              code: status.code,
              reasons: status.reasons,
              ...(status.plugin === undefined ? {} : { plugin: status.plugin }),
            },
          }),
      ...(postFilter === undefined ? {} : { postFilter }),
      message: unplaceableMessage(ctx.snapshot.size, 0, reasons, extra),
    };
    return { kind: 'unplaceable', ctx, explanation };
  }
}
