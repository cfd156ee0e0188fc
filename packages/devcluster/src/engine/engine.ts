import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BerthError,
  type Clock,
  isTerminal,
  PortRanges,
  Resources,
  type TaskState,
  type TaskStatus,
  type TimerHandle,
} from '@berth/core';
import { capacityResources, shortfall } from './accounting.ts';
import { EventLog, type IterateOptions } from './event-log.ts';
import { type FollowOptions, fileSize, followFile, type LogChunk, readChunk } from './log-files.ts';
import { expandGroups, NODE_LABELS, presetGroups } from './presets.ts';
import { readGroupUsage } from './proc-stats.ts';
import { type ProcessExit, TaskProcess } from './process-runner.ts';
import { type Scheduled, TimerQueue } from './timer-queue.ts';
import type {
  EngineClock,
  EngineConfig,
  EngineEvent,
  EngineNode,
  EngineTask,
  NodeCondition,
  NodeSpec,
  NodeTaint,
  SimulatedBehaviour,
  StatusMatch,
  TaskLaunch,
  TaskMode,
  TaskStats,
} from './types.ts';

const COMPONENT = 'devcluster';
const DEFAULT_PORTS = { begin: 31000, end: 32000 } as const;
/** How long stop() waits for a killed process group's leftover members to be reaped. */
const GROUP_REAP_MS = 2000;

const NO_PORTS: number[] = [];
const NO_NAMED_PORTS: Record<string, number> = Object.freeze({}) as Record<string, number>;
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Backend name on every TaskStatus the engine produces. */
export const ENGINE_BACKEND = 'devcluster';

/** Mesos `TaskStatus.Reason` values the engine uses, so the Mesos face can pass them through. */
export const ENGINE_REASONS = {
  commandFailed: 'REASON_COMMAND_EXECUTOR_FAILED',
  launchFailed: 'REASON_CONTAINER_LAUNCH_FAILED',
  nodeRemoved: 'REASON_AGENT_REMOVED',
  nodeRemovedByOperator: 'REASON_AGENT_REMOVED_BY_OPERATOR',
  nodeReregistered: 'REASON_AGENT_REREGISTERED',
  killed: 'REASON_TASK_KILLED',
  faultInjected: 'REASON_FAULT_INJECTED',
  engineStopped: 'REASON_ENGINE_STOPPED',
} as const;

/** Real time whose timers do not keep the process alive on their own. */
const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref() as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

function fail(
  code: 'SPEC_INVALID' | 'NOT_FOUND' | 'CONFLICT' | 'UNSCHEDULABLE',
  message: string,
  hint: string,
  details?: Record<string, unknown>,
): never {
  throw new BerthError(code, message, { component: COMPONENT, hint, ...(details ? { details } : {}) });
}

interface NodeRec {
  readonly id: string;
  readonly hostname: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly taints: readonly NodeTaint[];
  readonly rack: string | undefined;
  readonly zone: string | undefined;
  readonly capacity: Resources;
  allocated: Resources;
  condition: NodeCondition;
  /** Non-terminal tasks (their resources are allocated here). */
  readonly tasks: Set<string>;
  /** Tasks reported UNREACHABLE while the node was partitioned. */
  partitioned: Set<string> | undefined;
}

interface TaskRec {
  readonly id: string;
  readonly node: NodeRec;
  readonly name: string;
  readonly mode: TaskMode;
  readonly resources: Resources;
  readonly ports: readonly number[];
  readonly namedPorts: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string | undefined;
  readonly service: string | undefined;
  readonly killGraceMs: number;
  readonly sandbox: string | undefined;
  readonly created: number;
  started: number | undefined;
  finished: number | undefined;
  state: TaskState;
  /** The last status the engine produced (published or not). */
  current: TaskStatus;
  /** The last status observers were told. */
  reported: TaskStatus;
  exitCode: number | undefined;
  signal: string | undefined;
  proc: TaskProcess | undefined;
  sim: SimulatedBehaviour | undefined;
  simTimer: Scheduled | undefined;
  killRequested: boolean;
  /** A kill asked for while the node was unreachable, applied on recovery. */
  pendingKillGraceMs: number | undefined;
  forcedExit: number | undefined;
  /** Statuses held back by a delay fault, published in order. */
  outbox: TaskStatus[] | undefined;
  waiters: Set<() => void> | undefined;
}

interface FaultRule {
  readonly kind: 'drop' | 'delay';
  readonly match: StatusMatch;
  readonly delayMs: number;
  remaining: number;
}

/** Options of {@link Engine.failNode}. */
export interface FailNodeOptions {
  /**
   * `lost` (default): the node is gone — its processes are killed and its tasks become LOST.
   * `unreachable`: a partition — tasks keep running but observers see UNREACHABLE until
   * recoverNode(), which reports what really happened meanwhile.
   */
  readonly mode?: 'lost' | 'unreachable';
  readonly message?: string;
}

export interface StopOptions {
  /** Overrides every task's grace period (ms) for this shutdown; 0 SIGKILLs at once. */
  readonly gracePeriodMs?: number;
}

export interface KillOptions {
  /** Overrides the task's grace period (ms) for this kill. */
  readonly gracePeriodMs?: number;
}

/** Fault injection: what the faces expose to tests and `berth devcluster` users. */
export interface EngineFaults {
  failNode(nodeId: string, options?: FailNodeOptions): void;
  recoverNode(nodeId: string): void;
  /** Makes a running task end now with this exit code (0 → FINISHED, else FAILED). */
  exitTask(taskId: string, exitCode: number): void;
  /** Drops matching status events (`times` of them, default all) until the returned function is called. */
  dropStatus(match?: StatusMatch, options?: { readonly times?: number }): () => void;
  /** Holds matching status events back for `ms` (later events of the same task queue behind them). */
  delayStatus(ms: number, match?: StatusMatch, options?: { readonly times?: number }): () => void;
  /** Removes every drop/delay rule (held-back events are still delivered). */
  clear(): void;
}

/** The event stream of an engine. */
export interface EngineEvents {
  readonly latestSeq: number;
  readonly oldestSeq: number;
  subscribe(listener: (event: EngineEvent) => void): () => void;
  since(seq: number): EngineEvent[];
  iterate(options?: IterateOptions): AsyncGenerator<EngineEvent, void, undefined>;
  [Symbol.asyncIterator](): AsyncGenerator<EngineEvent, void, undefined>;
}

