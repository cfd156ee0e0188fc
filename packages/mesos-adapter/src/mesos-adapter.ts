/**
 * `createMesosAdapter`: Berth's `ClusterAdapter` on Apache Mesos — a framework over the v1 scheduler
 * API that places tasks on offers with core's placement engine.
 *
 * The loop: offers of one agent become one snapshot node; `place` decides; each agent with
 * placements gets one ACCEPT (LAUNCH, or LAUNCH_GROUP for a gang), every other offer is DECLINEd
 * with `refuse_seconds`. Offers are SUPPRESSed while nothing waits and REVIVEd when work arrives.
 * Launches are write-ahead: tasks are claimed in the state store before the ACCEPT leaves, so a
 * retry, a duplicate offer or a restarted process never launches a task twice. Status updates are
 * recorded durably, then acknowledged. After every (re)subscription the adapter reconciles the tasks
 * it knows explicitly, then implicitly. FAILED/LOST tasks are relaunched under the spec's restart
 * policy with back-off; UNREACHABLE ones wait, then get a replacement.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type AbortSignalLike,
  Autoscaler,
  type AutoscalerEvent,
  type AutoscalingSpec,
  autoscalerClusterEvent,
  type BerthDocument,
  BerthError,
  type BuiltInProfileName,
  type Capability,
  type Clock,
  type ClusterAdapter,
  type ClusterEvent,
  type ClusterNode,
  type ClusterSnapshot,
  capabilities,
  type DecideOptions,
  type Endpoint,
  type EndpointEvent,
  EndpointRegistry,
  fromMesosResources,
  fromMesosTaskState,
  isTerminal,
  type JobSpec,
  type KillOptions,
  type LogLine,
  type LogOptions,
  type LogStream,
  type MesosResource,
  type MetricsSource,
  mesosAttributeValue,
  type NodeEvent,
  type PlacementProfile,
  type PlacementTask,
  place,
  placementTaskFromSpec,
  Resources,
  type RunningTask,
  replicaTaskId,
  resolveFramework,
  Subject,
  type SubmitResult,
  type Subscribable,
  snapshotFromMesosOffers,
  systemClock,
  type TaskFilter,
  type TaskSpec,
  type TaskState,
  type TaskStatus,
  type TimerHandle,
  toAsyncIterable,
  toBerthError,
  type WatchOptions,
  type WatchTasksOptions,
} from '@berth/core';
import { MesosAgentClient } from './agent-client.ts';
import type { BackoffPolicy } from './backoff.ts';
import { MesosContainerMetrics, type MesosReplica, replicaReady } from './container-metrics.ts';
import { type MesosCredentials, MesosHttp, type MesosTlsOptions } from './mesos-http.ts';
import { MesosOperatorClient } from './operator-client.ts';
import type {
  Task as MesosTask,
  TaskStatus as MesosTaskStatus,
  Offer,
  OfferOperation,
  TaskInfo,
} from './proto/common.ts';
import type { OperatorAgent } from './proto/master.ts';
import type { SchedulerEvent } from './proto/scheduler.ts';
import { agentUrlFromPid, hostPortsOfTask, statusTimes } from './restore-view.ts';
import { agentBaseUrl, MesosSandboxFiles, sandboxPath } from './sandbox-files.ts';
import { type MesosLogger, MesosSchedulerDriver } from './scheduler-driver.ts';
import { hashOf, taskSpecFromJson, taskSpecToJson } from './spec-codec.ts';
import {
  type LaunchClaim,
  type LaunchPhase,
  MesosStateStore,
  type RecordStatusResult,
  type StoredTask,
} from './state-store.ts';
import {
  BERTH_LABELS,
  durationInfo,
  GROUP_EXECUTOR_RESOURCES,
  groupExecutorInfo,
  namedPorts,
  type TaskInfoPlace,
  taskInfoTemplate,
  taskResources,
} from './task-info.ts';

const COMPONENT = 'mesos-adapter';

export interface MesosFrameworkOptions {
  /** The framework name the master and its UI show. */
  readonly name: string;
  /** The OS user tasks run as on the agents. */
  readonly user: string;
  /** Roles to subscribe with (MULTI_ROLE); a task's tenant picks its role, else the first one. */
  readonly roles: readonly string[];
  readonly principal?: string;
  /** How long the master keeps the framework's tasks after Berth disconnects (e.g. 604800 = a week). */
  readonly failoverTimeoutSeconds: number;
  /** Ask agents to checkpoint tasks so they survive an agent restart. */
  readonly checkpoint: boolean;
}

/** How Services with an `autoscaling` block are scaled (Berth's HPA controller, run by the adapter). */
export interface MesosAutoscalingOptions {
  /** Time between autoscaler syncs (the HPA's `--horizontal-pod-autoscaler-sync-period`); default 15 000 ms. */
  readonly syncPeriodMs?: number;
  /** Tolerance, cpu initialization period, initial readiness delay (kube-controller-manager defaults). */
  readonly decide?: DecideOptions;
  /** Where replicas' usage comes from; default the agents' `GET_CONTAINERS` statistics. */
  readonly metrics?: MetricsSource;
  /** A previous container sample older than this gives no cpu rate; default 10 min. */
  readonly maxSampleAgeMs?: number;
}

/** Already-built clients (tests, custom transports); the adapter closes only what it created. */
export interface MesosAdapterClients {
  readonly http?: MesosHttp;
  readonly agents?: MesosAgentClient;
  readonly driver?: MesosSchedulerDriver;
  readonly operator?: MesosOperatorClient;
  readonly files?: MesosSandboxFiles;
  readonly store?: MesosStateStore;
}

export interface MesosAdapterOptions {
  /** Master addresses (`http(s)://host:5050`); any one may be the leader. */
  readonly masters: readonly string[];
  readonly framework: MesosFrameworkOptions;
  /** HTTP basic (`{ type: 'basic', principal, secret }`) or bearer (`{ type: 'bearer', token }`). */
  readonly auth?: MesosCredentials;
  /** A custom CA (and optional client certificate) for `https` masters and agents. */
  readonly tls?: MesosTlsOptions;
  /** The state store file; default `$XDG_STATE_HOME/berth/mesos/<framework name>.sqlite`. */
  readonly stateFile?: string;
  /** Placement profile (built-in name or profile object); default `spread`. */
  readonly profile?: PlacementProfile | BuiltInProfileName;
  readonly clock?: Clock;
  /** How long declined resources stay away (`Filters.refuse_seconds`); default 5. */
  readonly refuseSeconds?: number;
  /** How long an UNREACHABLE task waits before a replacement is launched; default 300. */
  readonly unreachableTimeoutSeconds?: number;
  /** Implicit reconciliation period; default 600 (0 = only after (re)subscribing). */
  readonly reconcileIntervalSeconds?: number;
  /** Reconnect back-off of the scheduler driver. */
  readonly backoff?: BackoffPolicy;
  /** Reconnect after this many heartbeat intervals without an event (default 5). */
  readonly missedHeartbeats?: number;
  /** Seed of the placement engine's tie-breaking. */
  readonly seed?: number;
  /** How often `logs({ follow: true })` polls the agent; default 1000 ms. */
  readonly logPollIntervalMs?: number;
  readonly logger?: MesosLogger;
  readonly autoscaling?: MesosAutoscalingOptions;
  readonly clients?: MesosAdapterClients;
}

export interface MesosAdapterClientSet {
  readonly driver: MesosSchedulerDriver;
  readonly agents: MesosAgentClient;
  /** The HPA controller scaling this adapter's autoscaled Services. */
  readonly autoscaler: Autoscaler;
  readonly operator: MesosOperatorClient;
  readonly files: MesosSandboxFiles;
  readonly store: MesosStateStore;
}

export interface EndpointWatchOptions {
  /** Start with the current endpoints as `added` events (default true). */
  readonly initial?: boolean;
  readonly signal?: AbortSignalLike;
}

export interface MesosAdapter extends ClusterAdapter {
  /** The clients underneath (escape hatch): scheduler driver, operator client, sandbox files, state store, autoscaler. */
  getClient(): MesosAdapterClientSet;
  /**
   * Changes to a Service's endpoints as they happen (`added`, `changed`, `removed` with the reason:
   * `NotRunning`, `Unhealthy`, `Gone`), each endpoint with task id, agent, host, named ports and
   * health. Ends when `signal` aborts or the adapter closes.
   */
  watchEndpoints(service: string, options?: EndpointWatchOptions): AsyncIterableIterator<EndpointEvent>;
  /**
   * Delete a Service: stop autoscaling it, kill every replica, withdraw its endpoints and forget it
   * (a later `submit` creates it afresh). Throws NOT_FOUND for an unknown service.
   */
  deleteService(service: string): Promise<void>;
}

/** What the adapter keeps per task, beside the store's durable row. */
interface Rec {
  readonly taskId: string;
  mesosTaskId: string;
  incarnation: number;
  spec: TaskSpec;
  specHash: string;
  readonly document: string;
  readonly service?: string;
  readonly job?: string;
  readonly group?: string;
  goal: 'run' | 'kill';
  phase: LaunchPhase;
  agentId?: string;
  executorId?: string;
  hostPorts: number[];
  /** `container_status.container_id` of the latest status (the container `GET_CONTAINERS` reports). */
  containerId?: string;
  /** When the task last turned ready or unready (RUNNING and, with a health check, healthy). */
  readyChangedAt?: number;
  status: TaskStatus;
  /** Not launched before this time (restart back-off). */
  notBefore: number;
  restarts: number;
  pendingReason?: string;
  unreachableTimer?: TimerHandle;
  created: number;
  started?: number;
  /** The engine's view of the task, built once per spec (offer rounds only renumber it). */
  placement?: { readonly spec: TaskSpec; readonly task: PlacementTask };
  /** The launch-independent part of its TaskInfo, built once per spec, incarnation and role. */
  taskInfo?: {
    readonly spec: TaskSpec;
    readonly mesosTaskId: string;
    readonly specHash: string;
    readonly role: string;
    readonly discoveryName: string | undefined;
    readonly build: (place: TaskInfoPlace) => TaskInfo;
  };
}

