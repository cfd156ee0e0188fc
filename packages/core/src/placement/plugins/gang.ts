/**
 * `Gang`: all-or-nothing placement of the tasks of a Job with `gang: true`. Members share a
 * `group` and carry the gang's size in the `berth.dev/gang-size` label (`gangTasks` sets both).
 * At permit a member waits, holding its reservation, until the last member arrives, which allows
 * them all. When a member fits nowhere (the post-filter sees it), the members already waiting are
 * rejected — `place` rolls their reservations back — and the members still to come are refused
 * at permit, each explanation naming the members that could not fit.
 */
import { BerthError } from '../../cluster/errors.ts';
import type {
  NodeStatusMap,
  PermitPlugin,
  PlacementContext,
  PostFilterPlugin,
  PostFilterResult,
  WaitingTasks,
} from '../plugin.ts';
import type { JsonValue } from '../registry.ts';
import { type Status, unresolvable, unschedulable } from '../status.ts';
import type { PlacementTask } from '../task.ts';

const COMPONENT = 'core/placement';

/** Label carrying a gang's member count (Berth writes `berth.dev/` labels itself). */
export const GANG_SIZE_LABEL = 'berth.dev/gang-size';

/**
 * The tasks of one gang: each gets `group` and the size label. Use it (or set both yourself)
 * for the tasks of a Job with `gang: true`.
 */
export function gangTasks(tasks: readonly PlacementTask[], group: string): PlacementTask[] {
  if (typeof group !== 'string' || group === '') {
    throw new BerthError('SPEC_INVALID', 'a gang needs a non-empty group name', {
      component: COMPONENT,
      hint: 'Use the Job name, e.g. gangTasks(tasks, "train").',
    });
  }
  const size = String(tasks.length);
  return tasks.map((t) => ({ ...t, group, labels: { ...t.labels, [GANG_SIZE_LABEL]: size } }));
}

interface Failure {
  readonly taskId: string;
  readonly sequence: number;
}

/** What one batch (one `place` call, identified by its waiting-tasks handle) knows of its gangs. */
interface BatchGangs {
  readonly failed: Map<string, string[]>;
}

export class GangPlugin implements PermitPlugin, PostFilterPlugin {
  readonly name = 'Gang';
  /** The last waiting handle each group used: the current batch's, if members wait in it. */
  readonly #handles = new Map<string, WaitingTasks>();
  readonly #batches = new WeakMap<WaitingTasks, BatchGangs>();
  /** A member that failed before any other member of its group reached permit. */
  readonly #early = new Map<string, Failure>();

  #batch(waiting: WaitingTasks): BatchGangs {
    let b = this.#batches.get(waiting);
    if (b === undefined) {
      b = { failed: new Map() };
      this.#batches.set(waiting, b);
    }
    return b;
  }

  static #size(task: PlacementTask): number | undefined {
    const raw = task.labels[GANG_SIZE_LABEL];
    const n = raw === undefined ? Number.NaN : Number(raw);
    return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
  }

  static #why(group: string, failed: readonly string[], rolledBack: number): string {
    const who = failed.length === 1 ? `member ${failed[0]}` : `members ${failed.join(', ')}`;
    return `gang ${group}: ${who} could not fit${rolledBack > 0 ? `; ${rolledBack} placed member${rolledBack === 1 ? '' : 's'} rolled back` : ''}`;
  }

  permit(ctx: PlacementContext, _node: number, waiting: WaitingTasks): Status | undefined {
    const { task } = ctx;
    const group = task.group;
    if (group === undefined) return undefined;
    const size = GangPlugin.#size(task);
    if (size === undefined) {
      return unresolvable(
        `gang ${group}: task ${task.id} lacks a valid ${GANG_SIZE_LABEL} label; build gang tasks with gangTasks()`,
      );
    }
    this.#handles.set(group, waiting);
    const batch = this.#batch(waiting);
    const early = this.#early.get(group);
    if (early !== undefined) {
      this.#early.delete(group);
      // Only a failure earlier in this batch's queue counts; the same task now placed was stale.
      if (early.taskId !== task.id && early.sequence < task.sequence) batch.failed.set(group, [early.taskId]);
    }
    const failed = batch.failed.get(group);
    if (failed !== undefined) return unschedulable(GangPlugin.#why(group, failed, 0));
    let held = 0;
    for (const w of waiting.list()) if (w.task.group === group) held++;
    if (held + 1 < size)
      return { code: 'Wait', reasons: [`gang ${group}: ${held + 1}/${size} members placed`] };
    for (const w of waiting.list()) if (w.task.group === group) waiting.allow(w.task.id);
    return undefined;
  }

  /** A member fits nowhere: roll back the members waiting for it and refuse the rest. */
  postFilter(ctx: PlacementContext, _statuses: NodeStatusMap): PostFilterResult {
    const { task } = ctx;
    const group = task.group;
    if (group === undefined) return { status: unschedulable() };
    const waiting = this.#handles.get(group);
    const members = waiting?.list().filter((w) => w.task.group === group) ?? [];
    if (waiting !== undefined && members.length === 0 && this.#batch(waiting).failed.has(group)) {
      // Members were already rolled back in this batch: add this one to the list.
      const failed = [...this.#batch(waiting).failed.get(group)!, task.id];
      this.#batch(waiting).failed.set(group, failed);
      return { status: unschedulable(GangPlugin.#why(group, failed, 0)) };
    }
    if (waiting === undefined || members.length === 0) {
      this.#early.set(group, { taskId: task.id, sequence: task.sequence });
      return { status: unschedulable(GangPlugin.#why(group, [task.id], 0)) };
    }
    const batch = this.#batch(waiting);
    const failed = [...(batch.failed.get(group) ?? []), task.id];
    batch.failed.set(group, failed);
    const reason = GangPlugin.#why(group, failed, members.length);
    for (const m of members) waiting.reject(m.task.id, reason);
    // Not a placement: let the next post-filter (preemption) have its say.
    return { status: unschedulable(reason) };
  }
}

export function gang(args: JsonValue | undefined): GangPlugin {
  if (args !== undefined && args !== null) {
    throw new BerthError('SPEC_INVALID', 'Gang takes no args', {
      component: COMPONENT,
      issues: [{ path: '', message: 'Gang takes no args; remove them' }],
    });
  }
  return new GangPlugin();
}
