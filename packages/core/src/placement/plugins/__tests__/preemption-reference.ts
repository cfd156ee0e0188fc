/**
 * Test helper (not built into the package): kube-scheduler's preemption choice computed the
 * plain way, with no bounds, no pruning and no shared code with `DefaultPreemption`'s search. On
 * every node: take the lower-priority tasks not nominated before, split off (most important
 * first) those whose eviction breaks their service's disruption budget, evict them all, check the
 * task fits by plain arithmetic (cpu, memory, disk, gpus, extended resources, fixed and dynamic
 * host ports), reprieve budget-breaking tasks first, then the others, most important first, while
 * it still fits. Among the candidates the pick is Berth's order (kube-scheduler's
 * `pickOneNodeForPreemption`): fewest budget violations, lowest highest-victim priority, smallest
 * sum of victim priorities (each offset by 2^31), fewest victims, latest earliest start of the
 * highest-priority victims (unknown starts left out; none known = -Infinity), first node. Strict
 * budgets leave out every candidate that breaks one.
 */
import type { PortRanges } from '../../../resources/index.ts';
import type { PostFilterPlugin, PostFilterResult } from '../../plugin.ts';
import { moreImportant, type RunningTask, type Snapshot, type SnapshotNodeInput } from '../../snapshot.ts';
import type { PlacementTask } from '../../task.ts';
import type { DisruptionBudget } from '../preemption.ts';

const OFFSET = 2 ** 31;

/** One node as the reference sees it: what is free now and what runs there. */
export interface ReferenceNode {
  readonly id: string;
  readonly cpu: number;
  readonly memory: number;
  readonly disk: number;
  readonly gpus: number;
  readonly extended: ReadonlyMap<string, number>;
  readonly freePorts: PortRanges | undefined;
  readonly tasks: readonly RunningTask[];
}

export interface ReferenceOptions {
  readonly budgets?: Readonly<Record<string, DisruptionBudget>>;
  readonly budgetMode?: 'strict' | 'prefer';
  /** Victims nominated earlier (neither freed nor chosen again; they count against budgets). */
  readonly nominated?: ReadonlySet<string>;
}

export interface ReferenceChoice {
  readonly node: string;
  readonly victims: string[];
}

/** One node's proposal and its ranking key. */
export interface ReferenceCandidate {
  readonly node: number;
  readonly victims: RunningTask[];
  readonly violations: number;
  readonly highest: number;
  readonly sum: number;
  readonly earliest: number;
}

/** The ranking criteria in order; the first on which two candidates differ decides. */
export type Criterion = 'violations' | 'highest' | 'sum' | 'count' | 'start' | 'node';

/** Which criterion puts `a` before `b` (or `b` before `a`). */
export function decidingCriterion(a: ReferenceCandidate, b: ReferenceCandidate): Criterion {
  if (a.violations !== b.violations) return 'violations';
  if (a.highest !== b.highest) return 'highest';
  if (a.sum !== b.sum) return 'sum';
  if (a.victims.length !== b.victims.length) return 'count';
  if (a.earliest !== b.earliest) return 'start';
  return 'node';
}

/** Negative when `a` is the better pick. */
export function compareReference(a: ReferenceCandidate, b: ReferenceCandidate): number {
  switch (decidingCriterion(a, b)) {
    case 'violations':
      return a.violations - b.violations;
    case 'highest':
      return a.highest - b.highest;
    case 'sum':
      return a.sum - b.sum;
    case 'count':
      return a.victims.length - b.victims.length;
    case 'start':
      return a.earliest > b.earliest ? -1 : 1;
    case 'node':
      return a.node - b.node;
  }
}

function num(v: number | undefined): number {
  return v ?? 0;
}

/** Reference nodes from snapshot input (free = allocatable − allocated). */
export function referenceNodesOf(nodes: readonly SnapshotNodeInput[]): ReferenceNode[] {
  return nodes.map((n) => {
    const a = n.allocatable;
    const u = n.allocated ?? {};
    const extended = new Map<string, number>();
    const add = (m: PlacementResourceMap | undefined, sign: number) => {
      if (m === undefined) return;
      const entries = m instanceof Map ? [...m] : Object.entries(m);
      for (const [name, v] of entries) extended.set(name, (extended.get(name) ?? 0) + sign * v);
    };
    add(a.extended, 1);
    add(u.extended, -1);
    return {
      id: n.id,
      cpu: num(a.cpu) - num(u.cpu),
      memory: num(a.memory) - num(u.memory),
      disk: num(a.disk) - num(u.disk),
      gpus: num(a.gpus) - num(u.gpus),
      extended,
      freePorts: n.freePorts,
      tasks: n.tasks ?? [],
    };
  });
}

type PlacementResourceMap = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

/** Reference nodes read from a snapshot as it is now (free = alloc − used per column). */
export function referenceNodesOfSnapshot(s: Snapshot, extendedNames: readonly string[]): ReferenceNode[] {
  return Array.from({ length: s.size }, (_, i) => {
    const extended = new Map<string, number>();
    for (const name of extendedNames) {
      const c = s.resource(name);
      extended.set(name, c === undefined ? 0 : c.alloc[i]! - c.used[i]!);
    }
    return {
      id: s.ids[i]!,
      cpu: s.cpu.alloc[i]! - s.cpu.used[i]!,
      memory: s.memory.alloc[i]! - s.memory.used[i]!,
      disk: s.disk.alloc[i]! - s.disk.used[i]!,
      gpus: s.gpus.alloc[i]! - s.gpus.used[i]!,
      extended,
      freePorts: s.freePorts(i),
      tasks: [...s.tasks(i)],
    };
  });
}

