import type { Toleration } from '../../spec/index.ts';
import { stateKey } from '../cycle-state.ts';
import type { FilterPlugin, PlacementContext, PreFilterPlugin, ScorePlugin } from '../plugin.ts';
import { canonicalKey, formatTaint, toleratesTaint } from '../selectors.ts';
import type { Snapshot } from '../snapshot.ts';
import { type Status, unresolvable } from '../status.ts';
import { normalizeToMax } from './normalize.ts';

/** Per taint class of the snapshot: the rejection (or undefined) and the PreferNoSchedule count. */
interface TolerationTable {
  readonly rejected: readonly (Status | undefined)[];
  readonly ok: Uint8Array;
  readonly preferCount: Float64Array;
}

const TABLE = stateKey<TolerationTable>('TaintToleration/table');

function buildTable(snapshot: Snapshot, tolerations: readonly Toleration[]): TolerationTable {
  const classes = snapshot.taintClasses;
  const rejected: (Status | undefined)[] = [];
  const ok = new Uint8Array(classes.length);
  const preferCount = new Float64Array(classes.length);
  // Only tolerations without an effect or with PreferNoSchedule count for scoring (as upstream).
  const soft = tolerations.filter((t) => t.effect === undefined || t.effect === 'PreferNoSchedule');
  classes.forEach((taints, c) => {
    let bad: Status | undefined;
    let prefer = 0;
    for (const taint of taints) {
      if (taint.effect === 'PreferNoSchedule') {
        if (!soft.some((t) => toleratesTaint(t, taint))) prefer++;
      } else if (bad === undefined && !tolerations.some((t) => toleratesTaint(t, taint))) {
        bad = unresolvable(`untolerated taint ${formatTaint(taint)}`);
      }
    }
    rejected.push(bad);
    ok[c] = bad === undefined ? 1 : 0;
    preferCount[c] = prefer;
  });
  return { rejected, ok, preferCount };
}

const keys = new WeakMap<readonly Toleration[], string>();

function tolerationsKey(tolerations: readonly Toleration[]): string {
  let k = keys.get(tolerations);
  if (k === undefined) {
    k = canonicalKey(tolerations);
    keys.set(tolerations, k);
  }
  return k;
}

function table(ctx: PlacementContext): TolerationTable {
  let t = ctx.state.read(TABLE);
  if (t === undefined) {
    const tolerations = ctx.task.tolerations;
    t =
      tolerations.length === 0
        ? ctx.snapshot.memo('TaintToleration/none', () => buildTable(ctx.snapshot, []))
        : ctx.snapshot.memo(`TaintToleration/${tolerationsKey(tolerations)}`, () =>
            buildTable(ctx.snapshot, tolerations),
          );
    ctx.state.write(TABLE, t);
  }
  return t;
}

/**
 * Filter: a node with a NoSchedule or NoExecute taint the task does not tolerate is out.
 * Score: fewer untolerated PreferNoSchedule taints is better (normalised in reverse, as upstream).
 */
export const TaintToleration = {
  name: 'TaintToleration',
  normalization: 'reverse-max',
  shapeKey(ctx: PlacementContext) {
    return ctx.task.tolerations.length === 0 ? '' : tolerationsKey(ctx.task.tolerations);
  },
  preFilter(ctx: PlacementContext) {
    table(ctx);
    return undefined;
  },
  filter(ctx: PlacementContext, node: number) {
    return table(ctx).rejected[ctx.snapshot.taintClass[node]!];
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number) {
    if (ctx.snapshot.taintClasses.length === 1) return count;
    const ok = table(ctx).ok;
    const tc = ctx.snapshot.taintClass;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = cand[k]!;
      if (ok[tc[i]!] === 1) cand[kept++] = i;
    }
    return kept;
  },
  score(ctx: PlacementContext, node: number) {
    return table(ctx).preferCount[ctx.snapshot.taintClass[node]!]!;
  },
  scoreAll(ctx: PlacementContext, cand: Int32Array, count: number, out: Float64Array) {
    const pc = table(ctx).preferCount;
    const tc = ctx.snapshot.taintClass;
    for (let k = 0; k < count; k++) out[k] = pc[tc[cand[k]!]!]!;
  },
  normalizeScore(_ctx: PlacementContext, _cand: Int32Array, count: number, scores: Float64Array) {
    normalizeToMax(scores, count, true);
  },
} as const satisfies PreFilterPlugin & FilterPlugin & ScorePlugin;
