/**
 * The batch API adapters call: place many tasks on one snapshot, each seeing the placements made
 * before it, and get back placements and unplaceable tasks, both with explanations.
 */
import { BerthError } from '../cluster/errors.ts';
import type { PlacedExplanation, UnplaceableExplanation } from './explanation.ts';
import { unplaceableMessage } from './explanation.ts';
import { Framework } from './framework.ts';
import type { PlacementContext, WaitingTask, WaitingTasks } from './plugin.ts';
import {
  BUILT_IN_PROFILES,
  type BuiltInProfileName,
  defaultRegistry,
  isBuiltInProfileName,
} from './profiles.ts';
import type { PlacementProfile, PluginRegistry } from './registry.ts';
import { SeededRandom } from './seeded-random.ts';
import type { Assumption, Snapshot } from './snapshot.ts';
import { type Status, withPlugin } from './status.ts';
import type { PlacementTask } from './task.ts';

const COMPONENT = 'core/placement';

export interface PlaceOptions {
  /** Seed of the tie-breaking random source (default 0). Same snapshot + tasks + seed → same result. */
  readonly seed?: number;
  /** Registry to resolve the profile's plugins (default: the built-ins). */
  readonly registry?: PluginRegistry;
  readonly explain?: {
    /** Runner-up nodes listed per placement (default 3; 0 is fastest). */
    readonly alternatives?: number;
    /** Per-node rejection detail for unplaceable tasks (default false). */
    readonly nodes?: boolean;
  };
  /** Start time recorded on placed tasks in the snapshot (epoch ms). */
  readonly now?: number;
  /**
   * Use per-shape indexes instead of scanning every node for every task (default true). The
   * result is identical; `false` is for comparisons and debugging.
   */
  readonly indexed?: boolean;
}

export interface Placement {
  readonly taskId: string;
  readonly nodeId: string;
  readonly hostname: string;
  /** Host ports given to the task, in the order of its `ports`. */
  readonly ports: readonly number[];
  readonly explanation: PlacedExplanation;
}

export interface Unplaceable {
  readonly taskId: string;
  readonly explanation: UnplaceableExplanation;
}

export interface PlacementResult {
  /** In the order the queue placed them. */
  readonly placements: readonly Placement[];
  readonly unplaceable: readonly Unplaceable[];
}

/** Resolves a profile name, profile object or built framework. */
export function resolveFramework(
  profile: PlacementProfile | BuiltInProfileName | Framework,
  registry: PluginRegistry = defaultRegistry(),
): Framework {
  if (profile instanceof Framework) return profile;
  if (typeof profile === 'string') {
    if (!isBuiltInProfileName(profile)) {
      throw new BerthError('SPEC_INVALID', `unknown placement profile ${JSON.stringify(profile)}`, {
        component: COMPONENT,
        hint: `Use one of ${Object.keys(BUILT_IN_PROFILES).join(', ')}, or pass a profile object.`,
      });
    }
    return Framework.build(BUILT_IN_PROFILES[profile], registry);
  }
  return Framework.build(profile, registry);
}

interface Pending {
  readonly ctx: PlacementContext;
  readonly assumption: Assumption;
  readonly explanation: PlacedExplanation;
  state: 'waiting' | 'allowed' | 'rejected';
  reason?: string;
}

/**
 * The task to place at step `at` of the sorted `queue`. A dynamic queue sort's order moves as
 * tasks are placed: the first of the rest is picked again (stable: ties go to the earlier in the
 * queue), among the heads of its lanes when it has lanes, else among every task left.
 */
function nextTask(framework: Framework, queue: PlacementTask[]): (at: number) => PlacementTask {
  const sort = framework.queueSort;
  if (sort.dynamic !== true) return (at) => queue[at]!;
  const less = sort.less.bind(sort);
  if (sort.lane === undefined) {
    return (at) => {
      let pick = at;
      for (let k = at + 1; k < queue.length; k++) if (less(queue[k]!, queue[pick]!)) pick = k;
      if (pick !== at) queue.splice(at, 0, ...queue.splice(pick, 1));
      return queue[at]!;
    };
  }
  // Lanes in queue order, each a list of queue positions; a head is the first not yet taken.
  const byName = new Map<string, number[]>();
  queue.forEach((t, k) => {
    const name = sort.lane!(t);
    let lane = byName.get(name);
    if (lane === undefined) {
      lane = [];
      byName.set(name, lane);
    }
    lane.push(k);
  });
  const lanes = [...byName.values()];
  const heads = new Int32Array(lanes.length);
  const order = [...queue];
  return () => {
    let pick = -1;
    for (let l = 0; l < lanes.length; l++) {
      const lane = lanes[l]!;
      if (heads[l]! >= lane.length) continue;
      if (pick < 0) {
        pick = l;
        continue;
      }
      const a = lane[heads[l]!]!;
      const b = lanes[pick]![heads[pick]!]!;
      if (less(order[a]!, order[b]!) || (!less(order[b]!, order[a]!) && a < b)) pick = l;
    }
    return order[lanes[pick]![heads[pick]!++]!]!;
  };
}

