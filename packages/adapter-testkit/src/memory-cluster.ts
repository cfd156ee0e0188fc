/**
 * A simulated cluster that lives in memory: nodes with exact resources, first-fit placement with
 * an explanation when nothing fits, and "processes" that interpret a tiny shell subset (`sleep N`,
 * `echo TEXT [>&2]`, `exit N`, `true`, `false`, separated by `;` or `&&`) on an injectable clock.
 * It plays the backend for the reference {@link createMemoryAdapter} and is its own
 * {@link BackendProbe}: it counts every launch it receives, whatever the adapter reports.
 */
import {
  type Allocation,
  BerthError,
  type Clock,
  type ClusterEvent,
  type ClusterNode,
  isTerminal,
  PortRanges,
  Resources,
  Subject,
  systemClock,
  type TaskSpec,
  type TaskState,
  type TaskStatus,
  type TimerHandle,
} from '@berth/core';
import type { BackendProbe } from './probe.ts';

export interface MemoryNodeInit {
  readonly id: string;
  readonly hostname?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly allocatable: Resources;
}

export interface MemoryClusterOptions {
  /** Default: three nodes of 4 cores, 8 GiB memory, 20 GiB disk and ports 31000-31999. */
  readonly nodes?: readonly MemoryNodeInit[];
  readonly clock?: Clock;
  /** Simulated delay of each of STAGING and STARTING, in ms (default 2). */
  readonly stepMs?: number;
}

/** What an adapter asks the backend to launch. */
export interface MemoryLaunch {
  readonly taskId: string;
  readonly spec: TaskSpec;
  readonly service?: string;
}

export interface MemoryLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly at: number;
}

interface Process {
  status: TaskStatus;
  readonly launch: MemoryLaunch;
  /** Requests plus the host ports actually claimed, while the task holds a node. */
  claim: Resources | undefined;
  timer: TimerHandle | undefined;
  readonly logs: MemoryLogLine[];
  readonly logSubject: Subject<MemoryLogLine>;
}

/** A backend-side event, before an adapter numbers it. */
export type MemoryClusterEvent = Omit<ClusterEvent, 'seq'>;

const GiB = 1024 ** 3;

function defaultNodes(): MemoryNodeInit[] {
  return [1, 2, 3].map((i) => ({
    id: `node-${i}`,
    hostname: `10.0.0.${i}`,
    labels: { 'berth.dev/zone': `zone-${i}` },
    allocatable: Resources.of({
      cpu: 4000,
      memory: 8 * GiB,
      disk: 20 * GiB,
      ports: PortRanges.of({ begin: 31000, end: 31999 }),
    }),
  }));
}

export class MemoryCluster implements BackendProbe {
  readonly clock: Clock;
  readonly #stepMs: number;
  readonly #nodes: ReadonlyMap<string, Required<MemoryNodeInit>>;
  readonly #processes = new Map<string, Process>();
  readonly #launches = new Map<string, number>();
  /** Every status change, in order. */
  readonly statuses = new Subject<TaskStatus>();
  readonly events = new Subject<MemoryClusterEvent>();
  /** Services by name, as the backend stores them (Marathon apps / Deployments). */
  readonly services = new Map<string, { template: TaskSpec; replicas: number }>();

