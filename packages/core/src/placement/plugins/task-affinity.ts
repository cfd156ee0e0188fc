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

/** A domain an already placed task's anti-affinity closes to this task. */
interface ClosedDomain {
  readonly column: AttributeColumn;
  readonly value: number;
}

interface AffinityState {
  readonly affinity: readonly RuleState[];
  readonly anti: readonly RuleState[];
  readonly closed: readonly ClosedDomain[];
  /** No task matches the affinity rules yet, but the task matches them itself: the first of its kind. */
  readonly firstOfKind: boolean;
}

const STATE = stateKey<AffinityState>('TaskAffinity/preFilter');
const PREFERRED = stateKey<Float64Array>('TaskAffinity/preferred');
const AFFINITY: Status = unschedulable('task affinity not satisfied');
const ANTI_AFFINITY: Status = unschedulable('task anti-affinity not satisfied');
const EXISTING_ANTI_AFFINITY: Status = unschedulable('existing task anti-affinity not satisfied');

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

/**
 * The domains closed to `task` by the required anti-affinity of tasks already placed: for each of
 * their rules that selects `task` (its tenant among the rule's tenants — by default the placed
 * task's own — and its labels matching), the placed task's node's value of the topology key.
 */
function closedDomains(snapshot: Snapshot, task: PlacementTask): ClosedDomain[] {
  const out: ClosedDomain[] = [];
  for (const { node, task: placed } of snapshot.antiAffinityHolders) {
    for (const rule of placed.antiAffinity!) {
      const tenants = rule.tenants ?? [placed.tenant ?? 'default'];
      if (!tenants.includes(task.tenant) || !matchesLabelSelector(task.labels, rule.labelSelector)) continue;
      const column = snapshot.column(rule.topologyKey);
      const value = column.ids[node]!;
      if (value >= 0 && !out.some((d) => d.column === column && d.value === value))
        out.push({ column, value });
    }
  }
  return out;
}

function hasOwnRules(task: PlacementTask): boolean {
  return task.taskAffinity.length > 0 || task.taskAntiAffinity.length > 0;
}

function compute(ctx: PlacementContext): AffinityState {
  let s = ctx.state.read(STATE);
  if (s === undefined) {
    const { snapshot, task } = ctx;
    const closed = closedDomains(snapshot, task);
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
    s = { affinity, anti, closed, firstOfKind };
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
  for (const d of s.closed) if (d.column.ids[node] === d.value) return EXISTING_ANTI_AFFINITY;
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
 * in the node's domain — or none exists anywhere yet and the task matches its own rule), required
 * anti-affinity (no matching task in the domain; nodes without the key are fine), and the required
 * anti-affinity of tasks already placed that select this task (not in their domains).
 * Score: Σ weight × matching tasks in the domain for preferred rules (minus for anti-affinity),
 * scaled min–max to 0–100.
 */
export const TaskAffinity = {
  name: 'TaskAffinity',
  /**
   * Affinity counts tasks across nodes: the filter has no key for tasks with rules or selected by
   * placed tasks' rules, the score none for tasks with preferred rules.
   */
  shapeKey(ctx: PlacementContext, point: 'filter' | 'score') {
    const { task } = ctx;
    if (point === 'score')
      return task.preferredTaskAffinity.length > 0 || task.preferredTaskAntiAffinity.length > 0
        ? undefined
        : '';
    if (hasOwnRules(task)) return undefined;
    if (ctx.snapshot.antiAffinityHolders.length === 0) return '';
    return compute(ctx).closed.length === 0 ? '' : undefined;
  },
  preFilter(ctx: PlacementContext) {
    if (
      !hasOwnRules(ctx.task) &&
      (ctx.snapshot.antiAffinityHolders.length === 0 || compute(ctx).closed.length === 0)
    )
      return SKIP;
    compute(ctx);
    return undefined;
  },
  filter(ctx: PlacementContext, node: number) {
    if (!hasOwnRules(ctx.task) && ctx.snapshot.antiAffinityHolders.length === 0) return undefined;
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