/** What the store keeps as a task's `spec`. */
interface StoredSpec {
  readonly spec: unknown;
  readonly document: string;
  readonly service?: string;
  readonly job?: string;
  readonly group?: string;
}

interface ServiceState {
  template: TaskSpec;
  replicas: number;
  discoveryName?: string;
  /** `discovery.ports`: the port names endpoints publish (absent: all). */
  discoveryPorts?: string[];
  autoscaling?: AutoscalingSpec;
}

interface JobState {
  readonly spec: JobSpec;
  nextIndex: number;
}

interface Expanded {
  readonly taskId: string;
  readonly spec: TaskSpec;
  readonly document: string;
  readonly service?: string;
  readonly job?: string;
  readonly group?: string;
}

/** Where the state store lives unless `stateFile` says otherwise. */
export function defaultStateFile(frameworkName: string): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const safe = frameworkName.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(base, 'berth', 'mesos', `${safe}.sqlite`);
}

/** Exit code from a Mesos message such as "Command exited with status 3". */
function exitCodeOf(state: TaskState, message: string | undefined): number | undefined {
  if (state === 'FINISHED') return 0;
  if (state !== 'FAILED' || message === undefined) return undefined;
  const m = /exited with status (\d+)/.exec(message);
  return m === null ? undefined : Number(m[1]);
}

function invalid(message: string, hint: string): BerthError {
  return new BerthError('SPEC_INVALID', message, { component: COMPONENT, hint });
}

