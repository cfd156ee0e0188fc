/**
 * `Gang`: all-or-nothing placement of the tasks of a Job with `gang: true`. Members share a
 * `group`; the gang's size is what the batch holds of it — `beginBatch` counts the members of
 * every group in the `place` call. At permit a member waits, holding its reservation, until the
 * last member arrives, which allows them all. When a member fits nowhere (the post-filter sees
 * it), the members already waiting are rejected — `place` rolls their reservations back — and
 * the members still to come are refused at permit, each explanation naming the members that
 * could not fit.
 *
 * The `berth.dev/gang-size` label is optional: when a member carries it, it is the gang's full
 * size, and a batch holding a different number of the gang's members places none of them (a
 * guard for callers that may hand over part of a gang). `gangTasks` sets `group` and the label.
 */
import { BerthError } from '../../cluster/errors.ts';
import type {
  BatchPlugin,
  NodeStatusMap,
  PermitPlugin,
  PlacementContext,
  PostFilterPlugin,
  PostFilterResult,
  WaitingTasks,
} from '../plugin.ts';
import type { JsonValue } from '../registry.ts';
import type { Snapshot } from '../snapshot.ts';
import { type Status, unresolvable, unschedulable } from '../status.ts';
import type { PlacementTask } from '../task.ts';

const COMPONENT = 'core/placement';

/** Label carrying a gang's full member count (optional; Berth writes `berth.dev/` labels itself). */
export const GANG_SIZE_LABEL = 'berth.dev/gang-size';

/**
 * The tasks of one gang: each gets `group` and the size label. Use it (or set `group` yourself)
 * for the tasks of a Job with `gang: true`, and place them in one batch.
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

/** What the plugin knows of one group in the current batch. */
interface GroupState {
  /** Members in the batch. */
  readonly members: number;
  /** The size a member's label asks for, if any (the first one read; NaN when malformed). */
  readonly labelled: number | undefined;
  /** Members that could not fit, in the order they failed. */
  readonly failed: string[];
}

function labelledSize(task: PlacementTask): number | undefined {
  const raw = task.labels[GANG_SIZE_LABEL];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 1 ? n : Number.NaN;
}

export class GangPlugin implements BatchPlugin, PermitPlugin, PostFilterPlugin {
  readonly name = 'Gang';
  /** The groups of the current batch. */
  #groups = new Map<string, GroupState>();
  /** The current batch's handle on waiting tasks (set at the first permit). */
  #waiting: WaitingTasks | undefined;

  /** Counts the members of every group in the batch (`place` calls it before the first task). */
  beginBatch(tasks: readonly PlacementTask[], _snapshot: Snapshot): void {
    const counts = new Map<string, { members: number; labelled: number | undefined }>();
    for (const t of tasks) {
      if (t.group === undefined) continue;
      const c = counts.get(t.group);
      if (c === undefined) counts.set(t.group, { members: 1, labelled: labelledSize(t) });
      else c.members++;
    }
    this.#groups = new Map([...counts].map(([g, c]) => [g, { ...c, failed: [] }]));
    this.#waiting = undefined;
  }

  static #why(group: string, failed: readonly string[], rolledBack: number): string {
    const who = failed.length === 1 ? `member ${failed[0]}` : `members ${failed.join(', ')}`;
    return `gang ${group}: ${who} could not fit${rolledBack > 0 ? `; ${rolledBack} placed member${rolledBack === 1 ? '' : 's'} rolled back` : ''}`;
  }

  /** Why the group cannot be placed in this batch whatever fits, if so. */
  static #incomplete(group: string, g: GroupState | undefined): string | undefined {
    if (g === undefined)
      return `gang ${group}: its members were not counted; place all of them in one place() batch`;
    if (g.labelled === undefined || g.labelled === g.members) return undefined;
    if (Number.isNaN(g.labelled))
      return `gang ${group}: ${GANG_SIZE_LABEL} must be a whole number ≥ 1; fix or drop the label`;
    return `gang ${group}: the batch holds ${g.members} of its ${g.labelled} members (${GANG_SIZE_LABEL}); place the whole gang in one batch`;
  }

  permit(ctx: PlacementContext, _node: number, waiting: WaitingTasks): Status | undefined {
    const { task } = ctx;
    const group = task.group;
    if (group === undefined) return undefined;
    this.#waiting = waiting;
    const g = this.#groups.get(group);
    const incomplete = GangPlugin.#incomplete(group, g);
    if (incomplete !== undefined) return unresolvable(incomplete);
    if (g!.failed.length > 0) return unschedulable(GangPlugin.#why(group, g!.failed, 0));
    let held = 0;
    for (const w of waiting.list()) if (w.task.group === group) held++;
    if (held + 1 < g!.members)
      return { code: 'Wait', reasons: [`gang ${group}: ${held + 1}/${g!.members} members placed`] };
    for (const w of waiting.list()) if (w.task.group === group) waiting.allow(w.task.id);
    return undefined;
  }

  /** A member fits nowhere: roll back the members waiting for it and refuse the rest. */
  postFilter(ctx: PlacementContext, _statuses: NodeStatusMap): PostFilterResult {
    const { task } = ctx;
    const group = task.group;
    if (group === undefined) return { status: unschedulable() };
    const g = this.#groups.get(group);
    if (g === undefined) return { status: unschedulable(GangPlugin.#incomplete(group, g)!) };
    g.failed.push(task.id);
    const members = this.#waiting?.list().filter((w) => w.task.group === group) ?? [];
    const reason = GangPlugin.#why(group, g.failed, members.length);
    for (const m of members) this.#waiting!.reject(m.task.id, reason);
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
