import { stateKey } from '../cycle-state.ts';
import type {
  FilterPlugin,
  PlacementContext,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
} from '../plugin.ts';
import {
  canonicalKey,
  matchesNodeSelector,
  matchesNodeSelectorTerm,
  matchesNodeSelectorTerms,
} from '../selectors.ts';
import type { Snapshot } from '../snapshot.ts';
import { SKIP, type Status, unresolvable } from '../status.ts';
import type { PlacementTask } from '../task.ts';
import { normalizeToMax } from './normalize.ts';

const MASK = stateKey<Uint8Array>('NodeAffinity/mask');
const PREFERRED = stateKey<Float64Array>('NodeAffinity/preferred');
const NOT_MATCHED: Status = unresolvable('node selector/affinity not matched');

const requiredKeys = new WeakMap<PlacementTask, string>();

function requiredMask(snapshot: Snapshot, task: PlacementTask): Uint8Array {
  let key = requiredKeys.get(task);
  if (key === undefined) {
    key = `NodeAffinity/required/${canonicalKey([task.nodeSelector, task.requiredNodeAffinity ?? null])}`;
    requiredKeys.set(task, key);
  }
  return snapshot.memo(key, () => {
    const mask = new Uint8Array(snapshot.size);
    for (let i = 0; i < snapshot.size; i++) {
      const labels = snapshot.labels(i);
      const ok =
        matchesNodeSelector(labels, task.nodeSelector) &&
        (task.requiredNodeAffinity === undefined ||
          matchesNodeSelectorTerms(labels, task.requiredNodeAffinity));
      mask[i] = ok ? 1 : 0;
    }
    return mask;
  });
}

function preferredScores(snapshot: Snapshot, task: PlacementTask): Float64Array {
  return snapshot.memo(`NodeAffinity/preferred/${canonicalKey(task.preferredNodeAffinity)}`, () => {
    const out = new Float64Array(snapshot.size);
    for (let i = 0; i < snapshot.size; i++) {
      const labels = snapshot.labels(i);
      let sum = 0;
      for (const p of task.preferredNodeAffinity)
        if (matchesNodeSelectorTerm(labels, p.preference)) sum += p.weight;
      out[i] = sum;
    }
    return out;
  });
}

const keys = new WeakMap<PlacementTask, string>();

function affinityKey(task: PlacementTask): string {
  if (!hasRequired(task) && task.preferredNodeAffinity.length === 0) return '';
  let k = keys.get(task);
  if (k === undefined) {
    k = canonicalKey([task.nodeSelector, task.requiredNodeAffinity ?? null, task.preferredNodeAffinity]);
    keys.set(task, k);
  }
  return k;
}

function hasRequired(task: PlacementTask): boolean {
  for (const _ in task.nodeSelector) return true;
  return task.requiredNodeAffinity !== undefined;
}

/**
 * Filter: `nodeSelector` and required node affinity. Score: the summed weights of the matching
 * preferred terms, normalised to 0–100 over the best node.
 */
export const NodeAffinityPlugin = {
  name: 'NodeAffinity',
  normalization: 'max',
  shapeKey(ctx: PlacementContext) {
    return affinityKey(ctx.task);
  },
  preFilter(ctx: PlacementContext) {
    if (!hasRequired(ctx.task)) return SKIP;
    ctx.state.write(MASK, requiredMask(ctx.snapshot, ctx.task));
    return undefined;
  },
  filter(ctx: PlacementContext, node: number) {
    if (!hasRequired(ctx.task)) return undefined;
    const mask = ctx.state.read(MASK) ?? requiredMask(ctx.snapshot, ctx.task);
    return mask[node] === 1 ? undefined : NOT_MATCHED;
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number) {
    const mask = ctx.state.read(MASK) ?? requiredMask(ctx.snapshot, ctx.task);
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = cand[k]!;
      if (mask[i] === 1) cand[kept++] = i;
    }
    return kept;
  },
  preScore(ctx: PlacementContext) {
    if (ctx.task.preferredNodeAffinity.length === 0) return SKIP;
    ctx.state.write(PREFERRED, preferredScores(ctx.snapshot, ctx.task));
    return undefined;
  },
  score(ctx: PlacementContext, node: number) {
    if (ctx.task.preferredNodeAffinity.length === 0) return 0;
    return (ctx.state.read(PREFERRED) ?? preferredScores(ctx.snapshot, ctx.task))[node]!;
  },
  scoreAll(ctx: PlacementContext, cand: Int32Array, count: number, out: Float64Array) {
    const pref = ctx.state.read(PREFERRED) ?? preferredScores(ctx.snapshot, ctx.task);
    for (let k = 0; k < count; k++) out[k] = pref[cand[k]!]!;
  },
  normalizeScore(_ctx: PlacementContext, _cand: Int32Array, count: number, scores: Float64Array) {
    normalizeToMax(scores, count, false);
  },
} as const satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