/** Whether `task` fits on `n` once every task of `evicted` is gone. */
function fitsAfter(n: ReferenceNode, task: PlacementTask, evicted: readonly RunningTask[]): boolean {
  const r = task.requests;
  let cpu = n.cpu;
  let memory = n.memory;
  let disk = n.disk;
  let gpus = n.gpus;
  const extended = new Map(n.extended);
  const released = new Set<number>();
  for (const t of evicted) {
    const q = t.requests;
    if (q !== undefined) {
      cpu += q.cpu;
      memory += q.memory;
      disk += q.disk;
      gpus += q.gpus;
      for (const [name, v] of q.extended) extended.set(name, (extended.get(name) ?? 0) + v);
    }
    for (const port of t.ports ?? []) released.add(port);
  }
  if (cpu < r.cpu || memory < r.memory || disk < r.disk || gpus < r.gpus) return false;
  for (const [name, v] of r.extended) if ((extended.get(name) ?? 0) < v) return false;
  if (task.ports.length === 0) return true;
  const free = (port: number) => n.freePorts?.contains(port) === true || released.has(port);
  for (const port of task.fixedPorts) if (!free(port)) return false;
  let count = n.freePorts?.size ?? 0;
  for (const port of released) if (n.freePorts?.contains(port) !== true) count++;
  return count - task.fixedPorts.length >= task.dynamicPorts;
}

/** Every node's proposal, computed the plain kube-scheduler way, best first. */
export function referenceCandidates(
  input: readonly SnapshotNodeInput[] | readonly ReferenceNode[],
  task: PlacementTask,
  options: ReferenceOptions = {},
): ReferenceCandidate[] {
  const nodes = nodesOfInput(input);
  const budgets = options.budgets ?? {};
  const nominated = options.nominated ?? new Set<string>();
  const strict = (options.budgetMode ?? 'strict') === 'strict';
  const down = new Map<string, number>();
  for (const n of nodes)
    for (const t of n.tasks)
      if (nominated.has(t.id) && t.app !== undefined) down.set(t.app, (down.get(t.app) ?? 0) + 1);
  const found: ReferenceCandidate[] = [];
  nodes.forEach((n, i) => {
    const eligible = n.tasks
      .filter((t) => t.priority < task.priority && !nominated.has(t.id))
      .sort(moreImportant);
    if (eligible.length === 0) return;
    const left = new Map<string, number>();
    const breaks = new Set<RunningTask>();
    for (const t of eligible) {
      const b = t.app === undefined ? undefined : budgets[t.app];
      if (b === undefined) continue;
      const k = (left.get(t.app!) ?? b.maxUnavailable - (b.unavailable ?? 0) - (down.get(t.app!) ?? 0)) - 1;
      left.set(t.app!, k);
      if (k < 0) breaks.add(t);
    }
    const lower = [...eligible.filter((t) => breaks.has(t)), ...eligible.filter((t) => !breaks.has(t))];
    const evicted = new Set(lower);
    if (!fitsAfter(n, task, [...evicted])) return;
    for (const t of lower) {
      evicted.delete(t);
      if (!fitsAfter(n, task, [...evicted])) evicted.add(t);
    }
    const victims = [...evicted].sort(moreImportant);
    if (victims.length === 0) return;
    const violations = victims.filter((v) => breaks.has(v)).length;
    if (strict && violations > 0) return;
    const highest = victims[0]!.priority;
    let earliest = Number.POSITIVE_INFINITY;
    for (const v of victims)
      if (v.priority === highest && v.startTime !== undefined) earliest = Math.min(earliest, v.startTime);
    found.push({
      node: i,
      victims,
      violations,
      highest,
      sum: victims.reduce((s, v) => s + v.priority + OFFSET, 0),
      earliest: earliest === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : earliest,
    });
  });
  return found.sort(compareReference);
}

function nodesOfInput(
  input: readonly SnapshotNodeInput[] | readonly ReferenceNode[],
): readonly ReferenceNode[] {
  return input.length > 0 && 'allocatable' in input[0]!
    ? referenceNodesOf(input as readonly SnapshotNodeInput[])
    : (input as readonly ReferenceNode[]);
}

/** The plain kube-scheduler choice over every node (undefined: no node works). */
export function referencePreemption(
  input: readonly SnapshotNodeInput[] | readonly ReferenceNode[],
  task: PlacementTask,
  options: ReferenceOptions = {},
): ReferenceChoice | undefined {
  const nodes = nodesOfInput(input);
  const best = referenceCandidates(nodes, task, options)[0];
  if (best === undefined) return undefined;
  return { node: nodes[best.node]!.id, victims: best.victims.map((v) => v.id) };
}

/**
 * The reference as a post-filter, to stand in for `DefaultPreemption` in a whole batch: it reads
 * the snapshot as it is at each failed cycle (tasks placed earlier in the batch included) and
 * keeps its own book of the victims it nominated on each snapshot.
 */
export function referencePreemptionPlugin(
  options: Omit<ReferenceOptions, 'nominated'> & { readonly extended?: readonly string[] } = {},
): PostFilterPlugin {
  const books = new WeakMap<Snapshot, Set<string>>();
  return {
    name: 'DefaultPreemption',
    postFilter(ctx): PostFilterResult {
      const s = ctx.snapshot;
      let book = books.get(s);
      if (book === undefined) {
        book = new Set();
        books.set(s, book);
      }
      const nodes = referenceNodesOfSnapshot(s, options.extended ?? []);
      const choice = referencePreemption(nodes, ctx.task, { ...options, nominated: book });
      if (choice === undefined) return { status: { code: 'Unschedulable', reasons: ['no victims'] } };
      for (const v of choice.victims) book.add(v);
      return {
        status: { code: 'Success', reasons: [] },
        nominatedNodeId: choice.node,
        victims: choice.victims,
      };
    },
  };
}
