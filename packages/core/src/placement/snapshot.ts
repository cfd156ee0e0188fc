/**
 * A snapshot of the cluster's nodes, laid out for the placement hot loop: one typed array per
 * resource (struct of arrays), interned attribute columns, taint classes, and per-app / per-
 * selector task counters. `assume` and `forget` update it incrementally, so every task of a batch
 * sees the placements made before it.
 */
import { BerthError } from '../cluster/errors.ts';
import { PortRanges } from '../resources/index.ts';
import type { TaintEffect } from '../spec/index.ts';
import type { PlacementResources, PlacementResourcesInput, PlacementTask, TaskAffinityRule } from './task.ts';
import { toPlacementResources } from './task.ts';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

/** A task already running (or placed earlier in this batch) on a node. */
export interface RunningTask {
  readonly id: string;
  /** The service/app it belongs to (Marathon constraints count tasks of the same app). */
  readonly app?: string;
  readonly tenant?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly priority: number;
  /** Epoch milliseconds; preemption prefers to keep older tasks. */
  readonly startTime?: number;
  readonly requests?: PlacementResources;
  /**
   * The task's required anti-affinity: no task it matches may join it in the same domain. The
   * engine checks it against incoming tasks (symmetry, as kube-scheduler's InterPodAffinity does).
   */
  readonly antiAffinity?: readonly TaskAffinityRule[];
  /** Host ports the task holds on its node; evicting it frees them. */
  readonly ports?: readonly number[];
}

/** What `evict` removed, so `restore` can put the very same task back where it was. */
export interface Eviction {
  readonly node: number;
  readonly task: RunningTask;
  /** Its position in the node's task list. */
  readonly at: number;
}

/**
 * kube-scheduler's `MoreImportantPod`: negative when `a` is more important — higher priority,
 * then started earlier (unknown = newest), then the smaller id.
 */
export function moreImportant(a: RunningTask, b: RunningTask): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const sa = a.startTime ?? Number.POSITIVE_INFINITY;
  const sb = b.startTime ?? Number.POSITIVE_INFINITY;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A node's running tasks by priority, lowest first, with running totals: `cpu[k]` is what the
 * `k` lowest-priority tasks request together (likewise memory, disk, gpus and host ports).
 * Preemption reads what evicting every task below a priority would free in O(log tasks).
 */
export interface PriorityTotals {
  /**
   * The node's tasks least important first (the reverse of `moreImportant`, ties by their
   * position on the node, later first): walking it backwards from any priority boundary gives the
   * order preemption reprieves in, without sorting per call.
   */
  readonly tasks: readonly RunningTask[];
  /** Ascending (the priorities of `tasks`). */
  readonly priorities: Float64Array;
  /** Length `priorities.length + 1`; index 0 is 0. */
  readonly cpu: Float64Array;
  readonly memory: Float64Array;
  readonly disk: Float64Array;
  readonly gpus: Float64Array;
  readonly ports: Float64Array;
  /** Start times in the order of `priorities` (-Infinity when unknown). */
  readonly starts: Float64Array;
  /**
   * Per resource (and host ports), the tasks' positions in `priorities` ordered by what they
   * request, largest first: how few evictions could free an amount (preemption's victim bound).
   */
  readonly largestFirst: {
    readonly cpu: Int32Array;
    readonly memory: Int32Array;
    readonly disk: Int32Array;
    readonly gpus: Int32Array;
    readonly ports: Int32Array;
  };
}

/**
 * For every node, what evicting its tasks below each priority in use frees, as one column per
 * level and figure over all nodes, so a preemption search reads it for thousands of nodes in
 * sequence without touching their task lists. Kept per node and re-read only for nodes changed
 * since.
 */
export interface EvictableByLevel {
  /** The distinct priorities of the running tasks, ascending. */
  readonly levels: Float64Array;
  /**
   * `columns[k * EVICTABLE_FIELDS + EVICTABLE.<figure>][node]`, for the node's tasks of priority
   * below `levels[k]` (`k = levels.length`: all its tasks): their summed cpu, memory, disk, gpus
   * and host ports (`EVICTABLE.cpu` …), how many they are (`count`), the largest cpu, memory,
   * disk, gpus and ports of one of them (`maxCpu` …), and the latest known start of the node's
   * tasks of priority `levels[k - 1]` exactly (`latestStart`; -Infinity when none is known, and
   * for `k = 0`).
   */
  readonly columns: readonly Float64Array[];
}

