/**
 * `MesosContainerMetrics`: core's autoscaling `MetricsSource` on Mesos. Mesos has no metrics API
 * for a framework's tasks, but every agent reports its containers' cumulative cpu seconds and RSS
 * (`GET_CONTAINERS` on the agent operator API). Each `podMetrics(service)` call polls the agents
 * the service's replicas run on and turns those counters into what the HPA algorithm reads:
 *
 * - cpu usage (millicpu) = Δ(cpus_user_time_secs + cpus_system_time_secs) / Δtimestamp × 1000,
 *   between this poll and the previous one of the same container (the first poll of a container
 *   has no cpu usage yet: the replica counts as *missing* for cpu);
 * - memory usage (bytes) = mem_rss_bytes of this poll;
 * - utilization is then usage / the task's request, computed by core.
 *
 * Containers are matched to tasks by the container id the task's status reported
 * (`container_status.container_id`, which also names nested task-group containers), else by the
 * command executor's id (the Mesos task id). Readiness comes from the task: RUNNING, and healthy
 * when it has a health check (Mesos sets `healthy` on TASK_RUNNING updates once a check ran).
 */
import {
  type AbortSignalLike,
  type BerthError,
  isTerminal,
  type MetricsSource,
  type PodMetricSample,
  type ResourceAmounts,
  type TaskState,
  toBerthError,
} from '@berth/core';
import type { AgentContainer, GetContainers, ResourceStatistics } from './proto/agent.ts';

const COMPONENT = 'mesos-adapter';

/** What the metrics source needs to know about one replica (the adapter fills it from its task records). */
export interface MesosReplica {
  /** Berth task id (`web-2`). */
  readonly taskId: string;
  /** The Mesos task id of the current incarnation (`web-2` or `web-2.1`). */
  readonly mesosTaskId: string;
  /** The executor the status updates named (the task id itself under the command executor). */
  readonly executorId?: string;
  /** `container_status.container_id.value` from the task's latest status, when reported. */
  readonly containerId?: string;
  /** Base URL of the agent's HTTP API; absent while not launched. */
  readonly agentUrl?: string;
  readonly state: TaskState;
  /** The task's last health-check result (Mesos `TaskStatus.healthy`), absent before the first check. */
  readonly healthy?: boolean;
  /** The task has a health check: it is ready only once `healthy` is true. */
  readonly hasHealthCheck: boolean;
  /** Epoch ms it first reported RUNNING. */
  readonly startedAt?: number;
  /** Epoch ms its readiness last changed; default `startedAt`. */
  readonly readyChangedAt?: number;
  /** Requests in Berth base units (millicpu, bytes). */
  readonly requests: ResourceAmounts;
}

/** Reads one agent's containers; `MesosAgentClient.getContainers` in production. */
export type ContainersReader = (agentUrl: string, signal?: AbortSignal) => Promise<GetContainers>;

export interface MesosContainerMetricsOptions {
  /** The replicas of `service` now (every incarnation Berth considers part of it). */
  readonly replicas: (service: string) => readonly MesosReplica[];
  readonly containers: ContainersReader;
  /** A previous sample older than this is not used for a cpu rate (default 10 min). */
  readonly maxSampleAgeMs?: number;
  /** Called when an agent cannot be read; its replicas count as missing this time. */
  readonly onAgentError?: (agentUrl: string, error: BerthError) => void;
}

/** One cumulative reading of a container. */
interface Reading {
  readonly container: string;
  /** Seconds since the epoch (the agent's clock). */
  readonly timestamp: number;
  readonly cpuSecs?: number;
}

/**
 * Average cpu usage in millicpu between two readings of the same container, or undefined when no
 * rate can be computed (time did not advance, or the counter went backwards: a restarted container).
 */
export function cpuUsageMillicores(
  previous: { readonly timestamp: number; readonly cpuSecs?: number },
  current: { readonly timestamp: number; readonly cpuSecs?: number },
): number | undefined {
  if (previous.cpuSecs === undefined || current.cpuSecs === undefined) return undefined;
  const dt = current.timestamp - previous.timestamp;
  const dcpu = current.cpuSecs - previous.cpuSecs;
  if (!(dt > 0) || dcpu < 0 || !Number.isFinite(dcpu / dt)) return undefined;
  return Math.round((dcpu / dt) * 1000);
}

/** Total cpu seconds of a statistics record (user + system), when either is reported. */
export function cpuSeconds(stats: ResourceStatistics): number | undefined {
  const u = stats.cpus_user_time_secs;
  const s = stats.cpus_system_time_secs;
  if (u === undefined && s === undefined) return undefined;
  return (u ?? 0) + (s ?? 0);
}

/** Whether a replica counts as ready for the HPA's not-yet-ready rules. */
export function replicaReady(r: Pick<MesosReplica, 'state' | 'healthy' | 'hasHealthCheck'>): boolean {
  if (r.state !== 'RUNNING') return false;
  return r.hasHealthCheck ? r.healthy === true : r.healthy !== false;
}