// One process 'exit' hook for every live engine: if the host process dies without stop(), the
// task process groups die with it.
const liveEngines = new Set<Engine>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const e of liveEngines) e.killAllProcessesNow();
  });
}

type Phase = 'new' | 'running' | 'stopping' | 'stopped';

/**
 * The devcluster engine: virtual nodes with resource accounting, tasks that run as real processes
 * or as simulations, node failures, fault injection and an ordered event stream. It never decides
 * placement — callers name the node — but it refuses launches that do not fit.
 */
export class Engine {
  readonly config: EngineConfig;
  readonly clock: EngineClock;
  readonly faults: EngineFaults;
  readonly events: EngineEvents;
  readonly #log: EventLog<EngineEvent>;
  readonly #timers: TimerQueue;
  readonly #nodes = new Map<string, NodeRec>();
  readonly #tasks = new Map<string, TaskRec>();
  /** Terminal task ids, oldest first, for bounded retention. */
  readonly #completed: TaskRec[] = [];
  #completedHead = 0;
  /** Host ports held by process tasks on any node: they are real sockets on this one machine. */
  readonly #realPorts = new Map<number, string>();
  #rules: FaultRule[] = [];
  #phase: Phase = 'new';
  #stateDir: string | undefined;
  #ownsStateDir = false;
  #stopping: Promise<void> | undefined;
  readonly #killGraceMs: number;
  readonly #maxCompleted: number;

  constructor(config: EngineConfig = {}) {
    this.config = config;
    this.clock = config.clock ?? realClock;
    this.#log = new EventLog<EngineEvent>(config.eventBufferSize ?? 10_000);
    this.#timers = new TimerQueue(this.clock);
    const grace = config.killGracePeriodMs ?? 3000;
    if (!Number.isFinite(grace) || grace < 0) {
      fail(
        'SPEC_INVALID',
        `killGracePeriodMs must be ≥ 0, got ${grace}`,
        'Use e.g. 3000 (3 s, the Mesos default).',
      );
    }
    this.#killGraceMs = grace;
    const keep = config.maxCompletedTasks ?? 10_000;
    if (!Number.isInteger(keep) || keep < 0) {
      fail(
        'SPEC_INVALID',
        `maxCompletedTasks must be an integer ≥ 0, got ${keep}`,
        'Use e.g. 10000 (the default).',
      );
    }
    this.#maxCompleted = keep;
    const log = this.#log;
    this.events = {
      get latestSeq() {
        return log.latestSeq;
      },
      get oldestSeq() {
        return log.oldestSeq;
      },
      subscribe: (listener) => log.subscribe(listener),
      since: (seq) => log.since(seq),
      iterate: (options) => log.iterate(options),
      [Symbol.asyncIterator]: () => log.iterate(),
    };
    this.faults = {
      failNode: (id, options) => this.failNode(id, options),
      recoverNode: (id) => this.recoverNode(id),
      exitTask: (id, code) => this.#exitTask(id, code),
      dropStatus: (match = {}, options = {}) => this.#addRule('drop', match, 0, options.times),
      delayStatus: (ms, match = {}, options = {}) => {
        if (!Number.isFinite(ms) || ms < 0) {
          fail(
            'SPEC_INVALID',
            `delayStatus needs a delay ≥ 0 ms, got ${ms}`,
            'Pass the delay in milliseconds, e.g. 500.',
          );
        }
        return this.#addRule('delay', match, ms, options.times);
      },
      clear: () => {
        this.#rules = [];
      },
    };
  }