function checkOptions(o: MesosAdapterOptions): void {
  const problems: string[] = [];
  if (!Array.isArray(o.masters) || o.masters.length === 0) problems.push('masters: at least one address');
  const f = o.framework;
  if (f === undefined) problems.push('framework: required');
  else {
    if (!f.name) problems.push('framework.name: required');
    if (!f.user) problems.push('framework.user: required');
    if (!Array.isArray(f.roles) || f.roles.length === 0) problems.push('framework.roles: at least one role');
    if (!(f.failoverTimeoutSeconds >= 0)) problems.push('framework.failoverTimeoutSeconds: a number >= 0');
  }
  for (const k of ['refuseSeconds', 'unreachableTimeoutSeconds', 'reconcileIntervalSeconds'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push(`${k}: a number >= 0, got ${v}`);
  }
  if (problems.length > 0) {
    throw invalid(
      `createMesosAdapter: invalid options (${problems.join('; ')})`,
      "For example createMesosAdapter({ masters: ['http://127.0.0.1:5050'], framework: { name: 'berth', user: 'root', roles: ['*'], failoverTimeoutSeconds: 604800, checkpoint: true } }).",
    );
  }
}

export function createMesosAdapter(options: MesosAdapterOptions): MesosAdapter {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const refuseSeconds = options.refuseSeconds ?? 5;
  /** The filters of every ACCEPT (one object for all of them: nothing changes it). */
  const acceptFilters = Object.freeze({ refuse_seconds: refuseSeconds });
  const unreachableMs = (options.unreachableTimeoutSeconds ?? 300) * 1000;
  const reconcileMs = (options.reconcileIntervalSeconds ?? 600) * 1000;
  const roles = [...options.framework.roles];
  const framework = resolveFramework(options.profile ?? 'spread');
  const given = options.clients ?? {};
  const http =
    given.http ??
    new MesosHttp({
      ...(options.auth === undefined ? {} : { credentials: options.auth }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
  const store =
    given.store ?? new MesosStateStore(options.stateFile ?? defaultStateFile(options.framework.name));
  const driver =
    given.driver ??
    new MesosSchedulerDriver({
      masters: options.masters,
      framework: {
        name: options.framework.name,
        user: options.framework.user,
        roles,
        ...(options.framework.principal === undefined ? {} : { principal: options.framework.principal }),
        failover_timeout: options.framework.failoverTimeoutSeconds,
        checkpoint: options.framework.checkpoint,
      },
      frameworkId: store.frameworkId,
      http,
      clock,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.missedHeartbeats === undefined ? {} : { missedHeartbeats: options.missedHeartbeats }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  const operator = given.operator ?? new MesosOperatorClient({ masters: options.masters, http, clock });
  const files = given.files ?? new MesosSandboxFiles({ http, clock });
  const agentClient = given.agents ?? new MesosAgentClient({ http });

  const recs = new Map<string, Rec>();
  const services = new Map<string, ServiceState>();
  const jobs = new Map<string, JobState>();
  const agents = new Map<string, { hostname: string; url?: string }>();
  // Agents speak TLS when the cluster does (libprocess SSL is cluster-wide): follow the masters' scheme.
  const agentScheme = options.masters.every((m) => m.startsWith('https:')) ? 'https' : 'http';
  const taskSubject = new Subject<TaskStatus>();
  const eventSubject = new Subject<ClusterEvent>();
  const nodeSubject = new Subject<NodeEvent>();
  const registry = new EndpointRegistry({
    clock,
    publishedPorts: (service) => services.get(service)?.discoveryPorts,
  });
  const closing = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  const timers = new Set<TimerHandle>();
  let state: 'new' | 'connecting' | 'connected' | 'closed' = 'new';
  let connecting: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;
  let suppressed = false;
  let seq = 0;
  let lastAt = 0;
  let reconcileTimer: TimerHandle | undefined;
  let wakeTimer: { handle: TimerHandle; at: number } | undefined;
  const log = options.logger ?? {};

  // --- autoscaling: core's HPA controller over the agents' container statistics ------------------

  /** What the metrics source needs to know about each replica of `service`. */
  const replicasOf = (service: string): MesosReplica[] => {
    const out: MesosReplica[] = [];
    for (const r of recs.values()) {
      if (r.service !== service) continue;
      const url = r.agentId === undefined || r.phase === 'pending' ? undefined : agents.get(r.agentId)?.url;
      const req = r.spec.resources.requests;
      const killing = r.goal === 'kill' && !isTerminal(r.status.state);
      out.push({
        taskId: r.taskId,
        mesosTaskId: r.mesosTaskId,
        ...(r.executorId === undefined ? {} : { executorId: r.executorId }),
        ...(r.containerId === undefined ? {} : { containerId: r.containerId }),
        ...(url === undefined ? {} : { agentUrl: url }),
        // A replica Berth is killing (scale-down) no longer counts, as the HPA ignores deleted pods.
        state: killing ? 'KILLING' : r.status.state,
        ...(r.status.healthy === undefined ? {} : { healthy: r.status.healthy }),
        hasHealthCheck: r.spec.healthCheck !== undefined,
        ...(r.started === undefined ? {} : { startedAt: r.started }),
        ...(r.readyChangedAt === undefined ? {} : { readyChangedAt: r.readyChangedAt }),
        requests: { cpu: req.cpu, memory: req.memory },
      });
    }
    return out.sort((a, b) => replicaIndex(a.taskId) - replicaIndex(b.taskId));
  };
  const replicaIndex = (taskId: string) => Number(taskId.slice(taskId.lastIndexOf('-') + 1));

  const auto = options.autoscaling ?? {};
  const metricsSource: MetricsSource =
    auto.metrics ??
    new MesosContainerMetrics({
      replicas: replicasOf,
      containers: (url, signal) => agentClient.getContainers(url, signal === undefined ? {} : { signal }),
      ...(auto.maxSampleAgeMs === undefined ? {} : { maxSampleAgeMs: auto.maxSampleAgeMs }),
      onAgentError: (url, error) => log.warn?.('GET_CONTAINERS failed', { agent: url, error: error.message }),
    });
  const autoscaler = new Autoscaler({
    metrics: metricsSource,
    scaler: {
      currentReplicas: async (service) => {
        const svc = services.get(service);
        if (svc === undefined) throw notFound(`service ${service} does not exist`, 'It was deleted.');
        return svc.replicas;
      },
      scale: (service, n) => adapter.scale(service, n),
    },
    clock,
    ...(auto.syncPeriodMs === undefined ? {} : { syncPeriodMs: auto.syncPeriodMs }),
    ...(auto.decide === undefined ? {} : { decide: auto.decide }),
  });
  autoscaler.subscribe((e: AutoscalerEvent) => {
    if (state !== 'closed') emitEvent(autoscalerClusterEvent(e));
  });
  /** Autoscale `name` when it has a policy (and the adapter is connected: start the loop). */
  const autoscale = (name: string, spec: AutoscalingSpec | undefined) => {
    if (spec === undefined) return;
    autoscaler.add(name, spec);
    if (state === 'connected') autoscaler.start();
  };

  // --- small helpers -----------------------------------------------------------------------------

  const emitEvent = (e: Omit<ClusterEvent, 'seq' | 'at'>) => {
    lastAt = Math.max(lastAt, clock.now());
    eventSubject.emit({ ...e, seq: ++seq, at: lastAt });
  };

  const track = <T>(what: string, p: Promise<T>): void => {
    const q = p.then(
      () => {},
      (err: unknown) => {
        if (state === 'closed') return;
        const e = toBerthError(err, COMPONENT);
        log.warn?.(`${what} failed`, { error: e.message });
        emitEvent({ level: 'warning', kind: 'BackendCallFailed', message: `${what}: ${e.message}` });
      },
    );
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
  };

  const setTimer = (fn: () => void, ms: number): TimerHandle => {
    const h = clock.setTimeout(() => {
      timers.delete(h);
      if (state !== 'closed') fn();
    }, ms);
    timers.add(h);
    return h;
  };
  const clearTimer = (h: TimerHandle | undefined) => {
    if (h === undefined) return;
    timers.delete(h);
    clock.clearTimeout(h);
  };

  const ready = (op: string) => {
    if (state === 'connected') return;
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      state === 'closed' ? `${op}: the Mesos adapter is closed` : `${op}: the Mesos adapter is not connected`,
      { component: COMPONENT, hint: state === 'closed' ? 'Create a new adapter.' : 'Call connect() first.' },
    );
  };

  const roleOf = (spec: TaskSpec): string => (roles.includes(spec.tenant) ? spec.tenant : roles[0]!);

  const statusOf = (
    rec: Rec,
    patch: Partial<TaskStatus> & Pick<TaskStatus, 'state' | 'rawState'>,
    /** When it finished / was last updated, if known (restored from the master's statuses). */
    at: { finished?: number; updated?: number } = {},
  ): TaskStatus => {
    const now = clock.now();
    const agent = rec.agentId === undefined ? undefined : agents.get(rec.agentId);
    const terminal = isTerminal(patch.state);
    return {
      taskId: rec.taskId,
      ports: rec.phase === 'pending' ? {} : namedPorts(rec.spec, rec.hostPorts),
      ...(rec.agentId === undefined || rec.phase === 'pending' ? {} : { nodeId: rec.agentId }),
      ...(agent === undefined || rec.phase === 'pending' ? {} : { hostname: agent.hostname }),
      ...(rec.service === undefined ? {} : { service: rec.service }),
      backend: 'mesos',
      ...patch,
      timestamps: {
        created: rec.created,
        ...(rec.started === undefined ? {} : { started: rec.started }),
        ...(terminal ? { finished: at.finished ?? now } : {}),
        updated: at.updated ?? now,
      },
    };
  };

  const publish = (rec: Rec, status: TaskStatus, quiet = false) => {
    const before = rec.status;
    rec.status = status;
    taskSubject.emit(status);
    if (rec.service !== undefined) registry.apply(status); // only replicas of a Service are endpoints
    if (quiet) return;
    if (before.state === status.state && before.message === status.message) return;
    emitEvent({
      level:
        status.state === 'FAILED' || status.state === 'LOST' || status.state === 'ERROR' ? 'warning' : 'info',
      kind:
        status.state === 'PENDING' && status.reason === 'Unschedulable'
          ? 'Unschedulable'
          : 'TaskStateChanged',
      message: `${rec.taskId} ${status.state}${status.message ? `: ${status.message}` : ''}`,
      taskId: rec.taskId,
      ...(status.nodeId === undefined ? {} : { nodeId: status.nodeId }),
      ...(rec.service === undefined ? {} : { service: rec.service }),
      state: status.state,
    });
  };

  const pending = (rec: Rec, reason: string, message: string) =>
    publish(rec, statusOf(rec, { state: 'PENDING', rawState: 'PENDING', reason, message }));

  const wantsOffers = (): boolean => {
    for (const r of recs.values()) if (r.goal === 'run' && r.phase === 'pending') return true;
    return false;
  };

  /** SUPPRESS when nothing waits for offers, REVIVE when something does. */
  const offerInterest = (forceRevive = false) => {
    if (state !== 'connected' || driver.state.phase !== 'subscribed') return;
    const want = wantsOffers();
    if (want && (suppressed || forceRevive)) {
      suppressed = false;
      track('REVIVE', driver.revive(roles));
    } else if (!want && !suppressed) {
      suppressed = true;
      track('SUPPRESS', driver.suppress(roles));
    }
  };

  /** Wake up (REVIVE) when the earliest restart back-off ends. */
  const scheduleWake = () => {
    let earliest = Number.POSITIVE_INFINITY;
    const now = clock.now();
    for (const r of recs.values()) {
      if (r.goal === 'run' && r.phase === 'pending' && r.notBefore > now)
        earliest = Math.min(earliest, r.notBefore);
    }
    if (earliest === Number.POSITIVE_INFINITY || (wakeTimer !== undefined && wakeTimer.at <= earliest))
      return;
    clearTimer(wakeTimer?.handle);
    const handle = setTimer(() => {
      wakeTimer = undefined;
      offerInterest(true);
      scheduleWake();
    }, earliest - now);
    wakeTimer = { handle, at: earliest };
  };

  const saveService = (name: string, s: ServiceState) =>
    store.putWorkload({
      name,
      kind: 'Service',
      document: {
        template: taskSpecToJson(s.template),
        replicas: s.replicas,
        discoveryName: s.discoveryName,
        discoveryPorts: s.discoveryPorts,
        autoscaling: s.autoscaling,
      },
    });

  const storedSpec = (e: Expanded): StoredSpec => ({
    spec: taskSpecToJson(e.spec),
    document: e.document,
    ...(e.service === undefined ? {} : { service: e.service }),
    ...(e.job === undefined ? {} : { job: e.job }),
    ...(e.group === undefined ? {} : { group: e.group }),
  });

  const newRec = (e: Expanded, specHash: string, created = clock.now()): Rec => {
    const now = created;
    const rec: Rec = {
      taskId: e.taskId,
      mesosTaskId: e.taskId,
      incarnation: 0,
      spec: e.spec,
      specHash,
      document: e.document,
      ...(e.service === undefined ? {} : { service: e.service }),
      ...(e.job === undefined ? {} : { job: e.job }),
      ...(e.group === undefined ? {} : { group: e.group }),
      goal: 'run',
      phase: 'pending',
      hostPorts: [],
      notBefore: 0,
      restarts: 0,
      created: now,
      status: {
        taskId: e.taskId,
        state: 'PENDING',
        rawState: 'PENDING',
        reason: 'WaitingForOffers',
        message: 'waiting for a Mesos offer',
        ports: {},
        ...(e.service === undefined ? {} : { service: e.service }),
        timestamps: { created: now, updated: now },
        backend: 'mesos',
      },
    };
    recs.set(e.taskId, rec);
    prepareLaunch(rec);
    return rec;
  };

  /** Build what every launch of `rec` reuses when it is registered, not in an offer round. */
  const prepareLaunch = (rec: Rec) => {
    try {
      placementTaskOf(rec);
      const discoveryName = rec.service === undefined ? undefined : services.get(rec.service)?.discoveryName;
      taskInfoOf(rec, roleOf(rec.spec), discoveryName);
    } catch {
      // A task that cannot be placed or launched fails in the offer round, where that is reported.
    }
  };

  /** Put an ended (or killed) task back in the queue: same id, fresh launch. */
  const requeue = (rec: Rec, delayMs: number, reason: string, message: string) => {
    store.releaseLaunch(rec.taskId);
    rec.phase = 'pending';
    rec.goal = 'run';
    rec.notBefore = clock.now() + delayMs;
    rec.hostPorts = [];
    delete rec.started;
    delete rec.containerId;
    delete rec.readyChangedAt;
    pending(rec, reason, message);
    scheduleWake();
  };

  // --- submit ------------------------------------------------------------------------------------

  const expand = (documents: readonly BerthDocument[]): Expanded[] => {
    if (!Array.isArray(documents)) {
      throw invalid(
        'submit: documents must be an array of Berth documents',
        'Pass the output of parseDocuments().',
      );
    }
    const out: Expanded[] = [];
    for (const [i, doc] of documents.entries()) {
      const name = doc?.metadata?.name;
      if (typeof name !== 'string' || name === '' || doc.spec === undefined) {
        throw invalid(
          `submit: documents[${i}] has no metadata.name or spec`,
          'Validate documents with parseDocuments() first.',
        );
      }
      const document = `${doc.kind}/${name}`;
      if (doc.kind === 'Task') out.push({ taskId: name, spec: doc.spec, document });
      else if (doc.kind === 'Service') {
        for (let r = 0; r < doc.spec.replicas; r++) {
          out.push({ taskId: replicaTaskId(name, r), spec: doc.spec.template, document, service: name });
        }
      } else if (doc.kind === 'Job') {
        const n = Math.min(doc.spec.parallelism, doc.spec.completions);
        for (let r = 0; r < n; r++) {
          out.push({
            taskId: replicaTaskId(name, r),
            spec: doc.spec.template,
            document,
            job: name,
            ...(doc.spec.gang ? { group: name } : {}),
          });
        }
      } else {
        throw invalid(
          `submit: documents[${i}] has unknown kind ${JSON.stringify((doc as { kind: unknown }).kind)}`,
          'Use Task, Service or Job.',
        );
      }
    }
    const seen = new Map<string, string>();
    for (const e of out) {
      const h = hashOf(e.spec);
      const prev = seen.get(e.taskId);
      if (prev !== undefined && prev !== h) {
        throw invalid(
          `submit: task id ${e.taskId} appears twice in one batch with different specs`,
          'Give each Task, Service and Job a distinct metadata.name.',
        );
      }
      seen.set(e.taskId, h);
    }
    return out;
  };

  const hashFor = (e: Expanded) =>
    hashOf({ spec: e.spec, service: e.service ?? null, job: e.job ?? null, group: e.group ?? null });

  // --- offers → placement → ACCEPT ---------------------------------------------------------------

  const runningByAgent = (): Map<string, RunningTask[]> => {
    const m = new Map<string, RunningTask[]>();
    for (const r of recs.values()) {
      if (r.agentId === undefined || r.phase === 'pending' || isTerminal(r.status.state)) continue;
      const list = m.get(r.agentId) ?? [];
      list.push({
        id: r.taskId,
        app: r.spec.name,
        tenant: r.spec.tenant,
        labels: r.spec.labels,
        priority: r.spec.priority,
      });
      m.set(r.agentId, list);
    }
    return m;
  };

  const offerRole = (o: Offer): string =>
    o.allocation_info?.role ??
    o.resources?.find((r) => r.allocation_info?.role)?.allocation_info?.role ??
    roles[0]!;

  // One OFFERS round's calls (an ACCEPT per agent, a DECLINE) are written to the master together.
  const onOffers = (offers: readonly Offer[]) => driver.batch(() => handleOffers(offers));

  const handleOffers = (offers: readonly Offer[]) => {
    for (const o of offers) {
      const known = agents.get(o.agent_id.value);
      let url: string | undefined;
      try {
        // Prefer the address the agent bound (`ip`): its hostname need not resolve where Berth runs.
        const u = o.url as Parameters<typeof agentBaseUrl>[0] | undefined;
        url =
          u === undefined
            ? known?.url
            : agentBaseUrl({ ...u, address: { ...u.address, hostname: u.address.ip ?? u.address.hostname } });
      } catch {
        url = known?.url;
      }
      if (known === undefined) {
        agents.set(o.agent_id.value, { hostname: o.hostname, ...(url === undefined ? {} : { url }) });
        emitEvent({
          level: 'info',
          kind: 'NodeAdded',
          message: `agent ${o.hostname} offers resources`,
          nodeId: o.agent_id.value,
        });
      } else if (url !== undefined && known.url !== url) known.url = url;
    }
    const now = clock.now();
    const waiting = [...recs.values()].filter(
      (r) => r.goal === 'run' && r.phase === 'pending' && r.notBefore <= now,
    );
    const decline: string[] = [];
    if (waiting.length === 0) {
      for (const o of offers) decline.push(o.id.value);
    } else {
      const byRole = new Map<string, Offer[]>();
      for (const o of offers) {
        const role = offerRole(o);
        const list = byRole.get(role) ?? [];
        list.push(o);
        byRole.set(role, list);
      }
      const running = runningByAgent();
      for (const [role, roleOffers] of byRole) {
        const tasks = waiting.filter((r) => roleOf(r.spec) === role);
        if (tasks.length === 0) {
          for (const o of roleOffers) decline.push(o.id.value);
          continue;
        }
        decline.push(...placeOnOffers(role, roleOffers, tasks, running));
      }
    }
    if (decline.length > 0) track('DECLINE', driver.decline(decline, refuseSeconds));
    offerInterest();
  };

  const placementTaskOf = (r: Rec): PlacementTask => {
    if (r.placement?.spec !== r.spec) {
      const task = placementTaskFromSpec(
        r.spec,
        r.taskId,
        { [BERTH_LABELS.taskId]: r.taskId },
        { sequence: 0, ...(r.group === undefined ? {} : { group: r.group }) },
      );
      r.placement = { spec: r.spec, task };
    }
    return r.placement.task;
  };

  const taskInfoOf = (r: Rec, role: string, discoveryName: string | undefined) => {
    const c = r.taskInfo;
    if (
      c !== undefined &&
      c.spec === r.spec &&
      c.mesosTaskId === r.mesosTaskId &&
      c.specHash === r.specHash &&
      c.role === role &&
      c.discoveryName === discoveryName
    ) {
      return c.build;
    }
    const build = taskInfoTemplate({
      taskId: r.taskId,
      mesosTaskId: r.mesosTaskId,
      spec: r.spec,
      role,
      specHash: r.specHash,
      ...(r.service === undefined ? {} : { service: r.service }),
      ...(r.job === undefined ? {} : { job: r.job }),
      ...(discoveryName === undefined ? {} : { discoveryName }),
    });
    r.taskInfo = {
      spec: r.spec,
      mesosTaskId: r.mesosTaskId,
      specHash: r.specHash,
      role,
      discoveryName,
      build,
    };
    return build;
  };

  /** Place `tasks` on one role's offers, claim and ACCEPT; returns the offer ids to decline. */
  const placeOnOffers = (
    role: string,
    offers: readonly Offer[],
    tasks: readonly Rec[],
    running: ReadonlyMap<string, readonly RunningTask[]>,
  ): string[] => {
    const snapshot = snapshotFromMesosOffers(offers as Parameters<typeof snapshotFromMesosOffers>[0], {
      role,
      tasks: running,
    });
    const byId = new Map(tasks.map((r) => [r.taskId, r]));
    const input: PlacementTask[] = tasks.map((r, i) => ({ ...placementTaskOf(r), sequence: i }));
    const result = place(input, snapshot, framework, {
      seed: options.seed ?? 0,
      explain: { alternatives: 0 },
      now: clock.now(),
    });
    // Gangs are all-or-nothing: drop a group's placements unless every waiting member got one.
    const failedGroups = new Map<string, string>();
    for (const u of result.unplaceable) {
      const g = byId.get(u.taskId)?.group;
      if (g !== undefined && !failedGroups.has(g)) failedGroups.set(g, u.explanation.message);
    }
    const offersByAgent = new Map<string, Offer[]>();
    for (const o of offers) {
      const list = offersByAgent.get(o.agent_id.value) ?? [];
      list.push(o);
      offersByAgent.set(o.agent_id.value, list);
    }
    // The DEFAULT executor of a gang needs room on each agent it lands on (only gangs need the sums).
    const used = new Map<string, Resources>();
    if (tasks.some((r) => r.group !== undefined)) {
      for (const p of result.placements) {
        const r = byId.get(p.taskId)!;
        used.set(p.nodeId, (used.get(p.nodeId) ?? Resources.ZERO).add(taskResources(r.spec, p.ports)));
      }
    }
    const groupAgents = new Map<string, Set<string>>();
    for (const p of result.placements) {
      const g = byId.get(p.taskId)?.group;
      if (g === undefined) continue;
      const set = groupAgents.get(g) ?? new Set<string>();
      set.add(p.nodeId);
      groupAgents.set(g, set);
    }
    for (const [g, agentIds] of groupAgents) {
      if (failedGroups.has(g)) continue;
      for (const a of agentIds) {
        const offered = fromMesosResources(
          (offersByAgent.get(a) ?? []).flatMap((o) => (o.resources ?? []) as MesosResource[]),
          { role, unsupported: 'skip' },
        );
        const need = (used.get(a) ?? Resources.ZERO).add(GROUP_EXECUTOR_RESOURCES);
        if (!need.withPorts(offered.ports).fits(offered)) {
          failedGroups.set(g, `gang ${g}: no room for the group executor on agent ${a}`);
        }
      }
    }
    const placements = result.placements.filter((p) => {
      const g = byId.get(p.taskId)?.group;
      return g === undefined || !failedGroups.has(g);
    });
    const claims: LaunchClaim[] = placements.map((p) => ({
      taskId: p.taskId,
      agentId: p.nodeId,
      offerId: offersByAgent.get(p.nodeId)![0]!.id.value,
    }));
    const granted = new Set(store.claimMany(claims).map((c) => c.taskId));
    const ops = new Map<string, { tasks: TaskInfo[]; groups: Map<string, TaskInfo[]> }>();
    for (const p of placements) {
      if (!granted.has(p.taskId)) continue;
      const rec = byId.get(p.taskId)!;
      rec.phase = 'launching';
      rec.agentId = p.nodeId;
      rec.hostPorts = [...p.ports];
      const svc = rec.service === undefined ? undefined : services.get(rec.service);
      let info: TaskInfo;
      try {
        info = taskInfoOf(
          rec,
          role,
          svc?.discoveryName,
        )({
          agentId: p.nodeId,
          hostname: p.hostname,
          hostPorts: p.ports,
        });
      } catch (err) {
        failLaunch(rec, toBerthError(err, COMPONENT).message);
        continue;
      }
      publish(
        rec,
        statusOf(rec, {
          state: 'STAGING',
          rawState: 'LAUNCHING',
          reason: 'Accepted',
          message: `launching on ${p.hostname}`,
        }),
      );
      const entry = ops.get(p.nodeId) ?? { tasks: [], groups: new Map<string, TaskInfo[]>() };
      if (rec.group === undefined) entry.tasks.push(info);
      else {
        const list = entry.groups.get(rec.group) ?? [];
        list.push(info);
        entry.groups.set(rec.group, list);
      }
      ops.set(p.nodeId, entry);
    }
    for (const u of result.unplaceable) {
      const rec = byId.get(u.taskId);
      if (rec !== undefined) pending(rec, 'Unschedulable', u.explanation.message);
    }
    for (const r of tasks) {
      if (r.phase === 'pending' && r.group !== undefined && failedGroups.has(r.group) && byId.has(r.taskId)) {
        if (result.unplaceable.some((u) => u.taskId === r.taskId)) continue;
        pending(r, 'Unschedulable', `gang ${r.group} is placed all-or-nothing: ${failedGroups.get(r.group)}`);
      }
    }
    const decline: string[] = [];
    for (const [agentId, agentOffers] of offersByAgent) {
      const entry = ops.get(agentId);
      const offerIds = agentOffers.map((o) => o.id.value);
      if (entry === undefined) {
        decline.push(...offerIds);
        continue;
      }
      const operations: OfferOperation[] = [];
      if (entry.tasks.length > 0) operations.push({ type: 'LAUNCH', launch: { task_infos: entry.tasks } });
      for (const [g, infos] of entry.groups) {
        operations.push({
          type: 'LAUNCH_GROUP',
          launch_group: {
            executor: groupExecutorInfo(
              `berth-${g}-${agentId}`.slice(0, 200),
              driver.frameworkId ?? '',
              role,
            ),
            task_group: { tasks: infos },
          },
        });
      }
      // The launched task ids are needed only when the ACCEPT fails.
      const launchedIds = () =>
        [...entry.tasks, ...[...entry.groups.values()].flat()].map((t) => t.task_id.value);
      const p = driver.accept(offerIds, operations, acceptFilters).catch((err: unknown) => {
        const launched = launchedIds();
        const e = toBerthError(err, COMPONENT);
        if (e.code === 'SPEC_INVALID') {
          for (const id of launched) {
            const rec = recs.get(berthIdOf(id));
            if (rec !== undefined) failLaunch(rec, `the master refused the launch: ${e.message}`);
          }
          return;
        }
        // It may or may not have reached the master: ask (unknown tasks come back TASK_UNKNOWN).
        const ask = launched.map((id) => ({ taskId: id, agentId }));
        if (driver.state.phase === 'subscribed') track('RECONCILE', driver.reconcile(ask));
        throw e;
      });
      track(`ACCEPT on agent ${agentId}`, p);
    }
    return decline;
  };

  /** A launch that can never work (bad TaskInfo, refused call): ERROR, not retried. */
  const failLaunch = (rec: Rec, message: string) => {
    onStatus(rec, {
      task_id: { value: rec.mesosTaskId },
      state: 'TASK_ERROR',
      source: 'SOURCE_MASTER',
      reason: 'REASON_TASK_INVALID',
      message,
      timestamp: clock.now() / 1000,
    });
  };

  // --- status updates ----------------------------------------------------------------------------

  const berthIdOf = (mesosTaskId: string): string => {
    const dot = mesosTaskId.indexOf('.');
    return dot < 0 ? mesosTaskId : mesosTaskId.slice(0, dot);
  };

  // The updates read from the stream in one turn of the event loop are recorded in one transaction
  // — one disk sync instead of one per update — before any of them is applied or acknowledged.
  // Any other event first flushes the updates before it, so the order of events is kept.
  let updates: MesosTaskStatus[] = [];
  let updateFlush: ReturnType<typeof setImmediate> | undefined;
  const onUpdate = (status: MesosTaskStatus) => {
    updates.push(status);
    updateFlush ??= setImmediate(flushUpdates);
  };

  const flushUpdates = () => {
    if (updateFlush !== undefined) clearImmediate(updateFlush);
    updateFlush = undefined;
    if (updates.length === 0) return;
    const batch = updates;
    updates = [];
    if (state === 'closed') return;
    let recorded: RecordStatusResult[];
    try {
      recorded = store.recordStatuses(batch);
    } catch (err) {
      // Not durable → not acknowledged: the master sends them again.
      log.error?.('cannot record status updates', { error: (err as Error).message, count: batch.length });
      return;
    }
    batch.forEach((status, i) => {
      try {
        applyUpdate(status, recorded[i]!);
      } catch (err) {
        handlingFailed('UPDATE', err);
      }
    });
  };

  const applyUpdate = (status: MesosTaskStatus, recorded: RecordStatusResult) => {
    const mesosId = status.task_id.value;
    const rec = recs.get(berthIdOf(mesosId));
    if (rec !== undefined && recorded.applied && rec.mesosTaskId === mesosId) onStatus(rec, status);
    else if (
      rec !== undefined &&
      rec.mesosTaskId !== mesosId &&
      !isTerminal(fromMesosTaskState(status.state))
    ) {
      // An earlier incarnation came back after its replacement: stop it.
      track(
        `KILL ${mesosId}`,
        driver.kill(mesosId, status.agent_id === undefined ? {} : { agentId: status.agent_id.value }),
      );
    }
    if (recorded.ackRequired && status.uuid !== undefined && status.agent_id !== undefined) {
      const uuid = status.uuid;
      track(
        `ACKNOWLEDGE ${mesosId}`,
        driver
          .acknowledge({ agentId: status.agent_id.value, taskId: mesosId, uuid })
          .then(() => acknowledged(mesosId, uuid)),
      );
    }
  };

  // Acknowledgements the master took are forgotten in batches (one transaction per event-loop turn);
  // one lost by a crash is only sent again, which Mesos ignores.
  let acked: { taskId: string; uuid: string }[] = [];
  let ackFlush: ReturnType<typeof setImmediate> | undefined;
  const acknowledged = (taskId: string, uuid: string) => {
    if (state === 'closed') return;
    acked.push({ taskId, uuid });
    ackFlush ??= setImmediate(flushAcked);
  };
  const flushAcked = () => {
    ackFlush = undefined;
    const batch = acked;
    acked = [];
    try {
      store.completeAcks(batch);
    } catch (err) {
      log.error?.('cannot record acknowledgements', { error: (err as Error).message });
    }
  };

  const restartDelayMs = (spec: TaskSpec, restarts: number): number => {
    const p = spec.restartPolicy;
    if (p.policy === 'never') return 0;
    const s = Math.min(p.backoffSeconds * 2 ** Math.max(0, restarts - 1), p.maxBackoffSeconds);
    return Math.round(s * 1000);
  };

  const shouldRestart = (rec: Rec, state: TaskState): boolean => {
    if (rec.goal !== 'run') return false;
    const p = rec.spec.restartPolicy;
    if (state === 'ERROR' || state === 'KILLED') return false;
    if (p.policy === 'never') return false;
    if (p.policy === 'on-failure')
      return (state === 'FAILED' || state === 'LOST') && rec.restarts < p.maxRetries;
    return rec.job === undefined || state !== 'FINISHED';
  };

  const onStatus = (rec: Rec, status: MesosTaskStatus) => {
    const raw = status.state;
    if (rec.phase === 'pending') return; // about an earlier launch; this one has not started yet
    if (rec.phase === 'launching' && (raw === 'TASK_UNKNOWN' || raw === 'TASK_DROPPED')) {
      // The master never saw the launch (or dropped it): launch again, unless it is no longer wanted.
      if (rec.goal === 'kill') {
        store.recordStatus({ ...status, state: 'TASK_KILLED' });
        rec.phase = 'launched';
        publish(
          rec,
          statusOf(rec, {
            state: 'KILLED',
            rawState: raw,
            reason: 'KilledBeforeLaunch',
            message: 'killed before it was launched',
          }),
        );
        return;
      }
      requeue(
        rec,
        0,
        'LaunchDropped',
        `the launch did not reach an agent (${raw}${status.message ? `: ${status.message}` : ''}); launching again`,
      );
      offerInterest(true);
      return;
    }
    let unified: TaskState;
    try {
      unified = fromMesosTaskState(raw, status.reason);
    } catch (err) {
      log.warn?.('unknown Mesos task state', { state: raw, error: (err as Error).message });
      return;
    }
    const prev = rec.status;
    if (isTerminal(prev.state) && rec.phase === 'launched' && prev.rawState === raw) return; // duplicate
    rec.phase = 'launched';
    if (status.agent_id !== undefined) rec.agentId = status.agent_id.value;
    if (status.executor_id !== undefined) rec.executorId = status.executor_id.value;
    const containerId = status.container_status?.container_id?.value;
    if (containerId !== undefined) rec.containerId = containerId;
    if (unified === 'RUNNING' && rec.started === undefined) rec.started = clock.now();
    const exitCode = exitCodeOf(unified, status.message);
    // Mesos sets `healthy` on the updates a health check produced; other RUNNING updates (e.g.
    // reconciliation answers without it) keep the last result.
    const healthy =
      status.healthy ?? (unified === 'RUNNING' && prev.state === 'RUNNING' ? prev.healthy : undefined);
    const next = statusOf(rec, {
      state: unified,
      rawState: raw,
      ...(status.reason === undefined ? {} : { reason: status.reason }),
      ...(status.message === undefined ? {} : { message: status.message }),
      ...(exitCode === undefined ? {} : { exitCode }),
      ...(healthy === undefined ? {} : { healthy }),
    });
    const hasHealthCheck = rec.spec.healthCheck !== undefined;
    if (replicaReady({ ...prev, hasHealthCheck }) !== replicaReady({ ...next, hasHealthCheck })) {
      rec.readyChangedAt = clock.now();
    }
    publish(rec, next);
    if (unified === 'UNREACHABLE') {
      if (rec.unreachableTimer === undefined && rec.goal === 'run') {
        rec.unreachableTimer = setTimer(() => replaceUnreachable(rec), unreachableMs);
      }
    } else {
      clearTimer(rec.unreachableTimer);
      delete rec.unreachableTimer;
    }
    if (rec.goal === 'kill' && !isTerminal(unified) && unified !== 'KILLING' && unified !== 'UNREACHABLE') {
      // It started after Berth asked to kill it (the KILL overtook the launch): kill it again.
      track(
        `KILL ${rec.mesosTaskId}`,
        driver.kill(rec.mesosTaskId, killArgs(rec, rec.spec.killGracePeriodSeconds)),
      );
    }
    if (!isTerminal(unified)) return;
    if (shouldRestart(rec, unified)) {
      rec.restarts++;
      const delay = restartDelayMs(rec.spec, rec.restarts);
      requeue(
        rec,
        delay,
        'BackOff',
        `restart ${rec.restarts} after ${unified}${status.message ? ` (${status.message})` : ''} in ${Math.round(delay / 1000)}s`,
      );
      offerInterest(delay === 0);
      return;
    }
    if (rec.job !== undefined) advanceJob(rec.job);
    offerInterest();
  };

  const replaceUnreachable = (rec: Rec) => {
    delete rec.unreachableTimer;
    if (rec.status.state !== 'UNREACHABLE' || rec.goal !== 'run') return;
    const old = rec.mesosTaskId;
    const agentId = rec.agentId;
    track(`KILL ${old}`, driver.kill(old, agentId === undefined ? {} : { agentId }));
    rec.incarnation++;
    rec.mesosTaskId = `${rec.taskId}.${rec.incarnation}`;
    prepareLaunch(rec);
    store.newIncarnation(rec.taskId, rec.mesosTaskId);
    rec.phase = 'pending';
    rec.notBefore = 0;
    rec.hostPorts = [];
    delete rec.agentId;
    delete rec.started;
    pending(
      rec,
      'Replacing',
      `unreachable for ${Math.round(unreachableMs / 1000)}s on agent ${agentId ?? '?'}: launching a replacement`,
    );
    offerInterest(true);
  };

  /** Start the next task of a Job once one ends, until enough have succeeded. */
  const advanceJob = (name: string) => {
    const job = jobs.get(name);
    if (job === undefined || job.spec.gang) return;
    const mine = [...recs.values()].filter((r) => r.job === name);
    const succeeded = mine.filter((r) => r.status.state === 'FINISHED').length;
    const failed = mine.filter(
      (r) => isTerminal(r.status.state) && r.status.state !== 'FINISHED' && r.status.state !== 'KILLED',
    ).length;
    const active = mine.filter((r) => r.goal === 'run' && !isTerminal(r.status.state)).length;
    if (failed > job.spec.backoffLimit) return;
    let toStart = Math.min(job.spec.parallelism - active, job.spec.completions - succeeded - active);
    const added: Expanded[] = [];
    while (toStart-- > 0) {
      while (recs.has(replicaTaskId(name, job.nextIndex))) job.nextIndex++;
      added.push({
        taskId: replicaTaskId(name, job.nextIndex),
        spec: job.spec.template,
        document: `Job/${name}`,
        job: name,
      });
      job.nextIndex++;
    }
    if (added.length > 0) addTasks(added);
  };

  /** New tasks into the store (durably) and the queue. */
  const addTasks = (list: readonly Expanded[]) => {
    const createdAt = clock.now();
    const rows = list.map((e) => ({
      taskId: e.taskId,
      specHash: hashFor(e),
      spec: storedSpec(e),
      createdAt,
    }));
    store.upsertDesired(rows);
    for (const [i, e] of list.entries()) {
      const rec = recs.get(e.taskId);
      if (rec === undefined) {
        const r = newRec(e, rows[i]!.specHash, createdAt);
        publish(r, r.status);
      } else if (rec.goal === 'kill' || isTerminal(rec.status.state)) {
        rec.restarts = 0;
        requeue(rec, 0, 'WaitingForOffers', 'waiting for a Mesos offer');
      }
    }
    offerInterest(true);
  };

  const killArgs = (rec: Rec, grace: number) => ({
    ...(rec.agentId === undefined ? {} : { agentId: rec.agentId }),
    killPolicy: { grace_period: durationInfo(grace) },
  });

  // --- (re)subscription and reconciliation -------------------------------------------------------

  const onSubscribed = (frameworkId: string) => {
    if (store.frameworkId !== frameworkId) store.setFrameworkId(frameworkId);
    suppressed = false;
    emitEvent({
      level: 'info',
      kind: 'Connected',
      message: `subscribed to ${driver.state.leader ?? 'the Mesos master'} as framework ${frameworkId}`,
    });
    for (const ack of store.pendingAcks()) {
      track(
        `ACKNOWLEDGE ${ack.taskId}`,
        driver.acknowledge(ack).then(() => acknowledged(ack.taskId, ack.uuid)),
      );
    }
    const known = [...recs.values()]
      .filter((r) => r.phase !== 'pending' && !isTerminal(r.status.state))
      .map((r) => ({ taskId: r.mesosTaskId, ...(r.agentId === undefined ? {} : { agentId: r.agentId }) }));
    // Explicit first (what Berth knows), then implicit (what the master knows).
    track(
      'RECONCILE',
      (known.length > 0 ? driver.reconcile(known) : Promise.resolve()).then(() => driver.reconcile()),
    );
    offerInterest(true);
  };

  const onEvent = (event: SchedulerEvent) => {
    if (state === 'closed') return;
    try {
      if (event.type !== 'UPDATE') flushUpdates();
      switch (event.type) {
        case 'SUBSCRIBED':
          onSubscribed(event.subscribed.framework_id.value);
          return;
        case 'OFFERS':
          onOffers(event.offers.offers ?? []);
          return;
        case 'UPDATE':
          onUpdate(event.update.status);
          return;
        case 'FAILURE': {
          const agentId = event.failure.agent_id?.value;
          if (agentId !== undefined && event.failure.executor_id === undefined) {
            const a = agents.get(agentId);
            agents.delete(agentId);
            emitEvent({
              level: 'warning',
              kind: 'NodeRemoved',
              message: `agent ${a?.hostname ?? agentId} was removed`,
              nodeId: agentId,
            });
          }
          return;
        }
        case 'ERROR':
          emitEvent({
            level: 'warning',
            kind: 'Disconnected',
            message: `the master ended the subscription: ${event.error.message}`,
          });
          return;
        default:
          return;
      }
    } catch (err) {
      handlingFailed(event.type, err);
    }
  };

  const handlingFailed = (type: string, err: unknown) => {
    const e = toBerthError(err, COMPONENT);
    log.error?.(`handling ${type} failed`, { error: e.message });
    emitEvent({ level: 'warning', kind: 'InternalError', message: `handling ${type}: ${e.message}` });
  };

  /** Rebuild the in-memory view from the store (and the master's task list for ports and agents). */
  const restore = async () => {
    for (const w of store.workloads()) {
      const doc = w.document as {
        template: unknown;
        replicas?: number;
        discoveryName?: string;
        discoveryPorts?: string[];
        autoscaling?: AutoscalingSpec;
        job?: unknown;
      };
      if (w.kind === 'Service') {
        services.set(w.name, {
          template: taskSpecFromJson(doc.template),
          replicas: doc.replicas ?? 0,
          ...(doc.discoveryName === undefined ? {} : { discoveryName: doc.discoveryName }),
          ...(doc.discoveryPorts === undefined ? {} : { discoveryPorts: doc.discoveryPorts }),
          ...(doc.autoscaling === undefined ? {} : { autoscaling: doc.autoscaling }),
        });
        autoscale(w.name, doc.autoscaling);
      } else if (w.kind === 'Job') {
        const j = doc.job as Omit<JobSpec, 'template'>;
        jobs.set(w.name, { spec: { ...j, template: taskSpecFromJson(doc.template) }, nextIndex: 0 });
      }
    }
    const stored: StoredTask[] = store.tasks();
    if (stored.length === 0) return;
    let master: MesosTask[] = [];
    let agentList: OperatorAgent[] = [];
    try {
      const st = await operator.getState(closing.signal);
      // Completed tasks too: their sandboxes (logs) and end times outlive them on the agent.
      master = [
        ...(st.get_tasks?.completed_tasks ?? []),
        ...(st.get_tasks?.tasks ?? []),
        ...(st.get_tasks?.unreachable_tasks ?? []),
      ];
      agentList = st.get_agents?.agents ?? [];
    } catch {
      // Reconciliation fills the gaps; ports of running tasks come back with their next status.
    }
    for (const a of agentList) {
      const info = a.agent_info;
      if (info.id === undefined || agents.has(info.id.value)) continue;
      // The pid holds the address the agent bound; its hostname need not resolve where Berth runs.
      const url =
        agentUrlFromPid(a.pid, agentScheme) ??
        (info.port === undefined ? undefined : `${agentScheme}://${info.hostname}:${info.port}`);
      agents.set(info.id.value, { hostname: info.hostname, ...(url === undefined ? {} : { url }) });
    }
    const byMesosId = new Map(master.map((t) => [t.task_id.value, t]));
    for (const t of stored) {
      const s = t.spec as StoredSpec;
      const e: Expanded = {
        taskId: t.taskId,
        spec: taskSpecFromJson(s.spec),
        document: s.document,
        ...(s.service === undefined ? {} : { service: s.service }),
        ...(s.job === undefined ? {} : { job: s.job }),
        ...(s.group === undefined ? {} : { group: s.group }),
      };
      const rec = newRec(e, t.specHash, t.createdAt);
      rec.mesosTaskId = t.mesosTaskId;
      const dot = t.mesosTaskId.indexOf('.');
      rec.incarnation = dot < 0 ? 0 : Number(t.mesosTaskId.slice(dot + 1)) || 0;
      rec.goal = t.goal;
      rec.phase = t.phase;
      rec.restarts = Math.max(0, t.launchAttempts - 1);
      if (t.agentId !== undefined) rec.agentId = t.agentId;
      const m = byMesosId.get(t.mesosTaskId);
      const times = statusTimes([
        ...(m?.statuses ?? []),
        ...(t.lastStatus === undefined ? [] : [t.lastStatus]),
      ]);
      if (m !== undefined) {
        rec.hostPorts = hostPortsOfTask(e.spec, m);
        rec.agentId = m.agent_id.value;
        if (m.executor_id !== undefined) rec.executorId = m.executor_id.value;
      }
      if (times.started !== undefined && t.phase !== 'pending') rec.started = times.started;
      const at = {
        ...(times.finished === undefined ? {} : { finished: times.finished }),
        updated: times.updated ?? t.updatedAt,
      };
      if (e.job !== undefined) {
        const j = jobs.get(e.job);
        const idx = Number(t.taskId.slice(e.job.length + 1));
        if (j !== undefined && Number.isInteger(idx)) j.nextIndex = Math.max(j.nextIndex, idx + 1);
      }
      const last = t.lastStatus;
      if (t.phase === 'pending') {
        if (t.goal === 'kill')
          publish(
            rec,
            statusOf(rec, { state: 'KILLED', rawState: 'PENDING', reason: 'KilledBeforeLaunch' }),
            true,
          );
      } else if (last !== undefined) {
        const unified = fromMesosTaskState(last.state, last.reason);
        const exitCode = exitCodeOf(unified, last.message);
        publish(
          rec,
          statusOf(
            rec,
            {
              state: unified,
              rawState: last.state,
              ...(last.reason === undefined ? {} : { reason: last.reason }),
              ...(last.message === undefined ? {} : { message: last.message }),
              ...(exitCode === undefined ? {} : { exitCode }),
            },
            at,
          ),
          true,
        );
        if (unified === 'UNREACHABLE' && rec.goal === 'run') {
          rec.unreachableTimer = setTimer(() => replaceUnreachable(rec), unreachableMs);
        }
      } else {
        publish(
          rec,
          statusOf(rec, {
            state: 'STAGING',
            rawState: 'LAUNCHING',
            reason: 'Reconciling',
            message: 'launched before a restart; reconciling with the master',
          }),
          true,
        );
      }
    }
  };

  const scheduleReconcile = () => {
    if (reconcileMs <= 0) return;
    reconcileTimer = setTimer(() => {
      if (driver.state.phase === 'subscribed') track('RECONCILE', driver.reconcile());
      scheduleReconcile();
    }, reconcileMs);
  };

  // --- logs --------------------------------------------------------------------------------------

  const logLocation = (rec: Rec, stream: LogStream) => {
    const frameworkId = driver.frameworkId ?? store.frameworkId;
    const agent = rec.agentId === undefined ? undefined : agents.get(rec.agentId);
    if (frameworkId === undefined || agent?.url === undefined || rec.phase === 'pending') {
      throw new BerthError(
        'NOT_FOUND',
        `logs ${rec.taskId}: the task has not been launched on an agent yet`,
        {
          component: COMPONENT,
          hint: 'Wait until the task is STARTING or RUNNING.',
        },
      );
    }
    const executorId = rec.executorId ?? rec.mesosTaskId;
    const base = sandboxPath(frameworkId, executorId);
    const path =
      executorId === rec.mesosTaskId ? `${base}/${stream}` : `${base}/tasks/${rec.mesosTaskId}/${stream}`;
    return { agent: agent.url, path };
  };

  async function* readLogs(rec: Rec, opts: LogOptions): AsyncGenerator<LogLine> {
    const want = opts.stream ?? 'both';
    const streams: LogStream[] = want === 'both' ? ['stdout', 'stderr'] : [want];
    const signal = opts.signal
      ? AbortSignal.any([closing.signal, opts.signal as AbortSignal])
      : closing.signal;
    const readAll = async (stream: LogStream) => {
      const { agent, path } = logLocation(rec, stream);
      const parts: Uint8Array[] = [];
      let offset = 0;
      for (;;) {
        const chunk = await files.read(agent, path, offset, 1 << 20, signal);
        if (chunk.data.length === 0) break;
        parts.push(chunk.data);
        offset += chunk.data.length;
      }
      return { text: Buffer.concat(parts).toString('utf8'), offset };
    };
    const splitLines = (text: string) => {
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      return lines;
    };
    const initial: { lines: LogLine[]; offsets: Map<LogStream, number> } = { lines: [], offsets: new Map() };
    for (const stream of streams) {
      const { text, offset } = await readAll(stream);
      initial.offsets.set(stream, offset);
      initial.lines.push(...splitLines(text).map((line) => ({ stream, line })));
    }
    const tail = opts.tailLines;
    yield* tail === undefined ? initial.lines : initial.lines.slice(Math.max(0, initial.lines.length - tail));
    if (!opts.follow) return;
    const lines = new Subject<LogLine>();
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    let pumps = streams.length;
    for (const stream of streams) {
      const { agent, path } = logLocation(rec, stream);
      void (async () => {
        let carry = '';
        try {
          for await (const piece of files.follow(agent, path, {
            from: initial.offsets.get(stream) ?? 0,
            pollIntervalMs: options.logPollIntervalMs ?? 1000,
            signal: both,
          })) {
            const parts = (carry + piece.text).split('\n');
            carry = parts.pop() ?? '';
            for (const line of parts) lines.emit({ stream, line });
          }
        } catch {
          // the agent went away or the signal aborted: the stream ends
        } finally {
          if (carry !== '') lines.emit({ stream, line: carry });
          if (--pumps === 0) lines.complete();
        }
      })();
    }
    // Stop following once the task has ended (after one last poll has picked up its final output).
    const unsubscribe = taskSubject.subscribe((s) => {
      if (s.taskId === rec.taskId && isTerminal(s.state)) {
        setTimer(() => stop.abort(), (options.logPollIntervalMs ?? 1000) * 2);
      }
    });
    if (isTerminal(rec.status.state)) setTimer(() => stop.abort(), (options.logPollIntervalMs ?? 1000) * 2);
    try {
      yield* toAsyncIterable(lines, { signal: both });
    } finally {
      unsubscribe();
      stop.abort();
    }
  }

  // --- the adapter -------------------------------------------------------------------------------

  const matches = (s: TaskStatus, f: TaskFilter | undefined): boolean => {
    if (!f) return true;
    if (f.ids && !f.ids.includes(s.taskId)) return false;
    if (f.service !== undefined && s.service !== f.service) return false;
    if (f.states && !f.states.includes(s.state)) return false;
    if (f.tenant !== undefined && recs.get(s.taskId)?.spec.tenant !== f.tenant) return false;
    return true;
  };

  const filtered = <T>(source: Subscribable<T>, keep: (v: T) => boolean): Subscribable<T> => ({
    subscribe: (observer) => {
      const o = typeof observer === 'function' ? { next: observer } : observer;
      return source.subscribe({ next: (v) => keep(v) && o.next(v), complete: () => o.complete?.() });
    },
  });

  const notFound = (what: string, hint: string) =>
    new BerthError('NOT_FOUND', what, { component: COMPONENT, hint });

  const caps: Capability[] = [
    'gang',
    'autoscaling',
    'customScheduling',
    'logs',
    'services',
    'serviceDiscovery',
    'commandTasks',
    'killGracePeriod',
    'events',
  ];

  const adapter: MesosAdapter = {
    name: 'mesos',
    backend: 'mesos',
    capabilities: capabilities(...caps),

    getClient: () => ({ driver, agents: agentClient, operator, files, store, autoscaler }),

    async connect() {
      if (state === 'connected') return;
      if (state === 'closed') ready('connect');
      if (connecting !== undefined) return connecting;
      state = 'connecting';
      connecting = (async () => {
        try {
          await restore();
          unsubscribe = driver.subscribe(onEvent);
          await driver.start();
          if ((state as string) === 'closed') return;
          state = 'connected';
          // SUBSCRIBED was handled while still connecting: send what it could not.
          offerInterest(true);
          scheduleReconcile();
          if (autoscaler.services.length > 0) autoscaler.start();
        } catch (err) {
          if ((state as string) !== 'closed') state = 'new';
          unsubscribe?.();
          unsubscribe = undefined;
          throw toBerthError(err, COMPONENT);
        } finally {
          connecting = undefined;
        }
      })();
      return connecting;
    },

    async close() {
      if (state === 'closed') return;
      state = 'closed';
      closing.abort();
      autoscaler[Symbol.dispose]();
      unsubscribe?.();
      unsubscribe = undefined;
      for (const h of [...timers]) clearTimer(h);
      clearTimer(reconcileTimer);
      if (ackFlush !== undefined) clearImmediate(ackFlush);
      ackFlush = undefined;
      // Updates not yet recorded are not acknowledged either: the master sends them again.
      if (updateFlush !== undefined) clearImmediate(updateFlush);
      updateFlush = undefined;
      updates = [];
      for (const r of recs.values()) delete r.unreachableTimer;
      taskSubject.complete();
      eventSubject.complete();
      nodeSubject.complete();
      registry[Symbol.dispose]();
      if (given.driver === undefined) await driver.close().catch(() => {});
      // Calls still in flight fail fast once the driver is closed; never wait on one for long.
      let bound: TimerHandle | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise<void>((resolve) => {
          bound = clock.setTimeout(resolve, 2000);
        }),
      ]);
      if (bound !== undefined) clock.clearTimeout(bound);
      if (given.operator === undefined) await operator.close().catch(() => {});
      if (given.files === undefined) await files.close().catch(() => {});
      if (given.agents === undefined) await agentClient.close().catch(() => {});
      if (given.http === undefined) await http.close().catch(() => {});
      flushAcked();
      if (given.store === undefined) store.close();
    },

    async [Symbol.asyncDispose]() {
      await adapter.close();
    },

    async snapshot(): Promise<ClusterSnapshot> {
      ready('snapshot');
      const st = await operator.getState();
      const tasksByAgent = new Map<string, Resources>();
      const allocations: ClusterSnapshot['allocations'][number][] = [];
      for (const t of [...(st.get_tasks?.tasks ?? []), ...(st.get_tasks?.pending_tasks ?? [])]) {
        if (t.state !== undefined && isTerminal(fromMesosTaskState(t.state))) continue;
        const res = fromMesosResources((t.resources ?? []) as MesosResource[], {
          rounding: 'up',
          unsupported: 'skip',
        });
        const agentId = t.agent_id.value;
        tasksByAgent.set(agentId, (tasksByAgent.get(agentId) ?? Resources.ZERO).add(res));
        const labels = new Map((t.labels?.labels ?? []).map((l) => [l.key, l.value ?? '']));
        const service = labels.get(BERTH_LABELS.service);
        allocations.push({
          taskId: labels.get(BERTH_LABELS.taskId) ?? t.task_id.value,
          nodeId: agentId,
          resources: res,
          tenant: (t.resources ?? []).find((r) => r.allocation_info?.role)?.allocation_info?.role ?? '*',
          priority: 0,
          ...(service === undefined ? {} : { service }),
        });
      }
      const nodes: ClusterNode[] = (st.get_agents?.agents ?? []).map((a) => {
        const id = a.agent_info.id?.value ?? a.agent_info.hostname;
        const labels: Record<string, string> = {};
        for (const attr of a.agent_info.attributes ?? []) {
          const v = mesosAttributeValue(attr as Parameters<typeof mesosAttributeValue>[0]);
          if (v !== undefined) labels[attr.name] = v;
        }
        const allocatable = fromMesosResources(
          (a.total_resources ?? a.agent_info.resources ?? []) as MesosResource[],
          {
            unsupported: 'skip',
          },
        );
        const used = tasksByAgent.get(id) ?? Resources.ZERO;
        return {
          id,
          hostname: a.agent_info.hostname,
          labels,
          taints: [],
          allocatable,
          allocated: used.fits(allocatable) ? used : used.sub(used.sub(allocatable, 'clamp'), 'clamp'),
          ready: a.active,
          unschedulable: a.deactivated ?? false,
        };
      });
      return { backend: 'mesos', takenAt: clock.now(), nodes, allocations };
    },

    watchNodes(opts: WatchOptions = {}) {
      return toAsyncIterable(nodeSubject, { signal: opts.signal });
    },

    async submit(documents) {
      ready('submit');
      const list = expand(documents);
      const results: SubmitResult[] = [];
      const fresh: Expanded[] = [];
      const seen = new Set<string>();
      for (const e of list) {
        if (seen.has(e.taskId)) continue;
        seen.add(e.taskId);
        const rec = recs.get(e.taskId);
        const deleted =
          rec !== undefined && e.service !== undefined && !services.has(e.service) && rec.goal === 'kill';
        if (rec === undefined || (deleted && rec.specHash === hashFor(e))) {
          fresh.push(e); // new, or a replica of a deleted Service submitted again
          continue;
        }
        results.push({
          taskId: e.taskId,
          document: e.document,
          outcome: rec.specHash === hashFor(e) ? 'unchanged' : 'conflict',
          status: rec.status,
        });
      }
      for (const doc of documents) {
        const name = doc.metadata.name;
        if (doc.kind === 'Service' && !services.has(name)) {
          const d = doc.spec.discovery;
          const s: ServiceState = {
            template: doc.spec.template,
            replicas: doc.spec.replicas,
            ...(d === undefined ? {} : { discoveryName: d.name }),
            ...(d?.ports === undefined ? {} : { discoveryPorts: [...d.ports] }),
            ...(doc.spec.autoscaling === undefined ? {} : { autoscaling: doc.spec.autoscaling }),
          };
          services.set(name, s);
          saveService(name, s);
          autoscale(name, s.autoscaling);
        } else if (doc.kind === 'Job' && !jobs.has(name)) {
          const { template, ...rest } = doc.spec;
          jobs.set(name, { spec: doc.spec, nextIndex: Math.min(doc.spec.parallelism, doc.spec.completions) });
          store.putWorkload({
            name,
            kind: 'Job',
            document: { template: taskSpecToJson(template), job: rest },
          });
        }
      }
      if (fresh.length > 0) addTasks(fresh);
      for (const e of fresh) {
        results.push({
          taskId: e.taskId,
          document: e.document,
          outcome: 'created',
          status: recs.get(e.taskId)!.status,
        });
      }
      const order = new Map(list.map((e, i) => [e.taskId, i]));
      return results.sort((a, b) => (order.get(a.taskId) ?? 0) - (order.get(b.taskId) ?? 0));
    },

    async kill(taskId, opts: KillOptions = {}) {
      ready('kill');
      const rec = recs.get(taskId);
      if (rec === undefined) throw notFound(`task ${taskId} does not exist`, 'List tasks with tasks().');
      const grace = opts.gracePeriodSeconds ?? rec.spec.killGracePeriodSeconds;
      if (!Number.isFinite(grace) || grace < 0) {
        throw invalid(
          `kill ${taskId}: gracePeriodSeconds must be a number >= 0, got ${grace}`,
          'Pass e.g. { gracePeriodSeconds: 30 }.',
        );
      }
      store.requestKill(taskId);
      rec.goal = 'kill';
      if (rec.phase === 'pending') {
        if (!isTerminal(rec.status.state) || rec.status.state !== 'KILLED') {
          publish(
            rec,
            statusOf(rec, {
              state: 'KILLED',
              rawState: 'PENDING',
              reason: 'KilledBeforeLaunch',
              message: 'killed before it was launched',
            }),
          );
        }
        offerInterest();
        return;
      }
      if (isTerminal(rec.status.state)) return;
      await driver.kill(rec.mesosTaskId, killArgs(rec, grace));
      emitEvent({
        level: 'info',
        kind: 'Killing',
        message: `kill ${taskId} (grace ${grace}s)`,
        taskId,
        ...(rec.service === undefined ? {} : { service: rec.service }),
      });
    },

    async tasks(filter) {
      ready('tasks');
      return [...recs.values()].map((r) => r.status).filter((s) => matches(s, filter));
    },

    watchTasks(opts: WatchTasksOptions = {}) {
      const initial = opts.initial && state === 'connected' ? [...recs.values()].map((r) => r.status) : [];
      return toAsyncIterable(
        filtered(taskSubject, (s) => matches(s, opts.filter)),
        { signal: opts.signal, initial: initial.filter((s) => matches(s, opts.filter)) },
      );
    },

    async scale(service, replicas) {
      ready('scale');
      const svc = services.get(service);
      if (svc === undefined)
        throw notFound(`service ${service} does not exist`, 'Submit a Service document first.');
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw invalid(
          `scale ${service}: replicas must be an integer >= 0, got ${replicas}`,
          'Pass a whole number such as 3.',
        );
      }
      const before = svc.replicas;
      svc.replicas = replicas;
      saveService(service, svc);
      const up: Expanded[] = [];
      for (let i = 0; i < replicas; i++) {
        const taskId = replicaTaskId(service, i);
        const rec = recs.get(taskId);
        if (
          rec === undefined ||
          rec.goal === 'kill' ||
          (isTerminal(rec.status.state) && rec.phase !== 'pending')
        ) {
          up.push({ taskId, spec: svc.template, document: `Service/${service}`, service });
        }
      }
      if (up.length > 0) addTasks(up);
      const highest = Math.max(
        before,
        ...[...recs.values()]
          .filter((r) => r.service === service)
          .map((r) => Number(r.taskId.slice(service.length + 1)) + 1),
      );
      for (let i = highest - 1; i >= replicas; i--) {
        const rec = recs.get(replicaTaskId(service, i));
        if (rec !== undefined && rec.goal === 'run') await adapter.kill(rec.taskId);
      }
      emitEvent({
        level: 'info',
        kind: 'Scaled',
        message: `scaled ${service} from ${before} to ${replicas} replicas`,
        service,
      });
    },

    async endpoints(service): Promise<Endpoint[]> {
      ready('endpoints');
      if (!services.has(service))
        throw notFound(`service ${service} does not exist`, 'Submit a Service document first.');
      return registry
        .endpoints(service)
        .map((e) => ({ taskId: e.taskId, nodeId: e.nodeId, host: e.host, ports: e.ports }));
    },

    watchEndpoints(service, opts: EndpointWatchOptions = {}) {
      if (typeof service !== 'string' || service === '') {
        throw invalid(
          'watchEndpoints: service must be a non-empty name',
          "Pass the Service's metadata.name.",
        );
      }
      return registry.watch({
        service,
        initial: opts.initial ?? true,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    },

    async deleteService(service) {
      ready('deleteService');
      const svc = services.get(service);
      if (svc === undefined)
        throw notFound(`service ${service} does not exist`, 'List services with tasks() or submit one.');
      autoscaler.remove(service);
      if (metricsSource instanceof MesosContainerMetrics) metricsSource.forget(service);
      services.delete(service);
      store.deleteWorkload(service);
      const victims = [...recs.values()].filter((r) => r.service === service && r.goal === 'run');
      for (const r of victims.sort((a, b) => replicaIndex(b.taskId) - replicaIndex(a.taskId))) {
        await adapter.kill(r.taskId);
      }
      registry.dropService(service);
      emitEvent({
        level: 'info',
        kind: 'ServiceDeleted',
        message: `deleted ${service}: killing ${victims.length} replica${victims.length === 1 ? '' : 's'}`,
        service,
      });
    },

    logs(taskId, opts: LogOptions = {}): AsyncIterable<LogLine> {
      ready('logs');
      const rec = recs.get(taskId);
      if (rec === undefined) throw notFound(`task ${taskId} does not exist`, 'List tasks with tasks().');
      return readLogs(rec, opts);
    },

    events(opts: WatchOptions = {}) {
      return toAsyncIterable(eventSubject, { signal: opts.signal });
    },
  };
  return adapter;
}