/** Offsets of the numbers in a row of `EvictableByLevel.rows`. */
export const EVICTABLE = {
  cpu: 0,
  memory: 1,
  disk: 2,
  gpus: 3,
  ports: 4,
  count: 5,
  maxCpu: 6,
  maxMemory: 7,
  maxDisk: 8,
  maxGpus: 9,
  maxPorts: 10,
  latestStart: 11,
} as const;
/** Numbers per row of `EvictableByLevel.rows`. */
export const EVICTABLE_FIELDS = 12;
/** `EvictableByLevel.rows` stays below this many numbers (16 MiB); more levels are not tracked. */
const EVICTABLE_BUDGET = 2 ** 21;
const MAX_LEVELS = 64;

interface EvictableCache {
  data: EvictableByLevel | undefined;
  /** Per node: the stamp its rows were computed at (NaN: never). */
  at: Float64Array;
  /** Set once more priorities are in use than the budget allows. */
  tooMany: boolean;
}

/** Positions 0..k-1 ordered by the step `sums[i + 1] - sums[i]`, largest first (ties by position). */
function largestSteps(sums: Float64Array, order: Int32Array): Int32Array {
  const k = order.length;
  for (let i = 0; i < k; i++) order[i] = i;
  return order.sort((a, b) => sums[b + 1]! - sums[b]! - (sums[a + 1]! - sums[a]!) || a - b);
}

/** A running task with required anti-affinity, and its node. */
export interface AntiAffinityHolder {
  readonly node: number;
  readonly task: RunningTask;
}

export interface SnapshotNodeInput {
  readonly id: string;
  /** Defaults to the id. Marathon's `hostname` field reads it. */
  readonly hostname?: string;
  /** Node labels (Kubernetes) or agent attributes as strings (Mesos). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  readonly allocatable: PlacementResourcesInput;
  /** Already requested by running tasks (default: nothing). */
  readonly allocated?: PlacementResourcesInput;
  /** Host ports still free on the node. */
  readonly freePorts?: PortRanges;
  readonly unschedulable?: boolean;
  readonly tasks?: readonly RunningTask[];
}

/** Values of one field (a label, an attribute, or `hostname`) interned to small integers. */
export interface AttributeColumn {
  readonly field: string;
  /** Per node: index into `values`, or -1 when the node lacks the field. */
  readonly ids: Int32Array;
  readonly values: readonly string[];
}

/** Counts of matching tasks per node and per value of any column, kept current by assume/forget. */
export class TaskCounter {
  readonly key: string;
  readonly matches: (task: RunningTask) => boolean;
  readonly perNode: Int32Array;
  total = 0;
  readonly #byColumn = new Map<AttributeColumn, Int32Array>();

  constructor(key: string, matches: (task: RunningTask) => boolean, size: number) {
    this.key = key;
    this.matches = matches;
    this.perNode = new Int32Array(size);
  }

  /** Matching tasks per value id of `column` (tasks on nodes lacking the field are not counted). */
  byValue(column: AttributeColumn): Int32Array {
    let counts = this.#byColumn.get(column);
    if (counts === undefined) {
      counts = new Int32Array(column.values.length);
      const per = this.perNode;
      for (let i = 0; i < per.length; i++) {
        const c = per[i]!;
        if (c !== 0) {
          const v = column.ids[i]!;
          if (v >= 0) counts[v]! += c;
        }
      }
      this.#byColumn.set(column, counts);
    }
    return counts;
  }

  /** @internal */
  bump(node: number, delta: number): void {
    this.perNode[node]! += delta;
    this.total += delta;
    for (const [column, counts] of this.#byColumn) {
      const v = column.ids[node]!;
      if (v >= 0) counts[v]! += delta;
    }
  }

  /** @internal */
  copy(size: number): TaskCounter {
    const c = new TaskCounter(this.key, this.matches, size);
    c.perNode.set(this.perNode);
    c.total = this.total;
    return c;
  }
}

/** What `assume` changed, so `forget` can undo it exactly. */
export interface Assumption {
  readonly node: number;
  readonly task: PlacementTask;
  /** Host ports given to the task, in the order of `task.ports`. */
  readonly ports: readonly number[];
}

/** A read-only view of one node, for explanations and tests. */
export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly allocatable: PlacementResources;
  readonly allocated: PlacementResources;
  readonly freePorts: PortRanges;
  readonly tasks: readonly RunningTask[];
}

const COMPONENT = 'core/placement';
/** Source of node stamps, unique across snapshots so clones can share per-node caches. */
let stamps = 0;
const STANDARD = ['cpu', 'memory', 'disk', 'gpus'] as const;
export type StandardResource = (typeof STANDARD)[number];