  constructor(options: MemoryClusterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.#stepMs = options.stepMs ?? 2;
    this.#nodes = new Map(
      (options.nodes ?? defaultNodes()).map((n) => [
        n.id,
        { id: n.id, hostname: n.hostname ?? n.id, labels: n.labels ?? {}, allocatable: n.allocatable },
      ]),
    );
  }

  // --- BackendProbe -----------------------------------------------------------------------------

  launchCount(taskId: string): number {
    return this.#launches.get(taskId) ?? 0;
  }

  isRunning(taskId: string): boolean {
    const p = this.#processes.get(taskId);
    return p !== undefined && (p.status.state === 'RUNNING' || p.status.state === 'KILLING');
  }

  // --- what adapters call -----------------------------------------------------------------------

  nodes(): ClusterNode[] {
    return [...this.#nodes.values()].map((n) => ({
      id: n.id,
      hostname: n.hostname,
      labels: n.labels,
      taints: [],
      allocatable: n.allocatable,
      allocated: this.#allocated(n.id),
      ready: true,
      unschedulable: false,
    }));
  }

  allocations(): Allocation[] {
    const out: Allocation[] = [];
    for (const p of this.#processes.values()) {
      const nodeId = p.status.nodeId;
      if (p.claim === undefined || nodeId === undefined) continue;
      out.push({
        taskId: p.launch.taskId,
        nodeId,
        resources: p.claim,
        tenant: p.launch.spec.tenant,
        priority: p.launch.spec.priority,
        ...(p.launch.service === undefined ? {} : { service: p.launch.service }),
      });
    }
    return out;
  }

  status(taskId: string): TaskStatus | undefined {
    return this.#processes.get(taskId)?.status;
  }

  all(): TaskStatus[] {
    return [...this.#processes.values()].map((p) => p.status);
  }

  launchSpec(taskId: string): MemoryLaunch | undefined {
    return this.#processes.get(taskId)?.launch;
  }

  logs(taskId: string): { lines: readonly MemoryLogLine[]; live: Subject<MemoryLogLine> } | undefined {
    const p = this.#processes.get(taskId);
    return p && { lines: p.logs, live: p.logSubject };
  }

  /** Start a task. A second launch of a live task id replaces it (as a confused backend would). */
  launch(launch: MemoryLaunch): TaskStatus {
    this.#launches.set(launch.taskId, this.launchCount(launch.taskId) + 1);
    const old = this.#processes.get(launch.taskId);
    if (old) this.#stop(old, 'KILLED', 'Replaced', 'replaced by a new launch of the same task id');
    const now = this.clock.now();
    const p: Process = {
      launch,
      claim: undefined,
      timer: undefined,
      logs: [],
      logSubject: new Subject(),
      status: {
        taskId: launch.taskId,
        state: 'PENDING',
        rawState: 'PENDING',
        ports: {},
        timestamps: { created: now, updated: now },
        backend: 'memory',
        ...(launch.service === undefined ? {} : { service: launch.service }),
      },
    };
    this.#processes.set(launch.taskId, p);
    this.#emit(p);
    this.#place(p);
    return p.status;
  }

  /** SIGTERM: the simulated process exits at once; a task not yet running is simply dropped. */
  kill(taskId: string, gracePeriodSeconds: number): void {
    const p = this.#processes.get(taskId);
    if (!p || isDone(p.status.state)) return;
    this.#set(p, 'KILLING', {
      reason: 'Killing',
      message: `stopping with a ${gracePeriodSeconds}s grace period`,
    });
    this.#clearTimer(p);
    p.timer = this.clock.setTimeout(() => {
      p.timer = undefined;
      this.#stop(p, 'KILLED', 'Killed', 'stopped on request');
    }, 0);
  }

  /** Stop every process and timer (the "cluster" is torn down). */
  shutdown(): void {
    for (const p of this.#processes.values()) {
      this.#clearTimer(p);
      if (!isDone(p.status.state)) this.#stop(p, 'KILLED', 'Shutdown', 'cluster shut down');
    }
  }

  // --- simulation -------------------------------------------------------------------------------

  #allocated(nodeId: string): Resources {
    let sum = Resources.ZERO;
    for (const p of this.#processes.values()) {
      if (p.claim && p.status.nodeId === nodeId) sum = sum.add(p.claim);
    }
    return sum;
  }

  #place(p: Process): void {
    const spec = p.launch.spec;
    const request = spec.resources.requests;
    const reasons = new Map<string, number>();
    const note = (why: string) => reasons.set(why, (reasons.get(why) ?? 0) + 1);
    for (const node of this.#nodes.values()) {
      const mismatch = Object.entries(spec.nodeSelector).find(([k, v]) => node.labels[k] !== v);
      if (mismatch) {
        note(`node selector ${mismatch[0]}=${mismatch[1]} mismatch`);
        continue;
      }
      const free = node.allocatable.sub(this.#allocated(node.id), 'clamp');
      const short = (['cpu', 'memory', 'disk', 'gpus'] as const).find((r) => request[r] > free[r]);
      if (short) {
        note(`insufficient ${short}`);
        continue;
      }
      if (!request.withPorts(PortRanges.EMPTY).fits(free)) {
        note('insufficient extended resources');
        continue;
      }
      const ports = this.#pickPorts(spec, free.ports);
      if (!ports) {
        note('no free ports');
        continue;
      }
      p.claim = request.withPorts(PortRanges.fromPorts(Object.values(ports)));
      this.#set(p, 'STAGING', {
        nodeId: node.id,
        hostname: node.hostname,
        ports,
        reason: undefined,
        message: undefined,
      });
      this.events.emit(this.#event('Scheduled', `placed ${p.launch.taskId} on ${node.id}`, p, 'info'));
      p.timer = this.clock.setTimeout(() => {
        this.#set(p, 'STARTING', {});
        p.timer = this.clock.setTimeout(() => {
          p.timer = undefined;
          this.#set(p, 'RUNNING', {});
          this.#run(p, splitCommand(spec.command ?? [...(spec.args ?? [])].join(' ')), 0);
        }, this.#stepMs);
      }, this.#stepMs);
      return;
    }
    const summary = [...reasons].map(([why, n]) => `${n} ${why}`).join(', ');
    const message = `0/${this.#nodes.size} nodes are available${summary ? `: ${summary}` : ''}`;
    this.#set(p, 'PENDING', { reason: 'Unschedulable', message });
    this.events.emit(this.#event('Unschedulable', message, p, 'warning'));
  }

  #pickPorts(spec: TaskSpec, free: PortRanges): Record<string, number> | undefined {
    const out: Record<string, number> = {};
    let left = free;
    for (const port of spec.ports) {
      if (port.hostPort !== undefined) {
        if (!left.contains(port.hostPort)) return undefined;
        out[port.name] = port.hostPort;
        left = left.sub(PortRanges.fromPorts([port.hostPort]));
      }
    }
    for (const port of spec.ports) {
      if (port.hostPort !== undefined) continue;
      const taken = left.take(1);
      const first = taken?.ranges[0];
      if (!taken || !first) return undefined;
      out[port.name] = first.begin;
      left = left.sub(taken);
    }
    return out;
  }

  #run(p: Process, statements: readonly string[], index: number): void {
    for (let i = index; i < statements.length; i++) {
      const words = statements[i]!.split(/\s+/).filter(Boolean);
      const [cmd, ...rest] = words;
      if (cmd === undefined || cmd === 'true' || cmd === ':') continue;
      if (cmd === 'echo') {
        const toStderr = rest.at(-1) === '>&2';
        const text = (toStderr ? rest.slice(0, -1) : rest).join(' ');
        this.#log(p, toStderr ? 'stderr' : 'stdout', text);
        continue;
      }
      if (cmd === 'sleep') {
        const seconds = Number(rest[0] ?? '0');
        p.timer = this.clock.setTimeout(
          () => {
            p.timer = undefined;
            this.#run(p, statements, i + 1);
          },
          Number.isFinite(seconds) ? seconds * 1000 : 0,
        );
        return;
      }
      if (cmd === 'exit' || cmd === 'false') {
        const code = cmd === 'false' ? 1 : Number(rest[0] ?? '0');
        this.#exit(p, Number.isInteger(code) ? code : 2);
        return;
      }
      this.#log(p, 'stderr', `sh: ${cmd}: not found`);
      this.#exit(p, 127);
      return;
    }
    this.#exit(p, 0);
  }

  #exit(p: Process, code: number): void {
    if (code === 0) {
      this.#stop(p, 'FINISHED', 'Completed', 'command exited with status 0', 0);
      return;
    }
    const lastErr = p.logs.filter((l) => l.stream === 'stderr').at(-1)?.line;
    const message = `command exited with status ${code}${lastErr ? `: ${lastErr}` : ''}`;
    this.#stop(p, 'FAILED', 'Error', message, code);
  }

  #log(p: Process, stream: 'stdout' | 'stderr', line: string): void {
    const entry = { stream, line, at: this.clock.now() };
    p.logs.push(entry);
    p.logSubject.emit(entry);
  }

  #stop(p: Process, state: TaskState, reason: string, message: string, exitCode?: number): void {
    this.#clearTimer(p);
    const hadClaim = p.claim !== undefined;
    p.claim = undefined;
    this.#set(p, state, { reason, message, ...(exitCode === undefined ? {} : { exitCode }) });
    p.logSubject.complete();
    if (hadClaim) this.#retryPending();
  }

  #retryPending(): void {
    for (const p of this.#processes.values()) {
      if (p.status.state === 'PENDING' && p.claim === undefined) this.#place(p);
    }
  }

  #clearTimer(p: Process): void {
    if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
    p.timer = undefined;
  }

  #set(
    p: Process,
    state: TaskState,
    patch: {
      readonly [K in 'reason' | 'message' | 'exitCode' | 'nodeId' | 'hostname' | 'ports']?:
        | TaskStatus[K]
        | undefined;
    },
  ): void {
    if (p.status.state === state && patch.message === p.status.message) return;
    const now = this.clock.now();
    const merged: Record<string, unknown> = {
      ...p.status,
      ...patch,
      state,
      rawState: state,
      timestamps: {
        ...p.status.timestamps,
        updated: now,
        ...(state === 'RUNNING' ? { started: now } : {}),
        ...(isDone(state) ? { finished: now } : {}),
      },
    };
    // A patch key set to undefined removes the field (exactOptionalPropertyTypes: absent, never undefined).
    for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
    p.status = merged as unknown as TaskStatus;
    this.#emit(p);
  }

  #emit(p: Process): void {
    this.statuses.emit(p.status);
    const s = p.status;
    this.events.emit(
      this.#event(
        'TaskStateChanged',
        `${s.taskId} is ${s.state}${s.message ? `: ${s.message}` : ''}`,
        p,
        s.state === 'FAILED' || s.state === 'LOST' || s.state === 'ERROR' ? 'warning' : 'info',
        s.state,
      ),
    );
  }

  #event(
    kind: string,
    message: string,
    p: Process,
    level: 'info' | 'warning',
    state?: TaskState,
  ): MemoryClusterEvent {
    const s = p.status;
    return {
      at: this.clock.now(),
      level,
      kind,
      message,
      taskId: s.taskId,
      ...(s.nodeId === undefined ? {} : { nodeId: s.nodeId }),
      ...(s.service === undefined ? {} : { service: s.service }),
      ...(state === undefined ? {} : { state }),
    };
  }
}

const isDone = isTerminal;

/** Split `a; b && c` into statements (the simulation has no quoting). */
export function splitCommand(command: string): string[] {
  return command
    .split(/;|&&|\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Thrown by the memory adapter for a task id the cluster does not know. */
export function unknownTask(taskId: string): BerthError {
  return new BerthError('NOT_FOUND', `task ${taskId} does not exist`, {
    component: 'memory-adapter',
    hint: 'List tasks with adapter.tasks() and use one of their ids.',
    details: { taskId },
  });
}