export class MesosContainerMetrics implements MetricsSource {
  readonly #replicas: MesosContainerMetricsOptions['replicas'];
  readonly #read: ContainersReader;
  readonly #maxAgeSecs: number;
  readonly #onAgentError: MesosContainerMetricsOptions['onAgentError'];
  /** Last reading per service, by task id. */
  readonly #last = new Map<string, Map<string, Reading>>();

  constructor(options: MesosContainerMetricsOptions) {
    this.#replicas = options.replicas;
    this.#read = options.containers;
    this.#maxAgeSecs = (options.maxSampleAgeMs ?? 10 * 60_000) / 1000;
    this.#onAgentError = options.onAgentError;
  }

  /** Forget the previous readings of `service` (e.g. when it is deleted). */
  forget(service: string): void {
    this.#last.delete(service);
  }

  async podMetrics(
    service: string,
    options: { readonly signal?: AbortSignalLike } = {},
  ): Promise<PodMetricSample[]> {
    const replicas = this.#replicas(service).filter((r) => !isTerminal(r.state));
    const agents = new Set<string>();
    for (const r of replicas) if (r.agentUrl !== undefined && r.state !== 'PENDING') agents.add(r.agentUrl);
    const signal = options.signal instanceof AbortSignal ? options.signal : undefined;
    const byAgent = new Map<string, AgentIndex>();
    const failed = new Set<string>();
    await Promise.all(
      [...agents].map(async (url) => {
        try {
          byAgent.set(url, indexContainers((await this.#read(url, signal)).containers ?? []));
        } catch (err) {
          failed.add(url);
          this.#onAgentError?.(url, toBerthError(err, COMPONENT));
        }
      }),
    );
    const previous = this.#last.get(service) ?? new Map<string, Reading>();
    const next = new Map<string, Reading>();
    const samples: PodMetricSample[] = [];
    for (const r of replicas) {
      const ready = replicaReady(r);
      const base: PodMetricSample = {
        taskId: r.taskId,
        state: r.state,
        ready,
        requests: r.requests,
        ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
        ...(r.readyChangedAt === undefined ? {} : { readyChangedAt: r.readyChangedAt }),
      };
      const containers =
        r.agentUrl === undefined || r.state === 'PENDING' ? undefined : byAgent.get(r.agentUrl);
      if (r.agentUrl !== undefined && failed.has(r.agentUrl)) {
        const kept = previous.get(r.taskId);
        if (kept !== undefined) next.set(r.taskId, kept); // try again next time, from the same base
      }
      const container = containers === undefined ? undefined : findContainer(containers, r);
      const stats = container?.resource_statistics;
      if (container === undefined || stats === undefined) {
        samples.push(base);
        continue;
      }
      const reading: Reading = {
        container: container.container_id.value,
        timestamp: stats.timestamp,
        ...withCpu(cpuSeconds(stats)),
      };
      next.set(r.taskId, reading);
      const prev = previous.get(r.taskId);
      const usable =
        prev !== undefined &&
        prev.container === reading.container &&
        reading.timestamp - prev.timestamp <= this.#maxAgeSecs;
      const cpu = usable ? cpuUsageMillicores(prev, reading) : undefined;
      const mem = stats.mem_rss_bytes;
      const usage: { cpu?: number; memory?: number } = {};
      if (cpu !== undefined) usage.cpu = cpu;
      if (mem !== undefined && Number.isFinite(mem) && mem >= 0) usage.memory = Math.round(mem);
      const windowMs =
        cpu !== undefined && prev !== undefined ? (reading.timestamp - prev.timestamp) * 1000 : 0;
      samples.push({
        ...base,
        ...(Object.keys(usage).length === 0 ? {} : { usage }),
        sampledAt: Math.round(reading.timestamp * 1000),
        windowMs: Math.round(windowMs),
      });
    }
    this.#last.set(service, next);
    return samples;
  }
}

function withCpu(cpuSecs: number | undefined): { cpuSecs?: number } {
  return cpuSecs === undefined ? {} : { cpuSecs };
}

/** One agent's containers by container id, and its top-level containers by executor id. */
interface AgentIndex {
  readonly byContainer: ReadonlyMap<string, AgentContainer>;
  readonly byExecutor: ReadonlyMap<string, AgentContainer>;
}

function indexContainers(containers: readonly AgentContainer[]): AgentIndex {
  const byContainer = new Map<string, AgentContainer>();
  const byExecutor = new Map<string, AgentContainer>();
  for (const c of containers) {
    byContainer.set(c.container_id.value, c);
    const executor = c.executor_id?.value;
    if (executor !== undefined && c.container_id.parent === undefined) byExecutor.set(executor, c);
  }
  return { byContainer, byExecutor };
}

/** The container of replica `r` on its agent. */
function findContainer(agent: AgentIndex, r: MesosReplica): AgentContainer | undefined {
  if (r.containerId !== undefined) {
    const byId = agent.byContainer.get(r.containerId);
    if (byId !== undefined) return byId;
  }
  // Under the command executor the executor id is the task id, and the executor's container is the task's.
  const executor = r.executorId ?? r.mesosTaskId;
  if (executor !== r.mesosTaskId) return undefined;
  return agent.byExecutor.get(r.mesosTaskId);
}
