/**
 * The indexed path of a scheduling cycle. For one task *shape* (the tasks whose shape-aware
 * plugins give the same keys) it keeps, against one snapshot, which nodes pass the filters and
 * each feasible node's total score in a max/count segment tree. Between two tasks of a shape only
 * the nodes in the snapshot's change log are filtered and scored again, so a cycle costs
 * O(changed nodes × log n) instead of a scan of every node — and finds the same node: the highest
 * total, ties counted and broken by the same draw of the seeded source, alternatives in the same
 * order (total descending, then node order).
 *
 * Normalised scores (`normalizeToMax` over the feasible nodes) are kept as raw values with the
 * current maximum and how many feasible nodes reach it; when a change raises or retires the
 * maximum, the shape's scores are recomputed in full.
 */
import type { FilterPlugin, PlacementContext, ScorePlugin } from './plugin.ts';
import { MAX_NODE_SCORE } from './plugin.ts';

/** A score plugin as the index uses it: 0 = as is, 1 = normalised to the max, 2 = reversed. */
export interface IndexedScore {
  readonly plugin: ScorePlugin;
  readonly weight: number;
  readonly normalization: 0 | 1 | 2;
  /** The plugin normalises in a way the index cannot follow: its pre-score must skip it. */
  readonly mustSkip: boolean;
}

/** Scratch arrays of the framework (length ≥ the snapshot's size), shared by all indexes. */
export interface IndexScratch {
  readonly list: Int32Array;
  readonly kept: Int32Array;
  /** Per node: `stamp` once seen in this refresh, `-stamp` once it passed the filters. */
  readonly seen: Int32Array;
  readonly scores: readonly Float64Array[];
  readonly totals: Float64Array;
  /** Per tree position (2 × size): `stamp` once queued for recomputation. */
  readonly marks: Int32Array;
  stamp: number;
}

const FEASIBLE = 1;
const DIRTY = 2;
const INFEASIBLE = -1;
/** Below INFEASIBLE: a node hidden while listing alternatives. */
const HIDDEN = -2;
const MAX_TOTAL = 0x7fffffff;

/** Thrown when a shape-aware plugin breaks the integer promise; the framework falls back to scans. */
export class NotIndexable extends Error {}

/** Applies the framework's normalisation and clamp to one raw score. */
export function finishScore(raw: number, normalization: 0 | 1 | 2, max: number): number {
  let v = raw;
  if (normalization !== 0) {
    if (max === 0) {
      if (normalization === 2) v = MAX_NODE_SCORE;
    } else {
      const x = Math.floor((MAX_NODE_SCORE * raw) / max);
      v = normalization === 2 ? MAX_NODE_SCORE - x : x;
    }
  }
  if (!(v >= 0)) return 0;
  return Math.min(v, MAX_NODE_SCORE);
}

/** Runs the not-skipped filters over `cand[0..count)` and returns how many nodes pass (kept in place). */
export function runFilters(
  ctx: PlacementContext,
  filters: readonly FilterPlugin[],
  skip: Uint8Array,
  cand: Int32Array,
  count: number,
): number {
  let n = count;
  for (let f = 0; f < filters.length && n > 0; f++) {
    if (skip[f] === 1) continue;
    const plugin = filters[f]!;
    if (plugin.filterAll !== undefined) n = plugin.filterAll(ctx, cand, n);
    else {
      let kept = 0;
      for (let k = 0; k < n; k++) {
        const node = cand[k]!;
        const s = plugin.filter(ctx, node);
        if (s === undefined || s.code === 'Success') cand[kept++] = node;
      }
      n = kept;
    }
  }
  return n;
}

export class ShapeIndex {
  readonly size: number;
  readonly bytes: number;
  /** When the owner last used it (for evicting the least recently used). */
  lastUse = 0;
  /** The snapshot change mark the filter results are current at. */
  #mark = 0;
  readonly #leaves: number;
  /** [1, leaves): max of the subtree; [leaves, leaves + size): the node's total (or INFEASIBLE). */
  readonly #max: Int32Array;
  /** [1, leaves): how many leaves of the subtree hold its max. */
  readonly #ties: Int32Array;
  /** Per node: FEASIBLE and DIRTY (filter result changed or node changed since it was scored). */
  readonly #flags: Uint8Array;
  #dirty: Int32Array = new Int32Array(16);
  #dirtyLength = 0;
  #feasible = 0;
  #scored = false;
  #skipScore: Uint8Array = new Uint8Array(0);
  /** Per normalised score plugin: raw scores, the max over feasible nodes (≥ 0), how many reach it. */
  readonly #raw: (Int32Array | undefined)[];
  readonly #normMax: Float64Array;
  readonly #atMax: Int32Array;