/** Allocatable and allocated amounts of one resource across all nodes. */
export interface ResourceColumn {
  readonly alloc: Float64Array;
  readonly used: Float64Array;
}

function taintKey(t: Taint): string {
  return `${t.key}=${t.value ?? ''}:${t.effect}`;
}

export class Snapshot {
  readonly size: number;
  readonly ids: readonly string[];
  readonly hostnames: readonly string[];
  readonly cpu: ResourceColumn;
  readonly memory: ResourceColumn;
  readonly disk: ResourceColumn;
  readonly gpus: ResourceColumn;
  /** Free host port count per node (kept with `freePorts`). */
  readonly freePortCount: Float64Array;
  readonly unschedulable: Uint8Array;
  /** Per node: index into `taintClasses` (0 = no taints). */
  readonly taintClass: Int32Array;
  readonly taintClasses: readonly (readonly Taint[])[];
  readonly #labels: readonly Readonly<Record<string, string>>[];
  readonly #extended: Map<string, ResourceColumn>;
  readonly #freePorts: PortRanges[];
  readonly #tasks: RunningTask[][];
  readonly #index: Map<string, number>;
  readonly #columns: Map<string, AttributeColumn>;
  readonly #counters: Map<string, TaskCounter>;
  readonly #memo: Map<string, unknown>;
  readonly #holders: AntiAffinityHolder[];
  #version = 0;
  /** Nodes changed by assume/forget/touch, oldest first; `#logBase` is the mark of `#log[0]`. */
  #log = new Int32Array(64);
  #logLength = 0;
  #logBase = 0;
  /** Per node: a stamp unique across all snapshots, renewed on every change of the node. */
  #stamps: Float64Array;
  /** Priority totals by node and the stamp they were built at, shared with clones. */
  #totals: { readonly byNode: (PriorityTotals | undefined)[]; readonly at: Float64Array };
  /** What evicting below each priority frees, by node; shared with clones like `#totals`. */
  #evictable: EvictableCache;

  private constructor(parts: {
    ids: string[];
    hostnames: string[];
    labels: Readonly<Record<string, string>>[];
    cpu: ResourceColumn;
    memory: ResourceColumn;
    disk: ResourceColumn;
    gpus: ResourceColumn;
    extended: Map<string, ResourceColumn>;
    freePorts: PortRanges[];
    freePortCount: Float64Array;
    unschedulable: Uint8Array;
    taintClass: Int32Array;
    taintClasses: (readonly Taint[])[];
    tasks: RunningTask[][];
    index: Map<string, number>;
    columns: Map<string, AttributeColumn>;
    counters: Map<string, TaskCounter>;
    memo: Map<string, unknown>;
  }) {
    this.size = parts.ids.length;
    this.ids = parts.ids;
    this.hostnames = parts.hostnames;
    this.#labels = parts.labels;
    this.cpu = parts.cpu;
    this.memory = parts.memory;
    this.disk = parts.disk;
    this.gpus = parts.gpus;
    this.#extended = parts.extended;
    this.#freePorts = parts.freePorts;
    this.freePortCount = parts.freePortCount;
    this.unschedulable = parts.unschedulable;
    this.taintClass = parts.taintClass;
    this.taintClasses = parts.taintClasses;
    this.#tasks = parts.tasks;
    this.#index = parts.index;
    this.#columns = parts.columns;
    this.#counters = parts.counters;
    this.#memo = parts.memo;
    this.#holders = [];
    this.#stamps = new Float64Array(this.size);
    this.#totals = { byNode: new Array(this.size), at: new Float64Array(this.size) };
    this.#evictable = { data: undefined, at: new Float64Array(this.size).fill(Number.NaN), tooMany: false };
    parts.tasks.forEach((list, node) => {
      for (const task of list)
        if (task.antiAffinity !== undefined && task.antiAffinity.length > 0)
          this.#holders.push({ node, task });
    });
  }

  /** Running tasks (and tasks placed in this batch) that carry required anti-affinity rules. */
  get antiAffinityHolders(): readonly AntiAffinityHolder[] {
    return this.#holders;
  }