  /** The state directory (sandboxes live under `<stateDir>/sandboxes`). Set by start(). */
  get stateDir(): string {
    if (this.#stateDir === undefined) this.#notRunning('stateDir');
    return this.#stateDir;
  }

  get running(): boolean {
    return this.#phase === 'running';
  }

  /** Creates the state directory and the configured nodes. */
  async start(): Promise<this> {
    if (this.#phase !== 'new') {
      fail(
        'CONFLICT',
        `the engine was already started (it is ${this.#phase})`,
        'Create a new engine with createEngine() to start again.',
      );
    }
    const specs = [
      ...(this.config.preset !== undefined || this.config.nodes === undefined
        ? expandGroups(presetGroups(this.config.preset ?? 'laptop'))
        : []),
      ...expandGroups(this.config.nodes ?? []),
    ];
    // Validate every node before anything exists, so a bad config leaves nothing behind.
    const seen = new Set<string>();
    const recs = specs.map((s, i) => {
      if (seen.has(s.id)) {
        fail(
          'SPEC_INVALID',
          `two nodes are named ${JSON.stringify(s.id)}`,
          'Give each node group its own prefix.',
          { index: i },
        );
      }
      seen.add(s.id);
      return this.#nodeRecord(s);
    });
    if (this.config.stateDir !== undefined) {
      this.#stateDir = resolve(this.config.stateDir);
      mkdirSync(this.#stateDir, { recursive: true });
    } else {
      this.#stateDir = mkdtempSync(join(tmpdir(), 'berth-devcluster-'));
      this.#ownsStateDir = true;
    }
    this.#phase = 'running';
    liveEngines.add(this);
    installExitHook();
    for (const rec of recs) this.#insertNode(rec);
    return this;
  }

  /**
   * Kills every process the engine started (SIGTERM to its process group, SIGKILL after the task's
   * grace period), waits until they have exited, ends simulated tasks as KILLED, and closes the
   * event stream. Safe to call more than once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#phase === 'new') {
      this.#phase = 'stopped';
      return Promise.resolve();
    }
    const grace = options.gracePeriodMs;
    if (grace !== undefined && (!Number.isFinite(grace) || grace < 0)) {
      fail(
        'SPEC_INVALID',
        `stop: gracePeriodMs must be ≥ 0, got ${grace}`,
        'Pass milliseconds, e.g. { gracePeriodMs: 0 } to SIGKILL at once.',
      );
    }
    this.#stopping ??= this.#stop(grace);
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(graceOverride: number | undefined): Promise<void> {
    this.#phase = 'stopping';
    const waits: Promise<unknown>[] = [];
    for (const t of this.#tasks.values()) {
      if (isTerminal(t.state)) continue;
      if (t.proc) {
        t.killRequested = true;
        t.proc.terminate(graceOverride ?? t.killGraceMs);
        waits.push(t.proc.exited, t.proc.groupGone(GROUP_REAP_MS));
      } else {
        this.#endSimulated(t, 'KILLED', {
          reason: ENGINE_REASONS.engineStopped,
          message: 'devcluster stopped',
        });
      }
    }
    await Promise.all(waits);
    // Statuses held back by delay faults are delivered before the stream ends.
    for (const t of this.#tasks.values()) this.#flushOutbox(t);
    this.#timers.clear();
    this.#publish((seq, time) => ({ seq, time, type: 'engine-stopped' }));
    this.#log.close();
    liveEngines.delete(this);
    if (this.#ownsStateDir && !this.config.keepStateDir && this.#stateDir !== undefined) {
      rmSync(this.#stateDir, { recursive: true, force: true });
    }
    this.#phase = 'stopped';
  }

  /** SIGKILL to every live task process group, synchronously (used by the process exit hook). */
  killAllProcessesNow(): void {
    for (const t of this.#tasks.values()) t.proc?.killNow();
  }

  // ------------------------------------------------------------------------------------------
  // Nodes

  nodes(): EngineNode[] {
    return [...this.#nodes.values()].map((n) => this.#nodeView(n));
  }

  node(id: string): EngineNode | undefined {
    const n = this.#nodes.get(id);
    return n === undefined ? undefined : this.#nodeView(n);
  }

  get nodeCount(): number {
    return this.#nodes.size;
  }

  addNode(spec: NodeSpec): EngineNode {
    this.#assertRunning('addNode');
    if (this.#nodes.has(spec.id)) {
      fail(
        'CONFLICT',
        `node ${JSON.stringify(spec.id)} already exists`,
        'Pick another id, or removeNode() the old one first.',
      );
    }
    const rec = this.#nodeRecord(spec);
    this.#insertNode(rec);
    return this.#nodeView(rec);
  }

  /** Removes a node; its tasks end LOST (their processes are killed), as when an operator removes an agent. */
  removeNode(id: string): void {
    this.#assertRunning('removeNode');
    const node = this.#getNode(id);
    for (const taskId of [...node.tasks]) {
      this.#loseTask(this.#tasks.get(taskId)!, 'LOST', {
        reason: ENGINE_REASONS.nodeRemovedByOperator,
        message: `node ${id} was removed`,
      });
    }
    this.#reportPartitionedLost(node, ENGINE_REASONS.nodeRemovedByOperator, `node ${id} was removed`);
    node.partitioned = undefined;
    this.#nodes.delete(id);
    this.#publish((seq, time) => ({ seq, time, type: 'node-removed', nodeId: id }));
  }

  failNode(id: string, options: FailNodeOptions = {}): void {
    this.#assertRunning('failNode');
    const node = this.#getNode(id);
    const mode = options.mode ?? 'lost';
    if (mode !== 'lost' && mode !== 'unreachable') {
      fail(
        'SPEC_INVALID',
        `failNode mode must be "lost" or "unreachable", got ${JSON.stringify(mode)}`,
        'Use { mode: "lost" } or { mode: "unreachable" }.',
      );
    }
    if (node.condition === mode) return;
    if (node.condition === 'lost') {
      fail('CONFLICT', `node ${id} is already lost`, 'recoverNode() it first, then fail it again.');
    }
    node.condition = mode;
    this.#publish((seq, time) => ({ seq, time, type: 'node-failed', nodeId: id, mode }));
    if (mode === 'lost') {
      for (const taskId of [...node.tasks]) {
        this.#loseTask(this.#tasks.get(taskId)!, 'LOST', {
          reason: ENGINE_REASONS.nodeRemoved,
          message: options.message ?? `node ${id} failed`,
        });
      }
      this.#reportPartitionedLost(node, ENGINE_REASONS.nodeRemoved, options.message ?? `node ${id} failed`);
      node.partitioned = undefined;
      return;
    }
    node.partitioned = new Set(node.tasks);
    for (const taskId of node.tasks) {
      const t = this.#tasks.get(taskId)!;
      this.#emit(
        t,
        this.#status(t, 'UNREACHABLE', {
          reason: ENGINE_REASONS.nodeRemoved,
          message: options.message ?? `node ${id} is unreachable`,
        }),
      );
    }
  }

  /** Tasks that ended unseen during a partition are reported LOST when their node goes for good. */
  #reportPartitionedLost(node: NodeRec, reason: string, message: string): void {
    for (const taskId of node.partitioned ?? []) {
      const t = this.#tasks.get(taskId);
      if (t !== undefined && t.reported.state === 'UNREACHABLE') {
        this.#emit(t, this.#status(t, 'LOST', { reason, message }));
      }
    }
  }

  recoverNode(id: string): void {
    this.#assertRunning('recoverNode');
    const node = this.#getNode(id);
    if (node.condition === 'ready') return;
    const wasPartitioned = node.condition === 'unreachable';
    node.condition = 'ready';
    this.#publish((seq, time) => ({ seq, time, type: 'node-recovered', nodeId: id }));
    if (!wasPartitioned) return;
    for (const taskId of node.partitioned ?? []) {
      const t = this.#tasks.get(taskId);
      if (t === undefined) continue;
      // Report what really happened while nobody could see the node.
      const status = isTerminal(t.state)
        ? { ...t.current, timestamps: { ...t.current.timestamps, updated: this.clock.now() } }
        : this.#status(t, t.state, {
            reason: ENGINE_REASONS.nodeReregistered,
            message: `node ${id} is reachable again`,
          });
      this.#emit(t, status);
    }
    node.partitioned = undefined;
    for (const taskId of [...node.tasks]) {
      const t = this.#tasks.get(taskId)!;
      if (t.pendingKillGraceMs !== undefined) {
        const grace = t.pendingKillGraceMs;
        t.pendingKillGraceMs = undefined;
        this.#kill(t, grace);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Tasks

  tasks(): EngineTask[] {
    return [...this.#tasks.values()].map((t) => this.#taskView(t));
  }

  task(id: string): EngineTask | undefined {
    const t = this.#tasks.get(id);
    return t === undefined ? undefined : this.#taskView(t);
  }

  /** Number of tasks the engine remembers (live ones plus the most recent `maxCompletedTasks` completed). */
  get taskCount(): number {
    return this.#tasks.size;
  }

  /**
   * Launches a task on `launch.nodeId`. Everything is validated first — unknown or failed node,
   * resources or ports that do not fit, a port already in use, a bad command — and a refused
   * launch changes nothing. Returns the task as it is right after launch (STAGING for a process,
   * RUNNING for a simulated task).
   */
  launch(launch: TaskLaunch): EngineTask {
    this.#assertRunning('launch');
    const plan = this.#plan(launch);
    const { node } = plan;
    let sandbox: string | undefined;
    if (plan.mode === 'process') {
      sandbox = join(this.stateDir, 'sandboxes', encodeURIComponent(node.id), encodeURIComponent(launch.id));
      try {
        rmSync(sandbox, { recursive: true, force: true });
        mkdirSync(sandbox, { recursive: true });
      } catch (cause) {
        throw new BerthError(
          'INTERNAL',
          `cannot create the sandbox ${sandbox}: ${(cause as Error).message}`,
          {
            component: COMPONENT,
            hint: 'Check that the state directory is writable and the disk is not full.',
            cause,
          },
        );
      }
    }
    // Apply: nothing below throws for a valid plan.
    const old = this.#tasks.get(launch.id);
    if (old !== undefined) this.#tasks.delete(launch.id);
    const now = this.clock.now();
    const placeholder = undefined as unknown as TaskStatus;
    const t: TaskRec = {
      id: launch.id,
      node,
      name: launch.name ?? launch.id,
      mode: plan.mode,
      resources: plan.taskResources,
      ports: plan.ports,
      namedPorts: plan.namedPorts,
      labels: launch.labels ?? NO_LABELS,
      image: launch.image,
      service: launch.service,
      killGraceMs: launch.killGracePeriodMs ?? this.#killGraceMs,
      sandbox,
      created: now,
      started: undefined,
      finished: undefined,
      state: 'STAGING',
      current: placeholder,
      reported: placeholder,
      exitCode: undefined,
      signal: undefined,
      proc: undefined,
      sim: plan.mode === 'simulated' ? (launch.simulated ?? {}) : undefined,
      simTimer: undefined,
      killRequested: false,
      pendingKillGraceMs: undefined,
      forcedExit: undefined,
      outbox: undefined,
      waiters: undefined,
    };
    node.allocated = node.allocated.add(plan.taskResources);
    node.tasks.add(t.id);
    if (plan.mode === 'process') for (const p of plan.ports) this.#realPorts.set(p, t.id);
    this.#tasks.set(t.id, t);
    const staging = this.#status(t, 'STAGING', plan.message === undefined ? {} : { message: plan.message });
    t.current = staging;
    t.reported = staging;
    this.#emit(t, staging);
    if (plan.mode === 'process') this.#startProcess(t, launch, plan.env, plan.message);
    else this.#startSimulated(t, plan.message);
    return this.#taskView(t);
  }

  /**
   * Kills a task: KILLING now, then KILLED once it is gone (process: SIGTERM to its group, SIGKILL
   * after the grace period). Resolves when the task is terminal. Killing a finished task is a no-op.
   */
  async kill(taskId: string, options: KillOptions = {}): Promise<EngineTask> {
    this.#assertRunning('kill');
    const t = this.#getTask(taskId);
    const grace = options.gracePeriodMs ?? t.killGraceMs;
    if (!Number.isFinite(grace) || grace < 0) {
      fail(
        'SPEC_INVALID',
        `gracePeriodMs must be ≥ 0, got ${grace}`,
        'Pass the grace period in milliseconds, e.g. 3000.',
      );
    }
    if (!isTerminal(t.state)) {
      if (t.node.condition === 'unreachable') t.pendingKillGraceMs = grace;
      else this.#kill(t, grace);
    }
    return this.waitForTask(taskId);
  }

  /** Resolves with the task once `until` holds (default: the engine's state is terminal). */
  waitForTask(
    taskId: string,
    until: (task: EngineTask) => boolean = (task) => isTerminal(task.state),
    signal?: AbortSignal,
  ): Promise<EngineTask> {
    const t = this.#getTask(taskId);
    const view = this.#taskView(t);
    if (until(view)) return Promise.resolve(view);
    return new Promise<EngineTask>((resolvePromise, reject) => {
      const check = () => {
        const v = this.#taskView(t);
        if (until(v)) {
          done();
          resolvePromise(v);
        }
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      const done = () => {
        t.waiters?.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      t.waiters ??= new Set();
      t.waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Current resource usage of a task, in Mesos `ResourceStatistics` terms. */
  async stats(taskId: string): Promise<TaskStats> {
    const t = this.#getTask(taskId);
    const base = {
      timestamp: this.clock.now() / 1000,
      cpusLimit: t.resources.cpu / 1000,
      memLimitBytes: t.resources.memory,
    };
    if (isTerminal(t.state)) return base;
    if (t.proc !== undefined) {
      const pid = t.proc.pid;
      const usage = pid === undefined ? undefined : await readGroupUsage(pid);
      return usage === undefined ? base : { ...base, ...usage };
    }
    const cpu = t.sim?.usage?.cpu ?? Math.floor(t.resources.cpu / 2);
    const mem = t.sim?.usage?.memory ?? Math.floor(t.resources.memory / 2);
    const runningSecs = t.started === undefined ? 0 : Math.max(0, this.clock.now() - t.started) / 1000;
    const cpuSecs = (runningSecs * cpu) / 1000;
    return {
      ...base,
      cpusUserTimeSecs: cpuSecs * 0.9,
      cpusSystemTimeSecs: cpuSecs * 0.1,
      memRssBytes: mem,
      processes: 1,
      threads: 1,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Logs

  /** Path of a task's `stdout` or `stderr` file, or undefined for a simulated task. */
  logPath(taskId: string, stream: 'stdout' | 'stderr'): string | undefined {
    const t = this.#getTask(taskId);
    this.#checkStream(stream);
    return t.sandbox === undefined ? undefined : join(t.sandbox, stream);
  }

  /**
   * Reads up to `length` bytes of a task's log at `offset` (Mesos `/files/read`); `size` is the
   * file's current size. A simulated task's logs are empty.
   */
  async readLog(
    taskId: string,
    stream: 'stdout' | 'stderr',
    options: { readonly offset?: number; readonly length?: number } = {},
  ): Promise<LogChunk> {
    const path = this.logPath(taskId, stream);
    const offset = options.offset ?? 0;
    const length = options.length ?? 1024 * 1024;
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0) {
      fail(
        'SPEC_INVALID',
        `readLog needs integer offset ≥ 0 and length ≥ 0, got offset ${offset}, length ${length}`,
        'Pass byte offsets, e.g. { offset: 0, length: 65536 }.',
      );
    }
    if (path === undefined) return { offset: 0, data: new Uint8Array(), size: 0 };
    return readChunk(path, offset, length);
  }

  /** Current size of a task's log in bytes. */
  async logSize(taskId: string, stream: 'stdout' | 'stderr'): Promise<number> {
    const path = this.logPath(taskId, stream);
    return path === undefined ? 0 : fileSize(path);
  }

  /**
   * Streams a task's log from `offset`, then what it appends, and ends once the task is terminal
   * and everything it wrote has been yielded (Kubernetes `pods/log?follow=true`), or on abort.
   */
  followLog(
    taskId: string,
    stream: 'stdout' | 'stderr',
    options: FollowOptions = {},
  ): AsyncGenerator<Uint8Array, void, undefined> {
    const path = this.logPath(taskId, stream);
    const t = this.#getTask(taskId);
    if (path === undefined) return (async function* () {})();
    // The process has exited (the files are complete) once the engine's state is terminal.
    return followFile(path, () => isTerminal(t.state) || this.#phase === 'stopped', options);
  }

  // ------------------------------------------------------------------------------------------
  // Internals: nodes

  #nodeRecord(s: NodeSpec): NodeRec {
    if (typeof s.id !== 'string' || s.id === '' || s.id.includes('/') || s.id === '.' || s.id === '..') {
      fail(
        'SPEC_INVALID',
        `node id ${JSON.stringify(s.id)} is not usable`,
        'Use a non-empty id without "/", e.g. "node-1".',
      );
    }
    const ranges = s.ports === undefined ? [DEFAULT_PORTS] : 'begin' in s.ports ? [s.ports] : s.ports;
    const capacity = capacityResources(s.capacity, PortRanges.from(ranges), `node ${s.id}`);
    const hostname = s.hostname ?? s.id;
    const labels: Record<string, string> = { [NODE_LABELS.hostname]: hostname, ...s.labels };
    const attributes: Record<string, string | number> = { ...s.attributes };
    if (s.rack !== undefined) {
      labels[NODE_LABELS.rack] = s.rack;
      attributes.rack = s.rack;
    }
    if (s.zone !== undefined) {
      labels[NODE_LABELS.zone] = s.zone;
      attributes.zone = s.zone;
    }
    return {
      id: s.id,
      hostname,
      address: s.address ?? '127.0.0.1',
      labels,
      attributes,
      taints: s.taints ?? [],
      rack: s.rack,
      zone: s.zone,
      capacity,
      allocated: Resources.ZERO,
      condition: 'ready',
      tasks: new Set(),
      partitioned: undefined,
    };
  }

  #insertNode(rec: NodeRec): void {
    this.#nodes.set(rec.id, rec);
    this.#publish((seq, time) => ({ seq, time, type: 'node-added', node: this.#nodeView(rec) }));
  }

  #nodeView(n: NodeRec): EngineNode {
    return {
      id: n.id,
      hostname: n.hostname,
      address: n.address,
      labels: n.labels,
      attributes: n.attributes,
      taints: n.taints,
      ...(n.rack === undefined ? {} : { rack: n.rack }),
      ...(n.zone === undefined ? {} : { zone: n.zone }),
      capacity: n.capacity,
      allocated: n.allocated,
      get free() {
        return n.capacity.sub(n.allocated, 'clamp');
      },
      condition: n.condition,
      taskIds: [...n.tasks],
    };
  }

  #getNode(id: string): NodeRec {
    const n = this.#nodes.get(id);
    if (n === undefined) {
      fail(
        'NOT_FOUND',
        `no node ${JSON.stringify(id)} in this devcluster`,
        'List the nodes with engine.nodes() and use one of their ids.',
        { nodeId: id },
      );
    }
    return n;
  }

  #getTask(id: string): TaskRec {
    const t = this.#tasks.get(id);
    if (t === undefined) {
      fail(
        'NOT_FOUND',
        `no task ${JSON.stringify(id)} in this devcluster`,
        'List the tasks with engine.tasks(); completed tasks are forgotten once maxCompletedTasks (default 10,000) newer ones have completed.',
        { taskId: id },
      );
    }
    return t;
  }

  // ------------------------------------------------------------------------------------------
  // Internals: launch

  #plan(launch: TaskLaunch): {
    node: NodeRec;
    mode: TaskMode;
    taskResources: Resources;
    ports: number[];
    namedPorts: Record<string, number>;
    env: Record<string, string>;
    message: string | undefined;
  } {
    const id = launch.id;
    if (typeof id !== 'string' || id === '' || id === '.' || id === '..' || id.includes('\0')) {
      fail(
        'SPEC_INVALID',
        `task id ${JSON.stringify(id)} is not usable`,
        'Use a non-empty id, e.g. "web.1".',
      );
    }
    if (!(launch.resources instanceof Resources)) {
      fail(
        'SPEC_INVALID',
        `task ${id}: resources must be a Resources`,
        'Build them with Resources.of({ cpu: 500, memory: 64 * 2 ** 20 }) or Resources.fromQuantities({ cpu: "500m", memory: "64Mi" }).',
      );
    }
    const existing = this.#tasks.get(id);
    if (existing !== undefined && !isTerminal(existing.state)) {
      fail(
        'CONFLICT',
        `task ${JSON.stringify(id)} is already ${existing.state} on node ${existing.node.id}`,
        'Use a new task id, or kill the running task first.',
        { taskId: id },
      );
    }
    const node = this.#getNode(launch.nodeId);
    if (node.condition !== 'ready') {
      fail(
        'UNSCHEDULABLE',
        `node ${node.id} is ${node.condition} and cannot take tasks`,
        'Pick a ready node, or recoverNode() this one first.',
        { nodeId: node.id },
      );
    }
    const hasCommand = launch.command !== undefined || (launch.args !== undefined && launch.args.length > 0);
    const mode: TaskMode = launch.mode ?? (hasCommand ? 'process' : 'simulated');
    if (mode !== 'process' && mode !== 'simulated') {
      fail(
        'SPEC_INVALID',
        `task ${id}: mode must be "process" or "simulated", got ${JSON.stringify(mode)}`,
        'Leave mode out to pick it from the command.',
      );
    }
    if (mode === 'process' && !hasCommand) {
      fail(
        'SPEC_INVALID',
        `task ${id}: a process task needs a command or args`,
        'Set command (run with /bin/sh -c) or args, or use mode: "simulated".',
      );
    }
    if (
      launch.command !== undefined &&
      (typeof launch.command !== 'string' || launch.command.trim() === '')
    ) {
      fail(
        'SPEC_INVALID',
        `task ${id}: command is empty`,
        'Give a shell command, e.g. "echo hi", or leave command out.',
      );
    }
    if (
      launch.killGracePeriodMs !== undefined &&
      (!Number.isFinite(launch.killGracePeriodMs) || launch.killGracePeriodMs < 0)
    ) {
      fail(
        'SPEC_INVALID',
        `task ${id}: killGracePeriodMs must be ≥ 0, got ${launch.killGracePeriodMs}`,
        'Give the grace period in milliseconds, e.g. 3000.',
      );
    }
    const sim = launch.simulated;
    if (sim !== undefined) {
      for (const [field, v] of [
        ['durationMs', sim.durationMs],
        ['killDelayMs', sim.killDelayMs],
        ['usage.cpu', sim.usage?.cpu],
        ['usage.memory', sim.usage?.memory],
      ] as const) {
        if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
          fail(
            'SPEC_INVALID',
            `task ${id}: simulated.${field} must be a number ≥ 0, got ${v}`,
            `Fix simulated.${field} or leave it out.`,
          );
        }
      }
      if (
        sim.exitCode !== undefined &&
        (!Number.isInteger(sim.exitCode) || sim.exitCode < 0 || sim.exitCode > 255)
      ) {
        fail(
          'SPEC_INVALID',
          `task ${id}: simulated.exitCode must be an integer 0–255, got ${sim.exitCode}`,
          'Use 0 for success or 1–255 for failure.',
        );
      }
    }

    // Ports: fixed ones from resources.ports and hostPort requests, then dynamic ones.
    const requests = launch.ports ?? [];
    const fixed = [...launch.resources.ports.ports()];
    const fixedSet = new Set(fixed);
    const names = new Set<string>();
    requests.forEach((r, i) => {
      if (r.name !== undefined) {
        if (names.has(r.name)) {
          fail(
            'SPEC_INVALID',
            `task ${id}: port name ${JSON.stringify(r.name)} is used twice`,
            'Give each port its own name.',
          );
        }
        names.add(r.name);
      }
      if (r.hostPort !== undefined && r.hostPort !== 0) {
        if (!Number.isInteger(r.hostPort) || r.hostPort < 1 || r.hostPort > 65535) {
          fail(
            'SPEC_INVALID',
            `task ${id}: ports[${i}].hostPort ${r.hostPort} is not a port`,
            'Use an integer 1–65535, or 0 / leave it out for a dynamic port.',
          );
        }
        if (fixedSet.has(r.hostPort)) {
          fail(
            'SPEC_INVALID',
            `task ${id}: host port ${r.hostPort} is requested twice`,
            'Request each fixed port once.',
          );
        }
        fixed.push(r.hostPort);
        fixedSet.add(r.hostPort);
      }
    });
    let ports: number[] = NO_PORTS;
    let namedPorts: Record<string, number> = NO_NAMED_PORTS;
    let taskResources = launch.resources;
    if (requests.length > 0 || !launch.resources.ports.isEmpty) {
      const nodeFreePorts = node.capacity.ports.sub(node.allocated.ports);
      for (const p of fixed) {
        if (!node.capacity.ports.contains(p)) {
          fail(
            'UNSCHEDULABLE',
            `task ${id}: port ${p} is outside node ${node.id}'s port ranges ${node.capacity.ports.toString()}`,
            "Ask for a dynamic port, or a fixed port inside the node's ranges.",
            { nodeId: node.id, port: p },
          );
        }
        if (!nodeFreePorts.contains(p)) {
          const holder = [...node.tasks].find((tid) => this.#tasks.get(tid)!.ports.includes(p));
          fail(
            'CONFLICT',
            `task ${id}: port ${p} on node ${node.id} is already used by task ${holder ?? '?'}`,
            'Ask for a dynamic port or another fixed port.',
            { nodeId: node.id, port: p, ...(holder ? { holder } : {}) },
          );
        }
        if (mode === 'process' && this.#realPorts.has(p)) {
          fail(
            'CONFLICT',
            `task ${id}: port ${p} is already bound by process task ${this.#realPorts.get(p)} (all virtual nodes share this machine's ports)`,
            'Ask for a dynamic port or another fixed port.',
            { port: p, holder: this.#realPorts.get(p) },
          );
        }
      }
      const dynamicCount = requests.filter((r) => r.hostPort === undefined || r.hostPort === 0).length;
      let pool = nodeFreePorts.sub(PortRanges.fromPorts(fixed));
      if (mode === 'process' && this.#realPorts.size > 0)
        pool = pool.sub(PortRanges.fromPorts(this.#realPorts.keys()));
      const taken = pool.take(dynamicCount);
      if (taken === undefined) {
        fail(
          'UNSCHEDULABLE',
          `task ${id}: node ${node.id} has ${pool.size} free ports, the task needs ${dynamicCount} dynamic ports`,
          'Pick a node with free ports, or give the node larger port ranges.',
          { nodeId: node.id },
        );
      }
      const dynamic = [...taken.ports()];
      // Port order: resources.ports first (Mesos), then the requests in order.
      ports = [...launch.resources.ports.ports()];
      namedPorts = {};
      ports.forEach((p, i) => {
        namedPorts[`port${i}`] = p;
      });
      let d = 0;
      for (const r of requests) {
        const p = r.hostPort !== undefined && r.hostPort !== 0 ? r.hostPort : dynamic[d++]!;
        namedPorts[r.name ?? `port${ports.length}`] = p;
        ports.push(p);
      }
      taskResources = launch.resources.withPorts(PortRanges.fromPorts(ports));
    }

    const short = shortfall(taskResources, node.capacity, node.allocated);
    if (short !== undefined) {
      fail(
        'UNSCHEDULABLE',
        `task ${id} does not fit on node ${node.id}: ${short}`,
        'Ask for less, or pick a node with more free resources (engine.node(id).free).',
        { nodeId: node.id },
      );
    }

    const env: Record<string, string> = {};
    if (mode === 'process') {
      if (this.config.inheritEnv ?? true) {
        for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      }
      env.HOST = node.address;
      env.PORTS = ports.join(',');
      ports.forEach((p, i) => {
        env[`PORT${i}`] = String(p);
      });
      if (ports.length > 0) env.PORT = String(ports[0]);
      for (const r of requests) {
        if (r.name !== undefined)
          env[`PORT_${r.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(namedPorts[r.name]);
      }
      env.MESOS_TASK_ID = id;
      env.BERTH_TASK_ID = id;
      env.BERTH_NODE_ID = node.id;
      Object.assign(env, launch.env);
    }
    let message: string | undefined;
    if (launch.image !== undefined && mode === 'simulated' && !hasCommand) {
      message = `image ${launch.image} has no command: devcluster runs it simulated (there is no container runtime)`;
    } else if (launch.image !== undefined && mode === 'process') {
      message = `image ${launch.image} is not pulled: devcluster runs the command directly on this machine`;
    }
    return { node, mode, taskResources, ports, namedPorts, env, message };
  }

  #startProcess(
    t: TaskRec,
    launch: TaskLaunch,
    env: Record<string, string>,
    message: string | undefined,
  ): void {
    const sandbox = t.sandbox!;
    env.MESOS_SANDBOX = sandbox;
    this.#transition(t, 'STARTING', message === undefined ? {} : { message });
    let proc: TaskProcess;
    try {
      proc = new TaskProcess(
        {
          ...(launch.command === undefined ? { args: launch.args ?? [] } : { command: launch.command }),
          env,
          sandbox,
        },
        () => {
          if (t.state === 'STARTING') {
            t.started = this.clock.now();
            this.#transition(t, 'RUNNING', {});
          }
        },
      );
    } catch (cause) {
      this.#finish(t, 'FAILED', {
        reason: ENGINE_REASONS.launchFailed,
        message: `cannot start the process: ${(cause as Error).message}`,
      });
      return;
    }
    t.proc = proc;
    void proc.exited.then((exit) => this.#onExit(t, exit));
  }

  #onExit(t: TaskRec, exit: ProcessExit): void {
    t.exitCode = exit.code ?? undefined;
    t.signal = exit.signal ?? undefined;
    if (isTerminal(t.state)) return; // already LOST with its node
    if (t.forcedExit !== undefined) {
      const code = t.forcedExit;
      t.exitCode = code;
      this.#finish(t, code === 0 ? 'FINISHED' : 'FAILED', {
        reason: ENGINE_REASONS.faultInjected,
        message: `exit code ${code} injected`,
        exitCode: code,
      });
      return;
    }
    if (exit.spawnError !== undefined) {
      this.#finish(t, 'FAILED', {
        reason: ENGINE_REASONS.launchFailed,
        message: `cannot start the process: ${exit.spawnError.message}`,
      });
      return;
    }
    if (t.killRequested) {
      this.#finish(t, 'KILLED', {
        reason: ENGINE_REASONS.killed,
        message: exit.signal
          ? `Command terminated with signal ${exit.signal}`
          : `Command exited with status ${exit.code}`,
        ...(exit.code === null ? {} : { exitCode: exit.code }),
      });
      return;
    }
    if (exit.code === 0) {
      this.#finish(t, 'FINISHED', { message: 'Command exited with status 0', exitCode: 0 });
    } else if (exit.code !== null) {
      this.#finish(t, 'FAILED', {
        reason: ENGINE_REASONS.commandFailed,
        message: `Command exited with status ${exit.code}`,
        exitCode: exit.code,
      });
    } else {
      this.#finish(t, 'FAILED', {
        reason: ENGINE_REASONS.commandFailed,
        message: `Command terminated with signal ${exit.signal}`,
      });
    }
  }

  #startSimulated(t: TaskRec, message: string | undefined): void {
    const extra = message === undefined ? {} : { message };
    this.#transition(t, 'STARTING', extra);
    t.started = this.clock.now();
    this.#transition(t, 'RUNNING', extra);
    const duration = t.sim?.durationMs;
    if (duration !== undefined) {
      t.simTimer = this.#timers.schedule(duration, () => {
        t.simTimer = undefined;
        const code = t.sim?.exitCode ?? 0;
        this.#endSimulated(t, code === 0 ? 'FINISHED' : 'FAILED', {
          message: `simulated task ended with exit code ${code}`,
          exitCode: code,
          ...(code === 0 ? {} : { reason: ENGINE_REASONS.commandFailed }),
        });
      });
    }
  }

  #endSimulated(t: TaskRec, state: TaskState, extra: StatusExtra): void {
    t.simTimer?.cancel();
    t.simTimer = undefined;
    if (extra.exitCode !== undefined) t.exitCode = extra.exitCode;
    this.#finish(t, state, extra);
  }

  #kill(t: TaskRec, graceMs: number): void {
    if (isTerminal(t.state)) return;
    const first = !t.killRequested;
    t.killRequested = true;
    if (first) this.#transition(t, 'KILLING', {});
    if (t.proc !== undefined) {
      t.proc.terminate(graceMs);
      return;
    }
    if (t.mode === 'process') return; // spawn failed; its exit handler reports
    const delay = t.sim?.killDelayMs ?? 0;
    const end = () =>
      this.#endSimulated(t, 'KILLED', { reason: ENGINE_REASONS.killed, message: 'simulated task killed' });
    if (delay === 0) end();
    else if (first) {
      t.simTimer?.cancel();
      t.simTimer = this.#timers.schedule(delay, end);
    }
  }

  #exitTask(taskId: string, code: number): void {
    this.#assertRunning('exitTask');
    if (!Number.isInteger(code) || code < 0 || code > 255) {
      fail(
        'SPEC_INVALID',
        `exitTask needs an exit code 0–255, got ${code}`,
        'Use 0 for success or 1–255 for failure.',
      );
    }
    const t = this.#getTask(taskId);
    if (isTerminal(t.state)) {
      fail('CONFLICT', `task ${taskId} already ended (${t.state})`, 'Inject exits into running tasks only.');
    }
    if (t.proc !== undefined) {
      t.forcedExit = code;
      t.proc.killNow();
      return;
    }
    this.#endSimulated(t, code === 0 ? 'FINISHED' : 'FAILED', {
      reason: ENGINE_REASONS.faultInjected,
      message: `exit code ${code} injected`,
      exitCode: code,
    });
  }

  /** A node failure ends the task: processes die with the node, nothing is waited for. */
  #loseTask(t: TaskRec, state: 'LOST', extra: StatusExtra): void {
    t.simTimer?.cancel();
    t.simTimer = undefined;
    t.proc?.killNow();
    // A lost node's tasks are reported directly, even though the node is not ready.
    this.#finish(t, state, extra, true);
  }

  // ------------------------------------------------------------------------------------------
  // Internals: state and events

  #status(t: TaskRec, state: TaskState, extra: StatusExtra): TaskStatus {
    // Plain assignments rather than spreads: this runs three times per launch.
    const timestamps: Mutable<TaskStatus['timestamps']> = { created: t.created, updated: this.clock.now() };
    if (t.started !== undefined) timestamps.started = t.started;
    if (t.finished !== undefined) timestamps.finished = t.finished;
    const status: Mutable<TaskStatus> = {
      taskId: t.id,
      state,
      rawState: state,
      nodeId: t.node.id,
      hostname: t.node.hostname,
      ports: t.namedPorts,
      timestamps,
      backend: ENGINE_BACKEND,
    };
    if (extra.reason !== undefined) status.reason = extra.reason;
    if (extra.message !== undefined) status.message = extra.message;
    if (extra.exitCode !== undefined) status.exitCode = extra.exitCode;
    if (t.service !== undefined) status.service = t.service;
    return status;
  }

  #transition(t: TaskRec, state: TaskState, extra: StatusExtra, force = false): void {
    t.state = state;
    const status = this.#status(t, state, extra);
    t.current = status;
    if (t.node.condition === 'ready' || force) this.#emit(t, status);
    if (t.waiters !== undefined) for (const w of [...t.waiters]) w();
  }

  #finish(t: TaskRec, state: TaskState, extra: StatusExtra, force = false): void {
    if (isTerminal(t.state)) return;
    t.finished = this.clock.now();
    if (t.exitCode === undefined && extra.exitCode !== undefined) t.exitCode = extra.exitCode;
    // Release resources and ports first, so observers of the terminal event see them free.
    const node = t.node;
    if (node.tasks.delete(t.id)) node.allocated = node.allocated.sub(t.resources, 'clamp');
    if (t.mode === 'process')
      for (const p of t.ports) if (this.#realPorts.get(p) === t.id) this.#realPorts.delete(p);
    this.#transition(t, state, extra, force);
    this.#completed.push(t);
    this.#trimCompleted();
  }

  #trimCompleted(): void {
    while (this.#completed.length - this.#completedHead > this.#maxCompleted) {
      const t = this.#completed[this.#completedHead++]!;
      // Only this very record: a relaunch under the same id is another task.
      if (this.#tasks.get(t.id) === t && t.node.partitioned?.has(t.id) !== true) this.#tasks.delete(t.id);
    }
    if (this.#completedHead > 4096) {
      this.#completed.splice(0, this.#completedHead);
      this.#completedHead = 0;
    }
  }

  /** Publishes a status unless a fault rule drops or delays it. */
  #emit(t: TaskRec, status: TaskStatus): void {
    const rule = this.#matchRule(t, status);
    if (rule?.kind === 'drop') return;
    if (rule?.kind === 'delay' || t.outbox !== undefined) {
      if (t.outbox === undefined) {
        t.outbox = [];
        this.#timers.schedule(rule?.delayMs ?? 0, () => this.#flushOutbox(t));
      }
      t.outbox.push(status);
      return;
    }
    this.#publishStatus(t, status);
  }

  #flushOutbox(t: TaskRec): void {
    const box = t.outbox;
    if (box === undefined) return;
    t.outbox = undefined;
    for (const s of box) this.#publishStatus(t, s);
  }

  #publishStatus(t: TaskRec, status: TaskStatus): void {
    t.reported = status;
    this.#publish((seq, time) => ({
      seq,
      time,
      type: 'task-status',
      taskId: t.id,
      nodeId: t.node.id,
      status,
    }));
  }

  #publish(make: (seq: number, time: number) => EngineEvent): void {
    const time = this.clock.now();
    this.#log.publish((seq) => make(seq, time));
  }

  #matchRule(t: TaskRec, status: TaskStatus): FaultRule | undefined {
    if (this.#rules.length === 0) return undefined;
    for (const r of this.#rules) {
      const m = r.match;
      if (m.taskId !== undefined && m.taskId !== t.id) continue;
      if (m.nodeId !== undefined && m.nodeId !== t.node.id) continue;
      if (m.state !== undefined && m.state !== status.state) continue;
      r.remaining -= 1;
      if (r.remaining <= 0) this.#rules = this.#rules.filter((x) => x !== r);
      return r;
    }
    return undefined;
  }

  #addRule(kind: 'drop' | 'delay', match: StatusMatch, delayMs: number, times?: number): () => void {
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      fail(
        'SPEC_INVALID',
        `times must be a positive integer, got ${times}`,
        'Leave times out to match every event until removed.',
      );
    }
    const rule: FaultRule = {
      kind,
      match: { ...match },
      delayMs,
      remaining: times ?? Number.POSITIVE_INFINITY,
    };
    this.#rules = [...this.#rules, rule];
    return () => {
      this.#rules = this.#rules.filter((r) => r !== rule);
    };
  }

  #taskView(t: TaskRec): EngineTask {
    return {
      id: t.id,
      nodeId: t.node.id,
      name: t.name,
      mode: t.mode,
      state: t.state,
      status: t.reported,
      resources: t.resources,
      ports: t.ports,
      namedPorts: t.namedPorts,
      labels: t.labels,
      ...(t.image === undefined ? {} : { image: t.image }),
      ...(t.sandbox === undefined ? {} : { sandbox: t.sandbox }),
      ...(t.proc?.pid === undefined ? {} : { pid: t.proc.pid }),
      ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }),
      ...(t.signal === undefined ? {} : { signal: t.signal }),
    };
  }

  #checkStream(stream: string): void {
    if (stream !== 'stdout' && stream !== 'stderr') {
      fail(
        'SPEC_INVALID',
        `log stream must be "stdout" or "stderr", got ${JSON.stringify(stream)}`,
        'Ask for stdout or stderr.',
      );
    }
  }

  #assertRunning(what: string): void {
    if (this.#phase !== 'running') this.#notRunning(what);
  }

  #notRunning(what: string): never {
    fail(
      'CONFLICT',
      `${what}: the devcluster engine is ${this.#phase === 'new' ? 'not started' : this.#phase}`,
      this.#phase === 'new' ? 'Call await engine.start() first.' : 'Create and start a new engine.',
    );
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface StatusExtra {
  readonly reason?: string;
  readonly message?: string;
  readonly exitCode?: number;
}

/** Creates an engine (not started yet: call `await engine.start()`). */
export function createEngine(config: EngineConfig = {}): Engine {
  return new Engine(config);
}

/** Creates and starts an engine; `await using engine = await startEngine(...)` stops it at scope end. */
export function startEngine(config: EngineConfig = {}): Promise<Engine> {
  return new Engine(config).start();
}