  constructor(size: number, scores: readonly IndexedScore[]) {
    this.size = size;
    let leaves = 1;
    while (leaves < size) leaves *= 2;
    this.#leaves = leaves;
    this.#max = new Int32Array(2 * leaves).fill(INFEASIBLE);
    this.#ties = new Int32Array(leaves);
    this.#flags = new Uint8Array(size);
    this.#raw = scores.map((s) => (s.normalization === 0 ? undefined : new Int32Array(size)));
    this.#normMax = new Float64Array(scores.length);
    this.#atMax = new Int32Array(scores.length);
    this.bytes = 12 * leaves + size + this.#raw.filter((r) => r !== undefined).length * 4 * size + 64;
  }

  get feasible(): number {
    return this.#feasible;
  }

  /** The highest total over feasible nodes (call when `feasible > 0`). */
  get best(): number {
    return this.#max[1]!;
  }

  /** How many feasible nodes share the highest total. */
  get ties(): number {
    return this.#tiesAt(1);
  }

  /** Writes the nodes that pass the index's filters, ascending, to `out`; returns how many. */
  feasibleNodes(out: Int32Array): number {
    const flags = this.#flags;
    let m = 0;
    for (let i = 0; i < this.size; i++) if ((flags[i]! & FEASIBLE) !== 0) out[m++] = i;
    return m;
  }

  /** Raw scores of normalised score plugin `i` (valid at feasible nodes). */
  raw(i: number): Int32Array | undefined {
    return this.#raw[i];
  }

  /** The normalisation maximum of score plugin `i` (0 for plugins used as is). */
  normMax(i: number): number {
    return this.#normMax[i]!;
  }

