/**
 * The extension points of the Kubernetes scheduling framework, one small interface each. A plugin
 * is a plain object with a `name` that implements any of them; which ones is decided once, when a
 * profile is built. Node arguments are indexes into the snapshot.
 */
import type { CycleState } from './cycle-state.ts';
import type { Snapshot } from './snapshot.ts';
import type { PluginStatus, Status } from './status.ts';
import type { PlacementTask } from './task.ts';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** What every plugin call of one cycle sees. */
export interface PlacementContext {
  readonly task: PlacementTask;
  readonly snapshot: Snapshot;
  readonly state: CycleState;
}

export interface Plugin {
  readonly name: string;
}

/**
 * Opt-in to the framework's indexed path. When every score plugin of a profile gives a key for a
 * task, the framework keeps, per snapshot and per key (a task *shape*), the nodes that pass the
 * keyed filters and their total scores in an index that it updates only at the nodes changed
 * since (a placement changes one node), instead of scanning every node for every task. Filters
 * without a key (counting tasks across nodes, say) then run over the nodes the index found
 * feasible. The result is the same node, score, ties and explanation as the full scan.
 *
 * A plugin that implements `shapeKey` promises, for tasks with equal keys:
 * - `filter`/`filterAll` and `score`/`scoreAll` depend only on the key and the node's own state
 *   (labels, taints, unschedulable, allocatable, allocated, free ports) — not on other nodes or
 *   on the tasks running anywhere;
 * - scores are integers (upstream's are int64), and `normalizeScore` is absent or is what
 *   `normalization` names (or `preScore` skips the plugin for every task it gives a key for);
 * - `preScore` reads neither its candidates nor their count (the indexed path passes none).
 */
export interface ShapeAware {
  /**
   * What of the task this plugin's filter or score reads, as text (`''` when nothing), or
   * `undefined` when, for this task, it also looks at other nodes or tasks (counts per domain).
   * A filter without a key runs after the index, over the nodes it found feasible; a score
   * without a key makes the cycle scan every node.
   */
  shapeKey?(ctx: PlacementContext, point: 'filter' | 'score'): string | undefined;
  /**
   * For score plugins whose `normalizeScore` is `normalizeToMax` over the feasible nodes:
   * `'max'`, or `'reverse-max'` for the reversed form.
   */
  readonly normalization?: 'max' | 'reverse-max';
}

/** Orders the queue: `less(a, b)` is true when `a` should be placed before `b`. One per profile. */
export interface QueueSortPlugin extends Plugin {
  less(a: PlacementTask, b: PlacementTask): boolean;
  /**
   * True when the order changes as the batch is placed (fair share): `place` then picks the
   * next task with `less` after every reservation instead of sorting the queue once.
   */
  readonly dynamic?: boolean;
  /**
   * For a dynamic queue sort: tasks of one lane keep their relative order while the batch is
   * placed (only lanes move against each other), so `place` compares the heads of the lanes
   * after each reservation instead of every task left. Without it, every task left is compared.
   */
  lane?(task: PlacementTask): string;
}

/**
 * Any plugin may implement it: called once at the start of every `place` batch, before the
 * queue is ordered, with all of the batch's tasks (gangs count their members here; fair-share
 * sorts read the snapshot's holdings).
 */
export interface BatchPlugin extends Plugin {
  beginBatch(tasks: readonly PlacementTask[], snapshot: Snapshot): void;
}

/**
 * What a plugin factory gets besides its args (kube's framework handle): the built profile's
 * pre-filters and filters, so plugins that run what-ifs (preemption) check exactly what the
 * profile checks. Read them when the plugin runs, not in the factory (they are complete only
 * once every plugin is built).
 */
export interface FrameworkHandle {
  readonly profileName: string;
  readonly preFilters: readonly PreFilterPlugin[];
  readonly filters: readonly FilterPlugin[];
}

/** Runs once per task before filtering. `Skip` skips this plugin's filter for the task. */
export interface PreFilterPlugin extends Plugin {
  preFilter(ctx: PlacementContext): PluginStatus;
}

export interface FilterPlugin extends Plugin, ShapeAware {
  /** Whether the task fits on `node`, with countable reasons when it does not. */
  filter(ctx: PlacementContext, node: number): PluginStatus;
  /**
   * Optional fast path over many nodes: keep (in order, in place) the nodes of
   * `candidates[0..count)` that pass and return how many are left. Must agree with `filter`.
   */
  filterAll?(ctx: PlacementContext, candidates: Int32Array, count: number): number;
}

/** Per-node outcome of filtering, for "why is this pending?". */
export type NodeStatusMap = ReadonlyMap<string, Status>;

export interface PostFilterResult {
  readonly status: Status;
  /** A node that would fit once victims are evicted (preemption). */
  readonly nominatedNodeId?: string;
  readonly victims?: readonly string[];
}

/** Runs when no node fits (preemption hooks in here). */
export interface PostFilterPlugin extends Plugin {
  postFilter(ctx: PlacementContext, statuses: NodeStatusMap): PostFilterResult;
}

/** Runs once per task over the feasible nodes. `Skip` skips this plugin's score for the task. */
export interface PreScorePlugin extends Plugin {
  preScore(ctx: PlacementContext, candidates: Int32Array, count: number): PluginStatus;
}

export interface ScorePlugin extends Plugin, ShapeAware {
  /** A score for `node` (0–100 after normalisation; the framework clamps). */
  score(ctx: PlacementContext, node: number): number;
  /** Optional fast path: `out[k] = score(candidates[k])` for k < count. Must agree with `score`. */
  scoreAll?(ctx: PlacementContext, candidates: Int32Array, count: number, out: Float64Array): void;
  /** Rescales `scores[0..count)` (aligned with `candidates`) in place, e.g. to 0–100 over the max. */
  normalizeScore?(ctx: PlacementContext, candidates: Int32Array, count: number, scores: Float64Array): void;
}

/** Book-keeping when a node is chosen; `unreserve` undoes it if a later step fails. */
export interface ReservePlugin extends Plugin {
  reserve(ctx: PlacementContext, node: number): PluginStatus;
  unreserve(ctx: PlacementContext, node: number): void;
}

/** Tasks held at permit (status `Wait`) until a plugin allows or rejects them (gangs). */
export interface WaitingTasks {
  /** Ids of the tasks currently waiting, in the order they started waiting. */
  list(): readonly WaitingTask[];
  allow(taskId: string): void;
  reject(taskId: string, reason: string): void;
}

export interface WaitingTask {
  readonly task: PlacementTask;
  readonly nodeId: string;
}

export interface PermitPlugin extends Plugin {
  permit(ctx: PlacementContext, node: number, waiting: WaitingTasks): PluginStatus;
}

export type AnyPlugin = Plugin &
  Partial<
    Pick<QueueSortPlugin, 'less' | 'dynamic' | 'lane'> &
      Pick<BatchPlugin, 'beginBatch'> &
      Pick<PreFilterPlugin, 'preFilter'> &
      Pick<FilterPlugin, 'filter' | 'filterAll'> &
      Pick<PostFilterPlugin, 'postFilter'> &
      Pick<PreScorePlugin, 'preScore'> &
      Pick<ScorePlugin, 'score' | 'scoreAll' | 'normalizeScore'> &
      Pick<ReservePlugin, 'reserve' | 'unreserve'> &
      Pick<PermitPlugin, 'permit'> &
      ShapeAware
  >;