/**
 * Places `tasks` on `snapshot` (which is updated in place: clone it first for a dry run).
 * Tasks are ordered by the profile's queue sort; each goes through filter, score and select,
 * then is reserved on the snapshot before the next one is considered. Permit plugins may hold
 * tasks (`Wait`) until they allow or reject them; tasks still waiting at the end are rejected.
 */
export function place(
  tasks: readonly PlacementTask[],
  snapshot: Snapshot,
  profile: PlacementProfile | BuiltInProfileName | Framework,
  options: PlaceOptions = {},
): PlacementResult {
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) {
      throw new BerthError('SPEC_INVALID', `task id ${t.id} appears twice in one placement batch`, {
        component: COMPONENT,
        hint: 'Give every task instance its own id (e.g. web-0, web-1).',
      });
    }
    ids.add(t.id);
  }
  const framework = resolveFramework(profile, options.registry);
  const random = new SeededRandom(options.seed ?? 0);
  const cycle = {
    random,
    alternatives: options.explain?.alternatives ?? 3,
    nodeDetail: options.explain?.nodes ?? false,
    indexed: options.indexed ?? true,
  };
  // Placements (in queue order) as slots, so a task allowed later keeps its queue position.
  const slots: (Pending | Unplaceable)[] = [];
  const pending = new Map<string, Pending>();
  const waitingOrder: Pending[] = [];

  const rollback = (p: Pending) => {
    for (let i = framework.reserve.length - 1; i >= 0; i--)
      framework.reserve[i]!.unreserve(p.ctx, p.assumption.node);
    snapshot.forget(p.assumption);
  };
  const failed = (ctx: PlacementContext, s: Status): Unplaceable => ({
    taskId: ctx.task.id,
    explanation: {
      kind: 'unplaceable',
      totalNodes: snapshot.size,
      feasibleNodes: 0,
      reasons: [],
      status: { code: s.code, reasons: s.reasons, ...(s.plugin === undefined ? {} : { plugin: s.plugin }) },
      message: unplaceableMessage(
        snapshot.size,
        0,
        [],
        `${s.plugin ?? 'a plugin'}: ${s.reasons.join(', ') || s.code}`,
      ),
    },
  });
  const waiting: WaitingTasks = {
    list: (): readonly WaitingTask[] =>
      waitingOrder
        .filter((p) => p.state === 'waiting')
        .map((p) => ({ task: p.ctx.task, nodeId: snapshot.ids[p.assumption.node]! })),
    allow(taskId) {
      const p = pending.get(taskId);
      if (p !== undefined && p.state === 'waiting') p.state = 'allowed';
    },
    reject(taskId, reason) {
      const p = pending.get(taskId);
      if (p !== undefined && p.state === 'waiting') {
        p.state = 'rejected';
        p.reason = reason;
        rollback(p);
      }
    },
  };

  framework.beginBatch(tasks, snapshot);
  const queue = framework.sortTasks(tasks);
  const next = nextTask(framework, queue);
  for (let at = 0; at < queue.length; at++) {
    const task = next(at);
    const result = framework.runCycle(task, snapshot, cycle);
    if (result.kind === 'unplaceable') {
      slots.push({ taskId: task.id, explanation: result.explanation });
      continue;
    }
    const { ctx, node } = result;
    const assumption = snapshot.assume(node, task, options.now);
    const p: Pending = { ctx, assumption, explanation: result.explanation, state: 'allowed' };
    let rejected: Status | undefined;
    let reserved = 0;
    for (const r of framework.reserve) {
      const s = r.reserve(ctx, node);
      reserved++;
      if (s !== undefined && s.code !== 'Success') {
        rejected = withPlugin(s, r.name);
        break;
      }
    }
    if (rejected === undefined) {
      for (const pm of framework.permit) {
        const s = pm.permit(ctx, node, waiting);
        if (s === undefined || s.code === 'Success') continue;
        if (s.code === 'Wait') p.state = 'waiting';
        else {
          rejected = withPlugin(s, pm.name);
          break;
        }
      }
    }
    if (rejected !== undefined) {
      for (let i = reserved - 1; i >= 0; i--) framework.reserve[i]!.unreserve(ctx, node);
      snapshot.forget(assumption);
      slots.push(failed(ctx, rejected));
      continue;
    }
    pending.set(task.id, p);
    if (p.state === 'waiting') waitingOrder.push(p);
    slots.push(p);
  }
  // Whatever still waits at the end of the batch is rejected (upstream: the permit wait times out).
  for (const p of waitingOrder)
    if (p.state === 'waiting') waiting.reject(p.ctx.task.id, 'permit wait not resolved in this batch');

  const placements: Placement[] = [];
  const unplaceable: Unplaceable[] = [];
  for (const s of slots) {
    if ('explanation' in s && !('ctx' in s)) {
      unplaceable.push(s);
      continue;
    }
    const p = s as Pending;
    if (p.state === 'rejected') {
      unplaceable.push(
        failed(p.ctx, {
          code: 'Unschedulable',
          reasons: [p.reason ?? 'rejected at permit'],
          plugin: 'permit',
        }),
      );
      continue;
    }
    const node = p.assumption.node;
    placements.push({
      taskId: p.ctx.task.id,
      nodeId: snapshot.ids[node]!,
      hostname: snapshot.hostnames[node]!,
      ports: p.assumption.ports,
      explanation: p.explanation,
    });
  }
  return { placements, unplaceable };
}