  /** Filters: every node when the index is new or the change log no longer reaches back, else the changed ones. */
  refreshFilters(
    ctx: PlacementContext,
    filters: readonly FilterPlugin[],
    skip: Uint8Array,
    scratch: IndexScratch,
    fresh: boolean,
  ): void {
    const snapshot = ctx.snapshot;
    const n = this.size;
    const changed = fresh ? undefined : snapshot.changedSince(this.#mark);
    this.#mark = snapshot.changeMark;
    if (changed === undefined || changed.length > n) {
      const cand = scratch.list;
      for (let i = 0; i < n; i++) cand[i] = i;
      const count = runFilters(ctx, filters, skip, cand, n);
      const flags = this.#flags;
      flags.fill(0);
      for (let k = 0; k < count; k++) flags[cand[k]!] = FEASIBLE;
      this.#feasible = count;
      this.#scored = false;
      this.#dirtyLength = 0;
      return;
    }
    if (changed.length === 0) return;
    // Distinct changed nodes, in first-change order.
    const seen = scratch.seen;
    const stamp = ++scratch.stamp;
    const list = scratch.list;
    const kept = scratch.kept;
    let m = 0;
    for (let k = 0; k < changed.length; k++) {
      const node = changed[k]!;
      if (seen[node] === stamp) continue;
      seen[node] = stamp;
      list[m] = node;
      kept[m++] = node;
    }
    const pass = runFilters(ctx, filters, skip, kept, m);
    for (let k = 0; k < pass; k++) seen[kept[k]!] = -stamp;
    const flags = this.#flags;
    let feasible = this.#feasible;
    for (let k = 0; k < m; k++) {
      const node = list[k]!;
      const f = flags[node]!;
      const ok = seen[node] === -stamp;
      // Out before and still out: nothing to re-score.
      if (f === 0 && !ok) continue;
      if ((f & FEASIBLE) !== 0) feasible--;
      if (ok) feasible++;
      if ((f & DIRTY) === 0) this.#pushDirty(node);
      flags[node] = ok ? DIRTY | FEASIBLE : DIRTY;
    }
    this.#feasible = feasible;
  }

  #pushDirty(node: number): void {
    if (this.#dirtyLength === this.#dirty.length) {
      const grown = new Int32Array(this.#dirty.length * 2);
      grown.set(this.#dirty);
      this.#dirty = grown;
    }
    this.#dirty[this.#dirtyLength++] = node;
  }

  /** Brings the totals up to date with the filter results (after the cycle's pre-score). */
  refreshScores(
    ctx: PlacementContext,
    scores: readonly IndexedScore[],
    skip: Uint8Array,
    scratch: IndexScratch,
  ): void {
    for (let j = 0; j < scores.length; j++)
      if (scores[j]!.mustSkip && skip[j] === 0) throw new NotIndexable();
    if (!this.#scored || !sameMask(skip, this.#skipScore)) {
      this.#scoreAll(ctx, scores, skip, scratch);
      return;
    }
    const dirty = this.#dirty;
    const d = this.#dirtyLength;
    if (d === 0) return;
    const flags = this.#flags;
    const leaves = this.#leaves;
    const raws = this.#raw;
    const atMax = this.#atMax;
    const normMax = this.#normMax;
    // Take the changed nodes' old raw scores out of the normalisation counts.
    for (let j = 0; j < scores.length; j++) {
      const raw = raws[j];
      if (raw === undefined || skip[j] === 1) continue;
      const top = normMax[j]!;
      for (let k = 0; k < d; k++) {
        const node = dirty[k]!;
        if (this.#max[leaves + node]! >= 0 && raw[node] === top) atMax[j]!--;
      }
    }
    const list = scratch.list;
    let m = 0;
    for (let k = 0; k < d; k++) {
      const node = dirty[k]!;
      if ((flags[node]! & FEASIBLE) !== 0) list[m++] = node;
    }
    let rebuild = false;
    for (let j = 0; j < scores.length; j++) {
      if (skip[j] === 1) continue;
      const out = scratch.scores[j]!;
      computeScores(ctx, scores[j]!.plugin, list, m, out);
      const raw = raws[j];
      if (raw === undefined) continue;
      const top = normMax[j]!;
      for (let k = 0; k < m; k++) {
        const v = out[k]!;
        if (!Number.isInteger(v) || v > MAX_TOTAL || v < -MAX_TOTAL) throw new NotIndexable();
        raw[list[k]!] = v;
        if (v > top) rebuild = true;
        else if (v === top) atMax[j]!++;
      }
      if (top > 0 && atMax[j] === 0) rebuild = true;
    }
    if (rebuild) {
      this.#scoreAll(ctx, scores, skip, scratch);
      return;
    }
    const max = this.#max;
    const totals = this.#totals(scores, skip, scratch, m);
    for (let k = 0; k < m; k++) max[leaves + list[k]!] = totals[k]!;
    for (let k = 0; k < d; k++) {
      const node = dirty[k]!;
      const f = flags[node]!;
      if ((f & FEASIBLE) === 0) max[leaves + node] = INFEASIBLE;
      flags[node] = f & FEASIBLE;
    }
    this.#pullAll(dirty, d, scratch);
    this.#dirtyLength = 0;
  }

  /** Totals of `scratch.scores[*][0..m)`, plugin by plugin, into `scratch.totals`. */
  #totals(scores: readonly IndexedScore[], skip: Uint8Array, scratch: IndexScratch, m: number): Float64Array {
    const totals = scratch.totals;
    totals.fill(0, 0, m);
    for (let j = 0; j < scores.length; j++) {
      if (skip[j] === 1) continue;
      const { normalization, weight } = scores[j]!;
      const out = scratch.scores[j]!;
      const top = this.#normMax[j]!;
      if (normalization === 0) {
        for (let k = 0; k < m; k++) {
          const v = out[k]!;
          totals[k]! += (v >= 0 ? Math.min(v, MAX_NODE_SCORE) : 0) * weight;
        }
      } else for (let k = 0; k < m; k++) totals[k]! += finishScore(out[k]!, normalization, top) * weight;
    }
    for (let k = 0; k < m; k++) {
      const t = totals[k]!;
      if (!Number.isInteger(t) || t > MAX_TOTAL) throw new NotIndexable();
    }
    return totals;
  }

  #scoreAll(
    ctx: PlacementContext,
    scores: readonly IndexedScore[],
    skip: Uint8Array,
    scratch: IndexScratch,
  ): void {
    const flags = this.#flags;
    const list = scratch.list;
    let m = 0;
    for (let i = 0; i < this.size; i++) {
      const f = flags[i]! & FEASIBLE;
      flags[i] = f;
      if (f !== 0) list[m++] = i;
    }
    for (let j = 0; j < scores.length; j++) {
      this.#normMax[j] = 0;
      this.#atMax[j] = 0;
      if (skip[j] === 1) continue;
      const out = scratch.scores[j]!;
      computeScores(ctx, scores[j]!.plugin, list, m, out);
      const raw = this.#raw[j];
      if (raw === undefined) continue;
      let top = 0;
      for (let k = 0; k < m; k++) {
        const v = out[k]!;
        if (!Number.isInteger(v) || v > MAX_TOTAL || v < -MAX_TOTAL) throw new NotIndexable();
        raw[list[k]!] = v;
        if (v > top) top = v;
      }
      let at = 0;
      for (let k = 0; k < m; k++) if (out[k] === top) at++;
      this.#normMax[j] = top;
      this.#atMax[j] = at;
    }
    const max = this.#max;
    const leaves = this.#leaves;
    max.fill(INFEASIBLE, leaves, leaves + this.size);
    const totals = this.#totals(scores, skip, scratch, m);
    for (let k = 0; k < m; k++) max[leaves + list[k]!] = totals[k]!;
    for (let p = leaves - 1; p >= 1; p--) this.#pull(p);
    this.#skipScore = skip.slice();
    this.#scored = true;
    this.#dirtyLength = 0;
  }

  #tiesAt(p: number): number {
    return p >= this.#leaves ? 1 : this.#ties[p]!;
  }