  /** Builds a snapshot. Throws SPEC_INVALID (listing every problem) on duplicate ids or bad amounts. */
  static create(nodes: readonly SnapshotNodeInput[]): Snapshot {
    const n = nodes.length;
    const issues: { path: string; message: string }[] = [];
    const col = (): ResourceColumn => ({ alloc: new Float64Array(n), used: new Float64Array(n) });
    const std = { cpu: col(), memory: col(), disk: col(), gpus: col() };
    const extended = new Map<string, ResourceColumn>();
    const ids: string[] = [];
    const hostnames: string[] = [];
    const labels: Readonly<Record<string, string>>[] = [];
    const freePorts: PortRanges[] = [];
    const freePortCount = new Float64Array(n);
    const unschedulable = new Uint8Array(n);
    const taintClass = new Int32Array(n);
    const taintClasses: (readonly Taint[])[] = [[]];
    const classByKey = new Map<string, number>([['', 0]]);
    const tasks: RunningTask[][] = [];
    const index = new Map<string, number>();
    nodes.forEach((node, i) => {
      if (typeof node.id !== 'string' || node.id === '')
        issues.push({ path: `nodes[${i}].id`, message: 'a node needs a non-empty id' });
      else if (index.has(node.id))
        issues.push({ path: `nodes[${i}].id`, message: `duplicate node id ${node.id}` });
      index.set(node.id, i);
      ids.push(node.id);
      hostnames.push(node.hostname ?? node.id);
      labels.push(node.labels ?? {});
      const alloc = toPlacementResources(node.allocatable, `nodes[${i}].allocatable`, issues);
      const used = toPlacementResources(node.allocated, `nodes[${i}].allocated`, issues);
      for (const r of STANDARD) {
        std[r].alloc[i] = alloc[r];
        std[r].used[i] = used[r];
      }
      const ext = (name: string): ResourceColumn => {
        let c = extended.get(name);
        if (c === undefined) {
          c = col();
          extended.set(name, c);
        }
        return c;
      };
      for (const [name, v] of alloc.extended) ext(name).alloc[i] = v;
      for (const [name, v] of used.extended) ext(name).used[i] = v;
      const ports = node.freePorts ?? PortRanges.EMPTY;
      freePorts.push(ports);
      freePortCount[i] = ports.size;
      unschedulable[i] = node.unschedulable === true ? 1 : 0;
      const taints = node.taints ?? [];
      if (taints.length > 0) {
        const key = taints.map(taintKey).sort().join('|');
        let cls = classByKey.get(key);
        if (cls === undefined) {
          cls = taintClasses.length;
          classByKey.set(key, cls);
          taintClasses.push(taints);
        }
        taintClass[i] = cls;
      }
      tasks.push([...(node.tasks ?? [])]);
    });
    if (issues.length > 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `invalid snapshot: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`,
        {
          component: COMPONENT,
          issues,
          hint: 'Give every node a unique id and non-negative integer amounts in base units.',
        },
      );
    }
    return new Snapshot({
      ids,
      hostnames,
      labels,
      ...std,
      extended,
      freePorts,
      freePortCount,
      unschedulable,
      taintClass,
      taintClasses,
      tasks,
      index,
      columns: new Map(),
      counters: new Map(),
      memo: new Map(),
    });
  }

  /** Increases on every assume/forget; caches keyed on it know when to refresh. */
  get version(): number {
    return this.#version;
  }

  /**
   * A position in the log of changed nodes. Every change to a node's allocations, ports or tasks
   * (`assume`, `forget`, `touch`) appends the node; caches remember the mark they are current at.
   */
  get changeMark(): number {
    return this.#logBase + this.#logLength;
  }

  /**
   * The nodes changed since `mark` (oldest first, possibly repeated), or `undefined` when the log
   * no longer reaches back that far (then treat every node as changed). The view is only valid
   * until the next change.
   */
  changedSince(mark: number): Int32Array | undefined {
    if (mark < this.#logBase || mark > this.changeMark) return undefined;
    return this.#log.subarray(mark - this.#logBase, this.#logLength);
  }

  /**
   * Records that `node` changed outside `assume`/`forget` (code that edits the resource columns
   * or tasks directly must call it, so the engine's per-shape indexes see the change).
   */
  touch(node: number): void {
    if (!(node >= 0 && node < this.size)) {
      throw new BerthError('INTERNAL', `touch: no node with index ${node}`, { component: COMPONENT });
    }
    this.#record(node);
    this.#version++;
  }

  #record(node: number): void {
    if (this.#logLength === this.#log.length) {
      if (this.#logLength >= Math.max(65_536, 8 * this.size)) {
        // Forget the history: older marks now read as "everything changed".
        this.#logBase += this.#logLength;
        this.#logLength = 0;
      } else {
        const grown = new Int32Array(this.#log.length * 2);
        grown.set(this.#log);
        this.#log = grown;
      }
    }
    this.#log[this.#logLength++] = node;
    this.#stamps[node] = ++stamps;
  }

  /** The node's running tasks by priority with running totals, rebuilt only after it changed. */
  priorityTotals(node: number): PriorityTotals {
    const v = this.#stamps[node]!;
    const cached = this.#totals.byNode[node];
    if (cached !== undefined && this.#totals.at[node] === v) return cached;
    const own = this.#tasks[node]!;
    const k = own.length;
    const positions = Array.from({ length: k }, (_, i) => i);
    positions.sort((a, b) => moreImportant(own[b]!, own[a]!) || b - a);
    const list = positions.map((i) => own[i]!);
    // One buffer per node for all of it, so a search over many nodes touches few memory areas.
    const floats = 7 * k + 5;
    const buffer = new ArrayBuffer(8 * floats + 4 * 5 * k);
    let offset = 0;
    const f64 = (length: number) => {
      const a = new Float64Array(buffer, offset, length);
      offset += 8 * length;
      return a;
    };
    const priorities = f64(k);
    const cpu = f64(k + 1);
    const memory = f64(k + 1);
    const disk = f64(k + 1);
    const gpus = f64(k + 1);
    const ports = f64(k + 1);
    const starts = f64(k);
    const i32 = () => {
      const a = new Int32Array(buffer, offset, k);
      offset += 4 * k;
      return a;
    };
    for (let i = 0; i < k; i++) {
      const task = list[i]!;
      const r = task.requests;
      priorities[i] = task.priority;
      starts[i] = task.startTime ?? Number.NEGATIVE_INFINITY;
      cpu[i + 1] = cpu[i]! + (r?.cpu ?? 0);
      memory[i + 1] = memory[i]! + (r?.memory ?? 0);
      disk[i + 1] = disk[i]! + (r?.disk ?? 0);
      gpus[i + 1] = gpus[i]! + (r?.gpus ?? 0);
      ports[i + 1] = ports[i]! + (task.ports?.length ?? 0);
    }
    const t: PriorityTotals = {
      tasks: list,
      priorities,
      cpu,
      memory,
      disk,
      gpus,
      ports,
      starts,
      largestFirst: {
        cpu: largestSteps(cpu, i32()),
        memory: largestSteps(memory, i32()),
        disk: largestSteps(disk, i32()),
        gpus: largestSteps(gpus, i32()),
        ports: largestSteps(ports, i32()),
      },
    };
    this.#totals.byNode[node] = t;
    this.#totals.at[node] = v;
    return t;
  }

  /**
   * What evicting the tasks below each priority in use frees on every node (see
   * `EvictableByLevel`), current for this snapshot: only nodes changed since the last call are
   * re-read. Undefined when more distinct priorities are in use than it tracks (64, or fewer on
   * very large clusters so that it stays within 16 MiB).
   */
  evictableByLevel(): EvictableByLevel | undefined {
    const cache = this.#evictable;
    if (cache.tooMany) return undefined;
    if (cache.data === undefined) return this.#relevel() ? cache.data : undefined;
    const at = cache.at;
    const stamps = this.#stamps;
    for (let node = 0; node < this.size; node++) {
      if (at[node] === stamps[node]) continue;
      if (!this.#fillLevels(node, cache.data)) return this.#relevel() ? cache.data : undefined;
      at[node] = stamps[node]!;
    }
    return cache.data;
  }

  /**
   * Starts the level rows over for every node of this snapshot, with the priorities in use now;
   * false (and nothing tracked from then on, for this snapshot and its clones) when there are
   * too many.
   */
  #relevel(): boolean {
    const cache = this.#evictable;
    const wanted = new Set<number>();
    for (let node = 0; node < this.size; node++)
      for (const v of this.priorityTotals(node).priorities) wanted.add(v);
    const levels = Float64Array.from(wanted).sort();
    const width = (levels.length + 1) * EVICTABLE_FIELDS;
    if (levels.length > MAX_LEVELS || width * this.size > EVICTABLE_BUDGET) {
      cache.tooMany = true;
      cache.data = undefined;
      return false;
    }
    const all = new Float64Array(width * this.size);
    const columns = Array.from({ length: width }, (_, c) => all.subarray(c * this.size, (c + 1) * this.size));
    const data: EvictableByLevel = { levels, columns };
    cache.data = data;
    cache.at.fill(Number.NaN);
    for (let node = 0; node < this.size; node++) {
      this.#fillLevels(node, data);
      cache.at[node] = this.#stamps[node]!;
    }
    return true;
  }

  /** Writes node's rows; false when one of its priorities is not among `data.levels`. */
  #fillLevels(node: number, data: EvictableByLevel): boolean {
    const t = this.priorityTotals(node);
    const { priorities: pr, cpu, memory, disk, gpus, ports, starts } = t;
    const { levels, columns } = data;
    let pos = 0;
    let base = 0;
    let maxCpu = 0;
    let maxMemory = 0;
    let maxDisk = 0;
    let maxGpus = 0;
    let maxPorts = 0;
    for (let k = 0; k <= levels.length; k++) {
      const limit = k < levels.length ? levels[k]! : Number.POSITIVE_INFINITY;
      let latest = Number.NEGATIVE_INFINITY;
      // The tasks taken in here all have priority levels[k - 1]; any other is untracked.
      for (; pos < pr.length && pr[pos]! < limit; pos++) {
        if (k === 0 || pr[pos] !== levels[k - 1]) return false;
        maxCpu = Math.max(maxCpu, cpu[pos + 1]! - cpu[pos]!);
        maxMemory = Math.max(maxMemory, memory[pos + 1]! - memory[pos]!);
        maxDisk = Math.max(maxDisk, disk[pos + 1]! - disk[pos]!);
        maxGpus = Math.max(maxGpus, gpus[pos + 1]! - gpus[pos]!);
        maxPorts = Math.max(maxPorts, ports[pos + 1]! - ports[pos]!);
        if (starts[pos]! > latest) latest = starts[pos]!;
      }
      columns[base + EVICTABLE.cpu]![node] = cpu[pos]!;
      columns[base + EVICTABLE.memory]![node] = memory[pos]!;
      columns[base + EVICTABLE.disk]![node] = disk[pos]!;
      columns[base + EVICTABLE.gpus]![node] = gpus[pos]!;
      columns[base + EVICTABLE.ports]![node] = ports[pos]!;
      columns[base + EVICTABLE.count]![node] = pos;
      columns[base + EVICTABLE.maxCpu]![node] = maxCpu;
      columns[base + EVICTABLE.maxMemory]![node] = maxMemory;
      columns[base + EVICTABLE.maxDisk]![node] = maxDisk;
      columns[base + EVICTABLE.maxGpus]![node] = maxGpus;
      columns[base + EVICTABLE.maxPorts]![node] = maxPorts;
      columns[base + EVICTABLE.latestStart]![node] = latest;
      base += EVICTABLE_FIELDS;
    }
    return true;
  }

  /**
   * Takes a running task off `node` as if it ended: frees its requests and host ports and drops
   * it from the counters. `restore` undoes it exactly (same object, same position).
   */
  evict(node: number, id: string): Eviction {
    const list = this.#tasks[node];
    const at = list === undefined ? -1 : list.findIndex((t) => t.id === id);
    if (at < 0) {
      throw new BerthError('INTERNAL', `task ${id} is not running on node ${this.ids[node]}`, {
        component: COMPONENT,
      });
    }
    const [task] = list!.splice(at, 1);
    this.#unbook(node, task!, -1);
    return { node, task: task!, at };
  }

  /** Puts an evicted task back (undo evictions in reverse order to restore the exact order). */
  restore(e: Eviction): void {
    this.#tasks[e.node]!.splice(e.at, 0, e.task);
    this.#unbook(e.node, e.task, 1);
  }

  #unbook(node: number, task: RunningTask, sign: 1 | -1): void {
    const r = task.requests;
    if (r !== undefined) {
      this.cpu.used[node]! += sign * r.cpu;
      this.memory.used[node]! += sign * r.memory;
      this.disk.used[node]! += sign * r.disk;
      this.gpus.used[node]! += sign * r.gpus;
      for (const [name, v] of r.extended) this.#extendedColumn(name).used[node]! += sign * v;
    }
    if (task.ports !== undefined && task.ports.length > 0) {
      const held = PortRanges.fromPorts(task.ports);
      const free = this.#freePorts[node]!;
      this.#setPorts(node, sign < 0 ? free.add(held) : free.sub(held));
    }
    if (task.antiAffinity !== undefined && task.antiAffinity.length > 0) {
      if (sign > 0) this.#holders.push({ node, task });
      else {
        const h = this.#holders.findIndex((x) => x.task === task);
        if (h >= 0) this.#holders.splice(h, 1);
      }
    }
    for (const c of this.#counters.values()) if (c.matches(task)) c.bump(node, sign);
    this.#record(node);
    this.#version++;
  }

  indexOf(id: string): number {
    return this.#index.get(id) ?? -1;
  }

  labels(node: number): Readonly<Record<string, string>> {
    return this.#labels[node]!;
  }

  taints(node: number): readonly Taint[] {
    return this.taintClasses[this.taintClass[node]!]!;
  }

  freePorts(node: number): PortRanges {
    return this.#freePorts[node]!;
  }

  tasks(node: number): readonly RunningTask[] {
    return this.#tasks[node]!;
  }

  /** The column of a standard or extended resource; `undefined` for an extended name no node has. */
  resource(name: string): ResourceColumn | undefined {
    switch (name) {
      case 'cpu':
        return this.cpu;
      case 'memory':
        return this.memory;
      case 'disk':
        return this.disk;
      case 'gpus':
        return this.gpus;
      default:
        return this.#extended.get(name);
    }
  }

  /** Names of the extended resources any node has. */
  get extendedResources(): readonly string[] {
    return [...this.#extended.keys()];
  }

  /**
   * The interned values of a field: `hostname` is the node's hostname (`@hostname` too), any
   * other field a node label / agent attribute. Built once per snapshot (labels never change).
   */
  column(field: string): AttributeColumn {
    let c = this.#columns.get(field);
    if (c === undefined) {
      const ids = new Int32Array(this.size);
      const values: string[] = [];
      const byValue = new Map<string, number>();
      const host = field === 'hostname' || field === '@hostname';
      for (let i = 0; i < this.size; i++) {
        const v = host ? this.hostnames[i] : this.#labels[i]![field];
        if (v === undefined) {
          ids[i] = -1;
          continue;
        }
        let id = byValue.get(v);
        if (id === undefined) {
          id = values.length;
          values.push(v);
          byValue.set(v, id);
        }
        ids[i] = id;
      }
      c = { field, ids, values };
      this.#columns.set(field, c);
    }
    return c;
  }

  /**
   * A counter of the tasks matching `matches` (running ones and those assumed later), created on
   * first use under `key`; the same key must always mean the same predicate.
   */
  counter(key: string, matches: (task: RunningTask) => boolean): TaskCounter {
    let c = this.#counters.get(key);
    if (c === undefined) {
      c = new TaskCounter(key, matches, this.size);
      for (let i = 0; i < this.size; i++) {
        let k = 0;
        for (const t of this.#tasks[i]!) if (matches(t)) k++;
        if (k !== 0) c.bump(i, k);
      }
      this.#counters.set(key, c);
    }
    return c;
  }

  /**
   * Data derived only from what never changes in a snapshot (labels, taints, ids), computed once.
   * Plugins use it for node-selector masks, toleration tables and the like.
   */
  memo<T>(key: string, compute: () => T): T {
    if (this.#memo.has(key)) return this.#memo.get(key) as T;
    const v = compute();
    this.#memo.set(key, v);
    return v;
  }

  /**
   * Books `task` onto `node`: adds its requests, takes its fixed and dynamic host ports, records
   * it among the node's tasks and in every counter. The caller has checked that it fits.
   */
  assume(node: number, task: PlacementTask, startTime?: number): Assumption {
    const r = task.requests;
    this.cpu.used[node]! += r.cpu;
    this.memory.used[node]! += r.memory;
    this.disk.used[node]! += r.disk;
    this.gpus.used[node]! += r.gpus;
    for (const [name, v] of r.extended) this.#extendedColumn(name).used[node]! += v;
    let ports: number[] = [];
    if (task.ports.length > 0) {
      const free = this.#freePorts[node]!;
      const fixed = PortRanges.fromPorts(task.fixedPorts);
      const dynamic = free.sub(fixed).take(task.dynamicPorts);
      if (!free.containsAll(fixed) || dynamic === undefined) {
        throw new BerthError(
          'INTERNAL',
          `node ${this.ids[node]} has not the host ports task ${task.id} needs`,
          {
            component: COMPONENT,
          },
        );
      }
      const dyn: number[] = [];
      for (const range of dynamic.ranges) for (let p = range.begin; p <= range.end; p++) dyn.push(p);
      let d = 0;
      ports = task.ports.map((p) => p.hostPort ?? dyn[d++]!);
      this.#setPorts(node, free.sub(fixed.add(dynamic)));
    }
    const running: RunningTask = {
      id: task.id,
      app: task.app,
      tenant: task.tenant,
      labels: task.labels,
      priority: task.priority,
      requests: task.requests,
      ...(startTime === undefined ? {} : { startTime }),
      ...(task.taskAntiAffinity.length === 0 ? {} : { antiAffinity: task.taskAntiAffinity }),
      ...(ports.length === 0 ? {} : { ports }),
    };
    this.#tasks[node]!.push(running);
    if (running.antiAffinity !== undefined) this.#holders.push({ node, task: running });
    for (const c of this.#counters.values()) if (c.matches(running)) c.bump(node, 1);
    this.#record(node);
    this.#version++;
    return { node, task, ports };
  }

  /** Undoes an `assume` (a failed permit, a rejected gang, a preemption what-if). */
  forget(a: Assumption): void {
    const { node, task } = a;
    const list = this.#tasks[node]!;
    const at = list.findIndex((t) => t.id === task.id);
    if (at < 0) {
      throw new BerthError('INTERNAL', `task ${task.id} is not assumed on node ${this.ids[node]}`, {
        component: COMPONENT,
      });
    }
    const [running] = list.splice(at, 1);
    if (running!.antiAffinity !== undefined) {
      const h = this.#holders.findIndex((x) => x.task === running);
      if (h >= 0) this.#holders.splice(h, 1);
    }
    const r = task.requests;
    this.cpu.used[node]! -= r.cpu;
    this.memory.used[node]! -= r.memory;
    this.disk.used[node]! -= r.disk;
    this.gpus.used[node]! -= r.gpus;
    for (const [name, v] of r.extended) this.#extendedColumn(name).used[node]! -= v;
    if (a.ports.length > 0) this.#setPorts(node, this.#freePorts[node]!.add(PortRanges.fromPorts(a.ports)));
    for (const c of this.#counters.values()) if (c.matches(running!)) c.bump(node, -1);
    this.#record(node);
    this.#version++;
  }

  #setPorts(node: number, ports: PortRanges): void {
    this.#freePorts[node] = ports;
    this.freePortCount[node] = ports.size;
  }

  #extendedColumn(name: string): ResourceColumn {
    let c = this.#extended.get(name);
    if (c === undefined) {
      c = { alloc: new Float64Array(this.size), used: new Float64Array(this.size) };
      this.#extended.set(name, c);
    }
    return c;
  }

  node(i: number): NodeView {
    const amounts = (pick: 'alloc' | 'used'): PlacementResources => {
      const extended = new Map<string, number>();
      for (const [name, c] of this.#extended) if (c[pick][i]! !== 0) extended.set(name, c[pick][i]!);
      return {
        cpu: this.cpu[pick][i]!,
        memory: this.memory[pick][i]!,
        disk: this.disk[pick][i]!,
        gpus: this.gpus[pick][i]!,
        extended,
      };
    };
    return {
      id: this.ids[i]!,
      hostname: this.hostnames[i]!,
      labels: this.#labels[i]!,
      taints: this.taints(i),
      unschedulable: this.unschedulable[i] === 1,
      allocatable: amounts('alloc'),
      allocated: amounts('used'),
      freePorts: this.#freePorts[i]!,
      tasks: this.#tasks[i]!,
    };
  }

  /** An independent copy: placing on it leaves this snapshot untouched. */
  clone(): Snapshot {
    const copyCol = (c: ResourceColumn): ResourceColumn => ({ alloc: c.alloc, used: c.used.slice() });
    const extended = new Map<string, ResourceColumn>();
    for (const [k, c] of this.#extended) extended.set(k, copyCol(c));
    const counters = new Map<string, TaskCounter>();
    for (const [k, c] of this.#counters) counters.set(k, c.copy(this.size));
    return new Snapshot({
      ids: this.ids as string[],
      hostnames: this.hostnames as string[],
      labels: this.#labels as Readonly<Record<string, string>>[],
      cpu: copyCol(this.cpu),
      memory: copyCol(this.memory),
      disk: copyCol(this.disk),
      gpus: copyCol(this.gpus),
      extended,
      freePorts: [...this.#freePorts],
      freePortCount: this.freePortCount.slice(),
      unschedulable: this.unschedulable,
      taintClass: this.taintClass,
      taintClasses: this.taintClasses as (readonly Taint[])[],
      tasks: this.#tasks.map((l) => [...l]),
      index: this.#index,
      columns: this.#columns,
      counters,
      memo: this.#memo,
    }).#sharingTotals(this);
  }

  /** A clone shares the priority totals: a node's stamp says whether they are its own. */
  #sharingTotals(from: Snapshot): this {
    this.#stamps.set(from.#stamps);
    this.#totals = from.#totals;
    this.#evictable = from.#evictable;
    return this;
  }
}

export function createSnapshot(nodes: readonly SnapshotNodeInput[]): Snapshot {
  return Snapshot.create(nodes);
}
