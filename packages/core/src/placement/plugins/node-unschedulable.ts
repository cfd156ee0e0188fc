import type { FilterPlugin, PlacementContext } from '../plugin.ts';
import { tolerated } from '../selectors.ts';
import type { Taint } from '../snapshot.ts';
import { type Status, unresolvable } from '../status.ts';

/** The taint Kubernetes puts on a cordoned node; tolerating it lets a task land there anyway. */
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
const REJECTED: Status = unresolvable('node is unschedulable');

/** Keeps tasks off cordoned / draining nodes (Mesos agents in maintenance, `kubectl cordon`). */
export const NodeUnschedulable = {
  name: 'NodeUnschedulable',
  shapeKey(ctx: PlacementContext) {
    return tolerated(ctx.task.tolerations, UNSCHEDULABLE_TAINT) ? 't' : '';
  },
  filter(ctx: PlacementContext, node: number) {
    if (ctx.snapshot.unschedulable[node] === 0) return undefined;
    return tolerated(ctx.task.tolerations, UNSCHEDULABLE_TAINT) ? undefined : REJECTED;
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number) {
    if (tolerated(ctx.task.tolerations, UNSCHEDULABLE_TAINT)) return count;
    const u = ctx.snapshot.unschedulable;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = cand[k]!;
      if (u[i] === 0) cand[kept++] = i;
    }
    return kept;
  },
} as const satisfies FilterPlugin;