  #pull(p: number): void {
    const max = this.#max;
    const l = 2 * p;
    const a = max[l]!;
    const b = max[l + 1]!;
    if (a > b) {
      max[p] = a;
      this.#ties[p] = this.#tiesAt(l);
    } else if (b > a) {
      max[p] = b;
      this.#ties[p] = this.#tiesAt(l + 1);
    } else {
      max[p] = a;
      this.#ties[p] = this.#tiesAt(l) + this.#tiesAt(l + 1);
    }
  }

  /**
   * Recomputes the ancestors of the leaves of `nodes[0..count)` (whose values are set), level by
   * level, each ancestor once. Overwrites `nodes`.
   */
  #pullAll(nodes: Int32Array, count: number, scratch: IndexScratch): void {
    if (count === 0 || this.#leaves === 1) return;
    const max = this.#max;
    const ties = this.#ties;
    const marks = scratch.marks;
    const stamp = ++scratch.stamp;
    const half = this.#leaves >> 1;
    // Parents of leaves: both children count once.
    let m = 0;
    for (let k = 0; k < count; k++) {
      const p = half + (nodes[k]! >> 1);
      if (marks[p] === stamp) continue;
      marks[p] = stamp;
      nodes[m++] = p;
      const a = max[2 * p]!;
      const b = max[2 * p + 1]!;
      max[p] = Math.max(a, b);
      ties[p] = a === b ? 2 : 1;
    }
    for (let width = half; width > 1; width >>= 1) {
      let n = 0;
      for (let k = 0; k < m; k++) {
        const p = nodes[k]! >> 1;
        if (marks[p] === stamp) continue;
        marks[p] = stamp;
        nodes[n++] = p;
        const l = 2 * p;
        const a = max[l]!;
        const b = max[l + 1]!;
        if (a > b) {
          max[p] = a;
          ties[p] = ties[l]!;
        } else if (b > a) {
          max[p] = b;
          ties[p] = ties[l + 1]!;
        } else {
          max[p] = a;
          ties[p] = ties[l]! + ties[l + 1]!;
        }
      }
      m = n;
    }
  }

  #setLeaf(node: number, value: number): void {
    let p = this.#leaves + node;
    this.#max[p] = value;
    for (p >>= 1; p >= 1; p >>= 1) this.#pull(p);
  }

  /** The node holding the `r`-th (0-based, in node order) highest total. */
  nth(r: number): number {
    const max = this.#max;
    const best = max[1]!;
    let p = 1;
    let rest = r;
    while (p < this.#leaves) {
      const l = 2 * p;
      if (max[l] === best) {
        const c = this.#tiesAt(l);
        if (rest < c) {
          p = l;
          continue;
        }
        rest -= c;
      }
      p = l + 1;
    }
    return p - this.#leaves;
  }

  total(node: number): number {
    return this.#max[this.#leaves + node]!;
  }

  /** The `count` best feasible nodes other than `pick`: total descending, then node order. */
  alternatives(pick: number, count: number): number[] {
    const out: number[] = [];
    if (count <= 0) return out;
    const saved: number[] = [this.total(pick)];
    this.#setLeaf(pick, HIDDEN);
    while (out.length < count && this.#max[1]! >= 0) {
      const node = this.nth(0);
      out.push(node);
      saved.push(this.total(node));
      this.#setLeaf(node, HIDDEN);
    }
    for (let k = out.length - 1; k >= 0; k--) this.#setLeaf(out[k]!, saved[k + 1]!);
    this.#setLeaf(pick, saved[0]!);
    return out;
  }
}

function sameMask(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function computeScores(
  ctx: PlacementContext,
  plugin: ScorePlugin,
  list: Int32Array,
  count: number,
  out: Float64Array,
): void {
  if (count === 0) return;
  if (plugin.scoreAll !== undefined) plugin.scoreAll(ctx, list, count, out);
  else for (let k = 0; k < count; k++) out[k] = plugin.score(ctx, list[k]!);
}
