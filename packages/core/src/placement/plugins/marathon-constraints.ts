import { stateKey } from '../cycle-state.ts';
import type { FilterPlugin, PlacementContext, PreFilterPlugin } from '../plugin.ts';
import type { AttributeColumn, RunningTask, Snapshot, TaskCounter } from '../snapshot.ts';
import { SKIP, type Status, unschedulable } from '../status.ts';
import type { CompiledConstraint, PlacementTask } from '../task.ts';

/** One constraint reduced, for this cycle, to a yes/no per attribute value. */
interface Evaluated {
  readonly column: AttributeColumn;
  /** Per value id of the column: 1 when a node with that value satisfies the constraint. */
  readonly accept: Uint8Array;
  /** Whether a node lacking the attribute satisfies it (only UNLIKE). */
  readonly acceptMissing: boolean;
  readonly rejection: Status;
}

const EVALUATED = stateKey<readonly Evaluated[]>('MarathonConstraints/evaluated');

/** The counter of tasks of the task's app (running ones and those placed earlier in the batch). */
export function appCounter(snapshot: Snapshot, app: string): TaskCounter {
  return snapshot.counter(`app:${app}`, (t: RunningTask) => t.app === app);
}

function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  // Scalar attributes compare as numbers (Mesos writes `rack:1` and `rack:1.0` alike).
  const x = Number(a);
  const y = Number(b);
  return a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y) && x === y;
}

/**
 * Marathon's semantics, evaluated against the tasks of the same app:
 * - UNIQUE: no task of the app has this node's value yet.
 * - CLUSTER v: the value is v; without v, the value the app's tasks already use (any, for the first).
 * - GROUP_BY [n]: an unused value, or — once at least n values are in use — one of the least used
 *   values. Without n every unused or least-used value is fine, so tasks spread evenly.
 * - LIKE / UNLIKE re: the value does / does not match `re` in full.
 * - MAX_PER n: fewer than n tasks of the app have this value.
 * - IS v: the value is v.
 * A node lacking the attribute satisfies only UNLIKE. The field `hostname` is the node's hostname.
 */
export function evaluateConstraint(
  c: CompiledConstraint,
  column: AttributeColumn,
  counts: Int32Array,
): Uint8Array {
  const values = column.values;
  const accept = new Uint8Array(values.length);
  switch (c.operator) {
    case 'UNIQUE':
      for (let v = 0; v < values.length; v++) accept[v] = counts[v] === 0 ? 1 : 0;
      break;
    case 'CLUSTER': {
      const wanted = c.value;
      if (wanted !== undefined && wanted !== '') {
        for (let v = 0; v < values.length; v++) accept[v] = sameValue(values[v]!, wanted) ? 1 : 0;
      } else {
        let used = false;
        for (let v = 0; v < values.length; v++) if (counts[v]! > 0) used = true;
        for (let v = 0; v < values.length; v++) accept[v] = !used || counts[v]! > 0 ? 1 : 0;
      }
      break;
    }
    case 'GROUP_BY': {
      const minimum = c.count ?? 0;
      let groups = 0;
      let minCount = Number.POSITIVE_INFINITY;
      for (let v = 0; v < values.length; v++) {
        const k = counts[v]!;
        if (k > 0) {
          groups++;
          if (k < minCount) minCount = k;
        }
      }
      for (let v = 0; v < values.length; v++) {
        const k = counts[v]!;
        accept[v] = k === 0 || (groups >= minimum && k === minCount) ? 1 : 0;
      }
      break;
    }
    case 'LIKE':
    case 'UNLIKE': {
      const like = c.operator === 'LIKE';
      for (let v = 0; v < values.length; v++) accept[v] = c.regex!.test(values[v]!) === like ? 1 : 0;
      break;
    }
    case 'MAX_PER': {
      const max = c.count ?? 0;
      for (let v = 0; v < values.length; v++) accept[v] = counts[v]! < max ? 1 : 0;
      break;
    }
    case 'IS':
      for (let v = 0; v < values.length; v++)
        accept[v] = c.value !== undefined && sameValue(values[v]!, c.value) ? 1 : 0;
      break;
  }
  return accept;
}

function evaluate(ctx: PlacementContext): readonly Evaluated[] {
  let e = ctx.state.read(EVALUATED);
  if (e === undefined) {
    const { snapshot, task } = ctx;
    const counter = appCounter(snapshot, task.app);
    e = task.constraints.map((c) => {
      const column = snapshot.column(c.field);
      return {
        column,
        accept: evaluateConstraint(c, column, counter.byValue(column)),
        acceptMissing: c.operator === 'UNLIKE',
        rejection: unschedulable(`constraint ${c.label} not satisfied`),
      };
    });
    ctx.state.write(EVALUATED, e);
  }
  return e;
}

function hasConstraints(task: PlacementTask): boolean {
  return task.constraints.length > 0;
}

export const MarathonConstraints = {
  name: 'MarathonConstraints',
  /** Constraints count the app's tasks across nodes: no key (the filter runs after the index). */
  shapeKey(ctx: PlacementContext) {
    return hasConstraints(ctx.task) ? undefined : '';
  },
  preFilter(ctx: PlacementContext) {
    if (!hasConstraints(ctx.task)) return SKIP;
    evaluate(ctx);
    return undefined;
  },
  filter(ctx: PlacementContext, node: number) {
    if (!hasConstraints(ctx.task)) return undefined;
    for (const c of evaluate(ctx)) {
      const v = c.column.ids[node]!;
      if (v < 0 ? !c.acceptMissing : c.accept[v] === 0) return c.rejection;
    }
    return undefined;
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number) {
    let n = count;
    for (const c of evaluate(ctx)) {
      const ids = c.column.ids;
      const accept = c.accept;
      const missing = c.acceptMissing;
      let kept = 0;
      for (let k = 0; k < n; k++) {
        const i = cand[k]!;
        const v = ids[i]!;
        if (v < 0 ? missing : accept[v] === 1) cand[kept++] = i;
      }
      n = kept;
    }
    return n;
  },
} as const satisfies PreFilterPlugin & FilterPlugin;
