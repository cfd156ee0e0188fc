import { stateKey } from '../cycle-state.ts';
import type {
  FilterPlugin,
  PlacementContext,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
} from '../plugin.ts';
import { canonicalKey, matchesLabelSelector } from '../selectors.ts';
import type { AttributeColumn, RunningTask, Snapshot, TaskCounter } from '../snapshot.ts';
import { SKIP, type Status, unschedulable } from '../status.ts';
import type { PlacementTask, TaskAffinityRule } from '../task.ts';
import { normalizeMinMax } from './normalize.ts';

interface RuleState {
  readonly column: AttributeColumn;
  readonly counts: Int32Array;
  readonly counter: TaskCounter;
}

interface AffinityState {
  readonly affinity: readonly RuleState[];
  readonly anti: readonly RuleState[];
  /** No task matches the affinity rules yet, but the task matches them itself: the first of its kind. */
  readonly firstOfKind: boolean;
}

const STATE = stateKey<AffinityState>('TaskAffinity/preFilter');
const PREFERRED = stateKey<Float64Array>('TaskAffinity/preferred');
const AFFINITY: Status = unschedulable('task affinity not satisfied');
const ANTI_AFFINITY: Status = unschedulable('task anti-affinity not satisfied');

function matcher(rule: TaskAffinityRule, task: PlacementTask): (t: RunningTask) => boolean {
  const tenants = rule.tenants ?? [task.tenant];
  return (t) => tenants.includes(t.tenant ?? 'default') && matchesLabelSelector(t.labels, rule.labelSelector);
}

function ruleState(snapshot: Snapshot, task: PlacementTask, rule: TaskAffinityRule): RuleState {
  const tenants = rule.tenants ?? [task.tenant];
  const counter = snapshot.counter(
    `selector:${canonicalKey([tenants, rule.labelSelector])}`,
    matcher(rule, task),
  );
  const column = snapshot.column(rule.topologyKey);
  return { column, counts: counter.byValue(column), counter };
}

function compute(ctx: PlacementContext): AffinityState {
  let s = ctx.state.read(STATE);
  if (s === undefined) {
    const { snapshot, task } = ctx;
    const affinity = task.taskAffinity.map((r) => ruleState(snapshot, task, r));
    const anti = task.taskAntiAffinity.map((r) => ruleState(snapshot, task, r));
    const self: RunningTask = {
      id: task.id,
      app: task.app,
      tenant: task.tenant,
      labels: task.labels,
      priority: task.priority,
    };
    const firstOfKind =
      affinity.length > 0 &&
      affinity.every((a) => a.counter.total === 0) &&
      task.taskAffinity.every((r) => matcher(r, task)(self));
    s = { affinity, anti, firstOfKind };
    ctx.state.write(STATE, s);
  }
  return s;
}

function check(s: AffinityState, node: number): Status | undefined {
  if (!s.firstOfKind) {
    for (const a of s.affinity) {
      const v = a.column.ids[node]!;
      if (v < 0 || a.counts[v] === 0) return AFFINITY;
    }
  }
  for (const a of s.anti) {
    const v = a.column.ids[node]!;
    if (v >= 0 && a.counts[v]! > 0) return ANTI_AFFINITY;
  }
  return undefined;
}

function preferred(ctx: PlacementContext): Float64Array {
  let out = ctx.state.read(PREFERRED);
  if (out === undefined) {
    const { snapshot, task } = ctx;
    out = new Float64Array(snapshot.size);
    const add = (rules: readonly TaskAffinityRule[], sign: number) => {
      for (const rule of rules) {
        const r = ruleState(snapshot, task, rule);
        const w = sign * rule.weight!;
        for (let i = 0; i < snapshot.size; i++) {
          const v = r.column.ids[i]!;
          if (v >= 0) out![i]! += w * r.counts[v]!;
        }
      }
    };
    add(task.preferredTaskAffinity, 1);
    add(task.preferredTaskAntiAffinity, -1);
    ctx.state.write(PREFERRED, out);
  }
  return out;
}

/**
 * Inter-task affinity by labels and topology key. Filter: required affinity (a matching task runs
 * in the node's domain — or none exists anywhere yet and the task matches its own rule) and
 * required anti-affinity (no matching task in the domain; nodes without the key are fine).
 * Score: Σ weight × matching tasks in the domain for preferred rules (minus for anti-affinity),
 * scaled min–max to 0–100.
 */
export const TaskAffinity = {
  name: 'TaskAffinity',
  preFilter(ctx: PlacementContext) {
    if (ctx.task.taskAffinity.length === 0 && ctx.task.taskAntiAffinity.length === 0) return SKIP;
    compute(ctx);
    return undefined;
  },
  filter(ctx: PlacementContext, node: number) {
    if (ctx.task.taskAffinity.length === 0 && ctx.task.taskAntiAffinity.length === 0) return undefined;
    return check(compute(ctx), node);
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number) {
    const s = compute(ctx);
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = cand[k]!;
      if (check(s, i) === undefined) cand[kept++] = i;
    }
    return kept;
  },
  preScore(ctx: PlacementContext) {
    if (ctx.task.preferredTaskAffinity.length === 0 && ctx.task.preferredTaskAntiAffinity.length === 0)
      return SKIP;
    preferred(ctx);
    return undefined;
  },
  score(ctx: PlacementContext, node: number) {
    if (ctx.task.preferredTaskAffinity.length === 0 && ctx.task.preferredTaskAntiAffinity.length === 0)
      return 0;
    return preferred(ctx)[node]!;
  },
  normalizeScore(_ctx: PlacementContext, _cand: Int32Array, count: number, scores: Float64Array) {
    normalizeMinMax(scores, count);
  },
} as const satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
