/**
 * The state behind the Mesos face, shared by every master started on one engine (the leader acts,
 * standbys redirect): agents (the engine's nodes), frameworks, offers and the allocator, tasks and
 * their status updates with acknowledgements, and the operator event stream.
 */
import { randomUUID } from 'node:crypto';
import {
  type Clock,
  DRFSorter,
  fromMesosResources,
  isTerminal,
  type MesosResource,
  Resources,
  type TaskStatus,
  type TimerHandle,
} from '@berth/core';
import type { Engine, EngineEvent, EngineNode, TaskLaunch } from '../engine/index.ts';
import { HEALTH_REASON, HealthChecker, parseHealthCheck } from './health-check.ts';
import { probeFor } from './health-probes.ts';
import type { EventStream } from './streams.ts';
import {
  agentResources,
  formatResources,
  idOf,
  isObject,
  type Json,
  type JsonObject,
  newUuidBytes,
  offeredResources,
  taskResources,
} from './wire.ts';

const MIN_CPU = 10; // millicpu: Mesos' default min_allocatable_resources cpus:0.01
const MIN_MEM = 32 * 1024 * 1024; // ... or mem:32
const DEFAULT_REFUSE_SECONDS = 5;

export const AGENT_CAPABILITIES = [
  'MULTI_ROLE',
  'HIERARCHICAL_ROLE',
  'RESERVATION_REFINEMENT',
  'RESOURCE_PROVIDER',
  'RESIZE_VOLUME',
  'AGENT_OPERATION_FEEDBACK',
  'AGENT_DRAINING',
  'TASK_RESOURCE_LIMITS',
].map((type) => ({ type }));

/** What the leading master contributes to events (its identity). */
export interface LeaderInfo {
  readonly masterInfo: JsonObject;
  readonly id: string;
}

export interface ClusterOptions {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly allocationIntervalMs: number;
  readonly offerTimeoutMs: number | undefined;
  readonly statusUpdateRetryMs: number;
  readonly roleWeights: Readonly<Record<string, number>>;
  readonly host: string;
  readonly hostname: string;
}

export interface Agent {
  readonly id: string;
  readonly nodeId: string;
  /** Where this agent's HTTP endpoints listen (0 until the agent server is up). */
  port: number;
  registeredNs: number;
  /** Counted in the allocator's total. */
  active: boolean;
}

export interface Framework {
  readonly id: string;
  info: JsonObject;
  roles: string[];
  capabilities: Set<string>;
  stream: EventStream | undefined;
  streamId: string | undefined;
  connected: boolean;
  active: boolean;
  registeredNs: number;
  reregisteredNs: number;
  unregisteredNs: number;
  suppressed: Set<string>;
  filters: Map<string, { refused: Resources; until: number }[]>;
  failoverTimer: TimerHandle | undefined;
  readonly offers: Set<string>;
  readonly tasks: Map<string, TaskRec>;
  readonly completed: TaskRec[];
}

export interface Offer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
  timer: TimerHandle | undefined;
}

export interface TaskRec {
  readonly taskId: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly nodeId: string;
  readonly name: string;
  readonly role: string;
  readonly resources: Resources;
  readonly executorId: string;
  readonly containerId: string;
  readonly labels: Json | undefined;
  /** TaskInfo fields a master copies into its Task message (discovery, container, health check...). */
  readonly copied: JsonObject;
  state: string;
  latest: JsonObject | undefined;
  /** Updates with a uuid the agent would forward, every one, in order (for GET_TASKS `statuses`). */
  readonly statuses: JsonObject[];
  /** Updates waiting for ACKNOWLEDGE, the first in flight. */
  readonly pending: JsonObject[];
  retryTimer: TimerHandle | undefined;
  lastAcked: JsonObject | undefined;
  /** Released from the allocator (terminal). */
  released: boolean;
  /** Reported LOST to a framework that is not partition-aware: later engine news is ignored. */
  abandoned: boolean;
  /** The CommandInfo environment the task was launched with (COMMAND health checks get it too). */
  readonly env: Readonly<Record<string, string>>;
  /** The running health check (from TASK_RUNNING until the task stops running). */
  health: HealthChecker | undefined;
  /** Killed after `consecutive_failures` failed health checks: TASK_KILLED carries `healthy: false`. */
  killedByHealth: boolean;
}

export interface UpdateFaults {
  duplicate: number;
  reorder: number;
}

function ns(ms: number): number {
  return Math.round(ms) * 1_000_000;
}

/** The shared cluster state of the Mesos face on one engine. */
export class MesosCluster {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly options: ClusterOptions;
  /** Id of the first master: agent ids are `<id>-S<n>`, like a real cluster's. */
  readonly clusterId = randomUUID();
  readonly agents = new Map<string, Agent>();
  readonly agentByNode = new Map<string, string>();
  readonly frameworks = new Map<string, Framework>();
  readonly completedFrameworks: Framework[] = [];
  readonly offers = new Map<string, Offer>();
  readonly tasksByEngineId = new Map<string, TaskRec>();
  readonly operatorStreams = new Set<EventStream>();
  readonly updateFaults: UpdateFaults = { duplicate: 0, reorder: 0 };
  readonly roleSorter = new DRFSorter();
  readonly frameworkSorters = new Map<string, DRFSorter>();
  readonly startedMs: number;
  leader: LeaderInfo | undefined;
  #agentSeq = 0;
  #frameworkSeq = 0;
  #offerSeq = 0;
  #allocTimer: TimerHandle | undefined;
  #soonTimer: TimerHandle | undefined;
  #unsubscribe: () => void;
  #held: { fw: Framework; event: JsonObject } | undefined;
  #heldTimer: TimerHandle | undefined;
  #closed = false;
  onAgentAdded: ((agent: Agent) => void) | undefined;
  onAgentRemoved: ((agent: Agent) => void) | undefined;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.engine = options.engine;
    this.clock = options.clock;
    this.startedMs = this.clock.now();
    for (const node of this.engine.nodes()) this.#addAgent(node);
    this.#unsubscribe = this.engine.events.subscribe((e) => this.#onEngineEvent(e));
    this.#armAllocation();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#allocTimer !== undefined) this.clock.clearTimeout(this.#allocTimer);
    if (this.#soonTimer !== undefined) this.clock.clearTimeout(this.#soonTimer);
    if (this.#heldTimer !== undefined) this.clock.clearTimeout(this.#heldTimer);
    for (const o of this.offers.values()) if (o.timer !== undefined) this.clock.clearTimeout(o.timer);
    for (const fw of this.frameworks.values()) {
      if (fw.failoverTimer !== undefined) this.clock.clearTimeout(fw.failoverTimer);
      for (const t of fw.tasks.values()) {
        if (t.retryTimer !== undefined) this.clock.clearTimeout(t.retryTimer);
        this.#stopHealth(t);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Agents

  #addAgent(node: EngineNode): Agent {
    let id = this.agentByNode.get(node.id);
    if (id === undefined) {
      id = `${this.clusterId}-S${this.#agentSeq++}`;
      this.agentByNode.set(node.id, id);
    }
    let agent = this.agents.get(id);
    if (agent === undefined) {
      agent = { id, nodeId: node.id, port: 0, registeredNs: ns(this.clock.now()), active: false };
      this.agents.set(id, agent);
      this.onAgentAdded?.(agent);
    }
    if (node.condition === 'ready') this.#activateAgent(agent, node);
    return agent;
  }

  #activateAgent(agent: Agent, node: EngineNode): void {
    if (agent.active) return;
    agent.active = true;
    this.roleSorter.addTotal(node.capacity);
    for (const s of this.frameworkSorters.values()) s.addTotal(node.capacity);
    this.#operator({ type: 'AGENT_ADDED', agent_added: { agent: this.agentJson(agent) } });
    this.allocateSoon();
  }

  #deactivateAgent(agent: Agent): void {
    if (!agent.active) return;
    agent.active = false;
    const node = this.engine.node(agent.nodeId);
    const capacity = node?.capacity;
    if (capacity !== undefined) {
      this.roleSorter.removeTotal(capacity);
      for (const s of this.frameworkSorters.values()) s.removeTotal(capacity);
    }
    for (const o of [...this.offers.values()]) if (o.agentId === agent.id) this.rescind(o);
    this.#operator({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: agent.id } } });
  }

  agentOfNode(nodeId: string): Agent | undefined {
    const id = this.agentByNode.get(nodeId);
    return id === undefined ? undefined : this.agents.get(id);
  }

  agentJson(agent: Agent, withAllocated = false): JsonObject {
    const node = this.engine.node(agent.nodeId);
    const capacity = node?.capacity ?? Resources.ZERO;
    const attrs = attributesOf(node);
    const out: JsonObject = {
      agent_info: {
        hostname: node?.hostname ?? agent.nodeId,
        port: agent.port,
        resources: agentResources(capacity, false) as unknown as Json,
        ...(attrs.length > 0 ? { attributes: attrs } : {}),
        id: { value: agent.id },
        checkpoint: true,
      },
      active: agent.active,
      deactivated: false,
      version: '1.12.0',
      pid: `slave(1)@${node?.address ?? this.options.host}:${agent.port}`,
      registered_time: { nanoseconds: agent.registeredNs },
      total_resources: agentResources(capacity, true) as unknown as Json,
    };
    if (withAllocated) {
      let used = Resources.ZERO;
      for (const fw of this.frameworks.values()) {
        for (const t of fw.tasks.values())
          if (t.agentId === agent.id && !t.released) used = used.add(t.resources);
      }
      out.allocated_resources = offeredResources(used, '*') as unknown as Json;
    }
    out.capabilities = AGENT_CAPABILITIES;
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Frameworks

  newFrameworkId(): string {
    const leaderId = this.leader?.id ?? this.clusterId;
    return `${leaderId}-${String(this.#frameworkSeq++).padStart(4, '0')}`;
  }

  /** Registers a new framework or re-attaches one (failover), returning it and whether it is new. */
  subscribe(
    info: JsonObject,
    frameworkId: string | undefined,
    stream: EventStream,
  ): { fw: Framework; added: boolean } | { removed: true } {
    if (frameworkId !== undefined && this.completedFrameworks.some((f) => f.id === frameworkId)) {
      return { removed: true };
    }
    const now = ns(this.clock.now());
    let fw = frameworkId === undefined ? undefined : this.frameworks.get(frameworkId);
    const added = fw === undefined;
    const id = frameworkId ?? this.newFrameworkId();
    const normalized = normalizeFrameworkInfo(info, id);
    if (fw === undefined) {
      fw = {
        id,
        info: normalized,
        roles: rolesOf(normalized),
        capabilities: capabilitiesOf(normalized),
        stream: undefined,
        streamId: undefined,
        connected: false,
        active: false,
        registeredNs: now,
        reregisteredNs: now,
        unregisteredNs: 0,
        suppressed: new Set(),
        filters: new Map(),
        failoverTimer: undefined,
        offers: new Set(),
        tasks: new Map(),
        completed: [],
      };
      this.frameworks.set(id, fw);
    } else {
      // Failover: the old stream hears why and closes.
      const old = fw.stream;
      if (old !== undefined) {
        fw.stream = undefined;
        old.send({ type: 'ERROR', error: { message: 'Framework failed over' } });
        old.end();
      }
      for (const offerId of [...fw.offers]) {
        const o = this.offers.get(offerId);
        if (o !== undefined) this.#recover(o);
      }
      this.#leaveSorters(fw);
      fw.info = normalized;
      fw.roles = rolesOf(normalized);
      fw.capabilities = capabilitiesOf(normalized);
      fw.reregisteredNs = now;
    }
    if (fw.failoverTimer !== undefined) {
      this.clock.clearTimeout(fw.failoverTimer);
      fw.failoverTimer = undefined;
    }
    fw.stream = stream;
    fw.streamId = randomUUID();
    fw.connected = true;
    fw.active = true;
    this.#joinSorters(fw);
    const attached = fw;
    stream.onClose(() => this.#disconnected(attached, stream));
    this.#operator(
      added
        ? { type: 'FRAMEWORK_ADDED', framework_added: { framework: this.frameworkEventJson(fw) } }
        : { type: 'FRAMEWORK_UPDATED', framework_updated: { framework: this.frameworkEventJson(fw) } },
    );
    return { fw, added };
  }

  /** After SUBSCRIBED: resend what is waiting for acknowledgement, then offer. */
  afterSubscribed(fw: Framework): void {
    for (const t of fw.tasks.values()) {
      if (t.pending.length > 0) this.#sendPending(t);
    }
    this.allocateSoon();
  }

  #joinSorters(fw: Framework): void {
    for (const role of fw.roles) {
      if (!this.roleSorter.contains(role)) {
        this.roleSorter.add(role, { weight: this.options.roleWeights[role] ?? 1 });
      }
      let s = this.frameworkSorters.get(role);
      if (s === undefined) {
        s = new DRFSorter();
        s.addTotal(this.roleSorter.total);
        this.frameworkSorters.set(role, s);
      }
      if (!s.contains(fw.id)) s.add(fw.id);
      for (const t of fw.tasks.values()) {
        if (t.role === role && !t.released) {
          s.allocated(fw.id, t.resources);
          this.roleSorter.allocated(role, t.resources);
        }
      }
    }
  }

  #leaveSorters(fw: Framework): void {
    for (const role of fw.roles) {
      const s = this.frameworkSorters.get(role);
      if (s?.contains(fw.id)) {
        const held = s.allocation(fw.id);
        s.remove(fw.id);
        const r = this.roleSorter.allocation(role);
        this.roleSorter.unallocated(role, clampTo(held, r));
      }
    }
  }

  #disconnected(fw: Framework, stream: EventStream): void {
    if (fw.stream !== stream) return;
    fw.stream = undefined;
    fw.connected = false;
    fw.active = false;
    for (const offerId of [...fw.offers]) {
      const o = this.offers.get(offerId);
      if (o !== undefined) this.#recover(o);
    }
    if (this.#closed) return;
    const timeoutS = typeof fw.info.failover_timeout === 'number' ? fw.info.failover_timeout : 0;
    fw.failoverTimer = this.clock.setTimeout(() => {
      fw.failoverTimer = undefined;
      if (!fw.connected) this.removeFramework(fw);
    }, timeoutS * 1000);
    this.#operator({
      type: 'FRAMEWORK_UPDATED',
      framework_updated: { framework: this.frameworkEventJson(fw) },
    });
  }

  /** TEARDOWN or failover timeout: kill its tasks, drop its offers, close its stream. */
  removeFramework(fw: Framework): void {
    if (!this.frameworks.has(fw.id)) return;
    this.frameworks.delete(fw.id);
    for (const offerId of [...fw.offers]) {
      const o = this.offers.get(offerId);
      if (o !== undefined) this.#recover(o);
    }
    this.#leaveSorters(fw);
    if (fw.failoverTimer !== undefined) this.clock.clearTimeout(fw.failoverTimer);
    fw.failoverTimer = undefined;
    for (const t of fw.tasks.values()) {
      t.released = true;
      if (t.retryTimer !== undefined) this.clock.clearTimeout(t.retryTimer);
      t.retryTimer = undefined;
      t.pending.length = 0;
      const et = this.engine.task(t.taskId);
      if (et !== undefined && !isTerminal(et.state) && this.engine.running) {
        void this.engine.kill(t.taskId).catch(() => undefined);
      }
    }
    const stream = fw.stream;
    fw.stream = undefined;
    fw.connected = false;
    fw.active = false;
    fw.unregisteredNs = ns(this.clock.now());
    stream?.end();
    this.completedFrameworks.push(fw);
    this.#operator({ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: fw.info } });
  }

  frameworkEventJson(fw: Framework): JsonObject {
    return {
      framework_info: fw.info,
      active: fw.active,
      connected: fw.connected,
      recovered: false,
      registered_time: { nanoseconds: fw.registeredNs },
      reregistered_time: { nanoseconds: fw.reregisteredNs },
      unregistered_time: { nanoseconds: fw.unregisteredNs },
    };
  }

  frameworkJson(fw: Framework, completed: boolean): JsonObject {
    const out: JsonObject = {
      framework_info: fw.info,
      active: fw.active,
      connected: fw.connected,
      recovered: false,
      registered_time: { nanoseconds: fw.registeredNs },
      reregistered_time: { nanoseconds: fw.reregisteredNs },
    };
    if (completed) out.unregistered_time = { nanoseconds: fw.unregisteredNs };
    else {
      let used = Resources.ZERO;
      for (const t of fw.tasks.values()) if (!t.released) used = used.add(t.resources);
      let offered = Resources.ZERO;
      for (const id of fw.offers) offered = offered.add(this.offers.get(id)?.resources ?? Resources.ZERO);
      out.allocated_resources = offeredResources(used, fw.roles[0] ?? '*') as unknown as Json;
      if (!offered.isZero())
        out.offered_resources = offeredResources(offered, fw.roles[0] ?? '*') as unknown as Json;
    }
    out.offer_constraints = {};
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Allocation

  #armAllocation(): void {
    if (this.#closed) return;
    this.#allocTimer = this.clock.setTimeout(() => {
      this.allocate();
      this.#armAllocation();
    }, this.options.allocationIntervalMs);
  }

  /** Runs an allocation cycle on the next tick (after a subscribe, a revive or freed resources). */
  allocateSoon(): void {
    if (this.#soonTimer !== undefined || this.#closed) return;
    this.#soonTimer = this.clock.setTimeout(() => {
      this.#soonTimer = undefined;
      this.allocate();
    }, 0);
  }

  /** One allocation cycle: each free agent goes, whole, to the framework DRF picks for it. */
  allocate(): void {
    if (this.#closed || this.leader === undefined) return;
    const now = this.clock.now();
    const batches = new Map<string, Offer[]>();
    for (const agent of this.agents.values()) {
      if (!agent.active) continue;
      const node = this.engine.node(agent.nodeId);
      if (node === undefined || node.condition !== 'ready') continue;
      let free = node.free;
      for (const o of this.offers.values()) if (o.agentId === agent.id) free = free.sub(o.resources, 'clamp');
      if (free.cpu < MIN_CPU && free.memory < MIN_MEM) continue;
      const pick = this.#pick(agent.id, free, now);
      if (pick === undefined) continue;
      const offer: Offer = {
        id: `${this.leader.id}-O${this.#offerSeq++}`,
        frameworkId: pick.fw.id,
        agentId: agent.id,
        role: pick.role,
        resources: free,
        timer: undefined,
      };
      this.offers.set(offer.id, offer);
      pick.fw.offers.add(offer.id);
      this.roleSorter.allocated(pick.role, free);
      this.frameworkSorters.get(pick.role)?.allocated(pick.fw.id, free);
      const timeout = this.options.offerTimeoutMs;
      if (timeout !== undefined) {
        offer.timer = this.clock.setTimeout(() => {
          offer.timer = undefined;
          if (this.offers.has(offer.id)) this.rescind(offer);
        }, timeout);
      }
      let batch = batches.get(pick.fw.id);
      if (batch === undefined) {
        batch = [];
        batches.set(pick.fw.id, batch);
      }
      batch.push(offer);
    }
    for (const [fwId, batch] of batches) {
      const fw = this.frameworks.get(fwId);
      fw?.stream?.send({ type: 'OFFERS', offers: { offers: batch.map((o) => this.offerJson(o)) } });
    }
  }

  #pick(agentId: string, free: Resources, now: number): { fw: Framework; role: string } | undefined {
    for (const role of this.roleSorter.sort()) {
      const s = this.frameworkSorters.get(role);
      if (s === undefined) continue;
      for (const fwId of s.sort()) {
        const fw = this.frameworks.get(fwId);
        if (fw === undefined || !fw.connected || fw.stream === undefined) continue;
        if (fw.suppressed.has(role)) continue;
        const filters = fw.filters.get(agentId);
        if (filters !== undefined) {
          const live = filters.filter((f) => f.until > now);
          if (live.length === 0) fw.filters.delete(agentId);
          else fw.filters.set(agentId, live);
          if (live.some((f) => free.fits(f.refused))) continue;
        }
        return { fw, role };
      }
    }
    return undefined;
  }

  offerJson(o: Offer): JsonObject {
    const agent = this.agents.get(o.agentId);
    const node = agent === undefined ? undefined : this.engine.node(agent.nodeId);
    const hostname = node?.hostname ?? o.agentId;
    const attrs = attributesOf(node);
    return {
      id: { value: o.id },
      framework_id: { value: o.frameworkId },
      agent_id: { value: o.agentId },
      hostname,
      url: {
        scheme: 'http',
        address: { hostname, ip: node?.address ?? this.options.host, port: agent?.port ?? 0 },
        path: '/slave(1)',
      },
      resources: offeredResources(o.resources, o.role) as unknown as Json,
      ...(attrs.length > 0 ? { attributes: attrs } : {}),
      allocation_info: { role: o.role },
    };
  }

  /** Takes an offer back (timeout, agent gone) and tells its framework. */
  rescind(o: Offer): void {
    this.#recover(o);
    this.frameworks
      .get(o.frameworkId)
      ?.stream?.send({ type: 'RESCIND', rescind: { offer_id: { value: o.id } } });
  }

  /** Returns an offer's resources to the pool, optionally refused by its framework for a while. */
  #recover(o: Offer, unused: Resources = o.resources, refuseSeconds?: number): void {
    if (!this.offers.delete(o.id)) return;
    if (o.timer !== undefined) this.clock.clearTimeout(o.timer);
    const fw = this.frameworks.get(o.frameworkId);
    fw?.offers.delete(o.id);
    this.#release(o.role, o.frameworkId, unused);
    if (fw !== undefined && refuseSeconds !== undefined && refuseSeconds > 0 && !unused.isZero()) {
      const list = fw.filters.get(o.agentId) ?? [];
      list.push({ refused: unused, until: this.clock.now() + refuseSeconds * 1000 });
      fw.filters.set(o.agentId, list);
    }
    this.allocateSoon();
  }

  #release(role: string, fwId: string, res: Resources): void {
    if (this.roleSorter.contains(role)) {
      this.roleSorter.unallocated(role, clampTo(res, this.roleSorter.allocation(role)));
    }
    const s = this.frameworkSorters.get(role);
    if (s?.contains(fwId)) s.unallocated(fwId, clampTo(res, s.allocation(fwId)));
  }

  decline(fw: Framework, offerIds: readonly string[], refuseSeconds: number): void {
    for (const id of offerIds) {
      const o = this.offers.get(id);
      if (o !== undefined && o.frameworkId === fw.id) this.#recover(o, o.resources, refuseSeconds);
    }
  }

  revive(fw: Framework, roles: readonly string[]): void {
    for (const r of roles.length === 0 ? fw.roles : roles) fw.suppressed.delete(r);
    fw.filters.clear();
    this.allocateSoon();
  }

  suppress(fw: Framework, roles: readonly string[]): void {
    for (const r of roles.length === 0 ? fw.roles : roles) fw.suppressed.add(r);
  }

  // ------------------------------------------------------------------------------------------
  // ACCEPT

  accept(fw: Framework, call: JsonObject): void {
    const accept = call.accept as JsonObject;
    const offerIds = Array.isArray(accept.offer_ids) ? accept.offer_ids.map(idOf) : [];
    const operations = Array.isArray(accept.operations) ? accept.operations.filter(isObject) : [];
    const filters = isObject(accept.filters) ? accept.filters : {};
    const refuse =
      typeof filters.refuse_seconds === 'number' ? filters.refuse_seconds : DEFAULT_REFUSE_SECONDS;

    // Offer validation: every offer known, ours, on one agent, used once.
    let error: string | undefined;
    const offers: Offer[] = [];
    const seen = new Set<string>();
    for (const id of offerIds) {
      if (id === undefined) {
        error = 'Offer ID is missing';
        break;
      }
      if (seen.has(id)) {
        error = `Duplicate offer ${id} in accept`;
        break;
      }
      seen.add(id);
      const o = this.offers.get(id);
      if (o === undefined) {
        error = `Offer ${id} is no longer valid`;
        break;
      }
      if (o.frameworkId !== fw.id) {
        error = `Offer ${id} has invalid framework ${o.frameworkId} while framework ${fw.id} is expected`;
        break;
      }
      if (offers.length > 0 && offers[0]!.agentId !== o.agentId) {
        error = `Aggregated offers must belong to one single agent but offer ${id} uses agent ${o.agentId} and offer ${offers[0]!.id} uses agent ${offers[0]!.agentId}`;
        break;
      }
      offers.push(o);
    }
    if (offerIds.length === 0) error = 'No offers specified';
    if (error !== undefined) {
      for (const o of offers) this.#recover(o);
      for (const op of operations) {
        for (const task of tasksOfOperation(op)) {
          const taskId = idOf(task.task_id) ?? '';
          this.#sendMasterUpdate(fw, taskId, {
            state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST',
            reason: 'REASON_INVALID_OFFERS',
            message: `Task launched with invalid offers: ${error}`,
          });
        }
      }
      return;
    }

    const first = offers[0]!;
    const role = first.role;
    let available = Resources.ZERO;
    for (const o of offers) available = available.add(o.resources);
    const agent = this.agents.get(first.agentId)!;
    for (const o of offers) {
      this.offers.delete(o.id);
      if (o.timer !== undefined) this.clock.clearTimeout(o.timer);
      fw.offers.delete(o.id);
    }

    for (const op of operations) {
      const type = op.type;
      if (type !== 'LAUNCH' && type !== 'LAUNCH_GROUP') continue; // reservations and volumes: not modelled
      const group = type === 'LAUNCH_GROUP';
      const infos = tasksOfOperation(op);
      const executor =
        group && isObject(op.launch_group) && isObject(op.launch_group.executor)
          ? op.launch_group.executor
          : undefined;
      const parsed: { info: JsonObject; res: Resources; mesos: MesosResource[]; error?: string }[] = [];
      let groupRes = Resources.ZERO;
      const idsInOp = new Set<string>();
      for (const info of infos) {
        const taskId = idOf(info.task_id) ?? '';
        const mesos = (Array.isArray(info.resources) ? info.resources : []) as unknown as MesosResource[];
        let res = Resources.ZERO;
        let err: string | undefined;
        try {
          res = fromMesosResources(mesos, { rounding: 'up', unsupported: 'skip' });
        } catch (e) {
          err = `Invalid resources: ${(e as Error).message}`;
        }
        if (err === undefined) err = this.#validateTask(fw, info, agent, idsInOp);
        idsInOp.add(taskId);
        parsed.push({ info, res, mesos, ...(err === undefined ? {} : { error: err }) });
        groupRes = groupRes.add(res);
      }
      if (executor !== undefined && Array.isArray(executor.resources)) {
        try {
          groupRes = groupRes.add(
            fromMesosResources(executor.resources as unknown as MesosResource[], {
              rounding: 'up',
              unsupported: 'skip',
            }),
          );
        } catch {
          // executor resources that cannot be modelled are ignored
        }
      }
      const remaining = offeredResources(available, role);
      const tooBig = (r: Resources, mesos: MesosResource[]) =>
        r.fits(available)
          ? undefined
          : `Total resources ${formatResources(mesos.map((m) => ({ ...m, allocation_info: { role } })))} required by task and its executor is more than available ${formatResources(remaining)}`;
      if (group) {
        const groupError =
          parsed.find((p) => p.error !== undefined)?.error ??
          tooBig(
            groupRes,
            parsed.flatMap((p) => p.mesos),
          );
        if (groupError !== undefined) {
          for (const p of parsed) {
            this.#sendMasterUpdate(fw, idOf(p.info.task_id) ?? '', {
              state: 'TASK_ERROR',
              reason: 'REASON_TASK_GROUP_INVALID',
              message: `Task group is invalid: ${groupError}`,
              agentId: agent.id,
            });
          }
          continue;
        }
        available = available.sub(groupRes);
        const execId = idOf(executor?.executor_id) ?? `default-executor-${randomUUID().slice(0, 8)}`;
        for (const p of parsed) this.#launch(fw, p.info, p.res, role, agent, execId);
        continue;
      }
      for (const p of parsed) {
        const err = p.error ?? tooBig(p.res, p.mesos);
        const taskId = idOf(p.info.task_id) ?? '';
        if (err !== undefined) {
          this.#sendMasterUpdate(fw, taskId, {
            state: 'TASK_ERROR',
            reason: 'REASON_TASK_INVALID',
            message: err,
            agentId: agent.id,
          });
          continue;
        }
        available = available.sub(p.res);
        this.#launch(fw, p.info, p.res, role, agent, taskId);
      }
    }
    // What was launched stays allocated (now to tasks); the rest goes back, refused for a while.
    this.#release(role, fw.id, available);
    if (refuse > 0 && !available.isZero()) {
      const list = fw.filters.get(agent.id) ?? [];
      list.push({ refused: available, until: this.clock.now() + refuse * 1000 });
      fw.filters.set(agent.id, list);
    }
    this.allocateSoon();
  }

  #validateTask(fw: Framework, info: JsonObject, agent: Agent, idsInOp: Set<string>): string | undefined {
    const taskId = idOf(info.task_id);
    if (taskId === undefined || taskId === '') return 'Task ID is missing';
    if (typeof info.name !== 'string') return 'Task name is missing';
    if (/[\s/]/.test(taskId) || taskId === '.' || taskId === '..')
      return `'${taskId}' contains invalid characters`;
    const existing = fw.tasks.get(taskId);
    if (idsInOp.has(taskId) || (existing !== undefined && !existing.released)) {
      return `Task has duplicate ID: ${taskId}`;
    }
    const engineTask = this.engine.task(taskId);
    if (engineTask !== undefined && !isTerminal(engineTask.state)) return `Task has duplicate ID: ${taskId}`;
    const agentId = idOf(info.agent_id);
    if (agentId !== agent.id) return `Task uses invalid agent: ${agentId ?? '(none)'}`;
    if (info.command === undefined && info.executor === undefined && info.container === undefined) {
      return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
    }
    if (info.health_check !== undefined) {
      const check = parseHealthCheck(info.health_check);
      if (typeof check === 'string') return `Task uses invalid health check: ${check}`;
    }
    return undefined;
  }

  #launch(
    fw: Framework,
    info: JsonObject,
    res: Resources,
    role: string,
    agent: Agent,
    executorId: string,
  ): void {
    const taskId = idOf(info.task_id)!;
    const launch = toEngineLaunch(info, res, agent.nodeId, fw.id, executorId);
    const rec: TaskRec = {
      taskId,
      frameworkId: fw.id,
      agentId: agent.id,
      nodeId: agent.nodeId,
      name: info.name as string,
      role,
      resources: res,
      executorId,
      containerId: randomUUID(),
      labels: info.labels,
      copied: copiedTaskFields(info),
      state: 'TASK_STAGING',
      latest: undefined,
      statuses: [],
      pending: [],
      retryTimer: undefined,
      lastAcked: undefined,
      released: false,
      abandoned: false,
      env: launch.env ?? {},
      health: undefined,
      killedByHealth: false,
    };
    const prev = fw.tasks.get(taskId);
    if (prev !== undefined) fw.completed.push(prev);
    fw.tasks.set(taskId, rec);
    this.tasksByEngineId.set(taskId, rec);
    this.#operator({ type: 'TASK_ADDED', task_added: { task: this.taskJson(rec) } });
    try {
      this.engine.launch(launch);
    } catch (e) {
      this.#releaseTask(rec);
      this.#queueUpdate(rec, {
        state: 'TASK_FAILED',
        source: 'SOURCE_AGENT',
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        message: (e as Error).message,
      });
    }
  }

  #releaseTask(rec: TaskRec): void {
    if (rec.released) return;
    rec.released = true;
    this.#release(rec.role, rec.frameworkId, rec.resources);
    this.allocateSoon();
  }

  // ------------------------------------------------------------------------------------------
  // Status updates

  #onEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'node-added':
        this.#addAgent(e.node);
        return;
      case 'node-removed':
      case 'node-failed': {
        const agent = this.agentOfNode(e.nodeId);
        if (agent === undefined) return;
        this.#deactivateAgent(agent);
        if (e.type === 'node-removed' || e.mode === 'lost') {
          for (const fw of this.frameworks.values()) {
            fw.stream?.send({ type: 'FAILURE', failure: { agent_id: { value: agent.id } } });
          }
        }
        if (e.type === 'node-removed') {
          this.agents.delete(agent.id);
          this.onAgentRemoved?.(agent);
        }
        return;
      }
      case 'node-recovered': {
        const agent = this.agentOfNode(e.nodeId);
        const node = this.engine.node(e.nodeId);
        if (agent !== undefined && node !== undefined) this.#activateAgent(agent, node);
        return;
      }
      case 'task-status': {
        const rec = this.tasksByEngineId.get(e.taskId);
        if (rec !== undefined) this.#onTaskStatus(rec, e.status);
        return;
      }
      default:
        return;
    }
  }

  #onTaskStatus(rec: TaskRec, status: TaskStatus): void {
    const fw = this.frameworks.get(rec.frameworkId);
    if (status.state !== 'RUNNING') this.#stopHealth(rec);
    if (isTerminal(status.state)) this.#releaseTask(rec);
    if (fw === undefined || rec.abandoned) return;
    const pa = fw.capabilities.has('PARTITION_AWARE');
    switch (status.state) {
      case 'PENDING':
      case 'STAGING':
        return;
      case 'STARTING':
        this.#queueUpdate(rec, { state: 'TASK_STARTING', ...extra(status) });
        return;
      case 'RUNNING':
        if (rec.state === 'TASK_STAGING') this.#queueUpdate(rec, { state: 'TASK_STARTING' });
        if (rec.state === 'TASK_LOST' && !pa) return;
        this.#queueUpdate(rec, { state: 'TASK_RUNNING', ...extra(status) });
        this.#startHealth(rec);
        return;
      case 'KILLING':
        if (fw.capabilities.has('TASK_KILLING_STATE')) this.#queueUpdate(rec, { state: 'TASK_KILLING' });
        return;
      case 'FINISHED':
        this.#queueUpdate(rec, {
          state: 'TASK_FINISHED',
          message: status.message ?? 'Command exited with status 0',
        });
        return;
      case 'FAILED':
        this.#queueUpdate(rec, {
          state: 'TASK_FAILED',
          message: signalWords(status.message ?? 'Command failed'),
          ...(status.reason === undefined ? {} : { reason: status.reason }),
        });
        return;
      case 'KILLED':
        this.#queueUpdate(rec, {
          state: 'TASK_KILLED',
          message: signalWords(status.message ?? 'Command terminated'),
          // As Mesos' command executor marks a kill its health check asked for (no reason is set).
          ...(rec.killedByHealth ? { healthy: false } : {}),
        });
        return;
      case 'ERROR':
        this.#queueUpdate(rec, { state: 'TASK_ERROR', ...extra(status) });
        return;
      case 'UNREACHABLE':
        this.#sendMasterUpdate(fw, rec.taskId, {
          state: pa ? 'TASK_UNREACHABLE' : 'TASK_LOST',
          reason: 'REASON_AGENT_REMOVED',
          message: status.message ?? 'Agent is unreachable',
          agentId: rec.agentId,
          rec,
        });
        if (!pa) {
          // Mesos kills a non-partition-aware framework's tasks when their agent comes back.
          rec.abandoned = true;
          this.#releaseTask(rec);
        }
        return;
      case 'LOST': {
        const byOperator = status.reason === 'REASON_AGENT_REMOVED_BY_OPERATOR';
        this.#sendMasterUpdate(fw, rec.taskId, {
          state: pa ? (byOperator ? 'TASK_GONE_BY_OPERATOR' : 'TASK_GONE') : 'TASK_LOST',
          reason: 'REASON_AGENT_REMOVED',
          message: status.message ?? 'Agent removed',
          agentId: rec.agentId,
          rec,
        });
        return;
      }
      default:
        return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Health checks

  /**
   * Starts the task's health check once it runs. Process tasks are probed for real (COMMAND in the
   * sandbox with the task's environment, HTTP/TCP against its node's address); simulated tasks have
   * nothing to probe and pass every check, so they report one synthetic healthy result after
   * `delay_seconds`.
   */
  #startHealth(rec: TaskRec): void {
    if (rec.health !== undefined || rec.copied.health_check === undefined) return;
    const spec = parseHealthCheck(rec.copied.health_check);
    const et = this.engine.task(rec.taskId);
    if (typeof spec === 'string' || et === undefined) return;
    const node = this.engine.node(rec.nodeId);
    const host = node?.address ?? '127.0.0.1';
    const probe =
      et.mode === 'process'
        ? probeFor(spec, { host, cwd: et.sandbox, env: this.#taskEnv(rec, host, et.ports, et.sandbox) })
        : async () => true;
    rec.health = new HealthChecker({
      spec,
      clock: this.clock,
      probe,
      onResult: (r) => {
        if (rec.state !== 'TASK_RUNNING' || rec.abandoned) return;
        const last = rec.latest;
        this.#queueUpdate(rec, {
          state: 'TASK_RUNNING',
          ...(typeof last?.message === 'string' ? { message: last.message } : {}),
          reason: HEALTH_REASON,
          healthy: r.healthy,
        });
        if (r.killTask) {
          rec.killedByHealth = true;
          this.#stopHealth(rec);
          void this.engine.kill(rec.taskId).catch(() => undefined);
        }
      },
    });
  }

  #stopHealth(rec: TaskRec): void {
    rec.health?.stop();
    rec.health = undefined;
  }

  /** The environment the engine gave the task's process (COMMAND checks run with it). */
  #taskEnv(
    rec: TaskRec,
    host: string,
    ports: readonly number[],
    sandbox: string | undefined,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.HOST = host;
    env.PORTS = ports.join(',');
    ports.forEach((p, i) => {
      env[`PORT${i}`] = String(p);
    });
    if (ports.length > 0) env.PORT = String(ports[0]);
    env.MESOS_TASK_ID = rec.taskId;
    env.BERTH_TASK_ID = rec.taskId;
    env.BERTH_NODE_ID = rec.nodeId;
    Object.assign(env, rec.env);
    if (sandbox !== undefined) env.MESOS_SANDBOX = sandbox;
    return env;
  }

  #statusBase(rec: TaskRec): JsonObject {
    return {
      task_id: { value: rec.taskId },
      source: 'SOURCE_EXECUTOR',
      agent_id: { value: rec.agentId },
      executor_id: { value: rec.executorId },
    };
  }

  #containerStatus(rec: TaskRec): JsonObject {
    const node = this.engine.node(rec.nodeId);
    // devcluster itself plays the command executor, so the executor pid is its own.
    return {
      container_id: { value: rec.containerId },
      network_infos: [
        { ip_addresses: [{ protocol: 'IPv4', ip_address: node?.address ?? this.options.host }] },
      ],
      executor_pid: process.pid,
    };
  }

  /** An agent-side update: gets a uuid, is retried until acknowledged, one in flight per task. */
  #queueUpdate(
    rec: TaskRec,
    u: { state: string; message?: string; reason?: string; source?: string; healthy?: boolean },
  ): void {
    const base = this.#statusBase(rec);
    const status: JsonObject = {
      task_id: base.task_id!,
      state: u.state,
      ...(u.message === undefined ? {} : { message: u.message }),
      source: u.source ?? 'SOURCE_EXECUTOR',
      ...(u.reason === undefined ? {} : { reason: u.reason }),
      agent_id: base.agent_id!,
      executor_id: base.executor_id!,
      timestamp: this.clock.now() / 1000,
      uuid: newUuidBytes(),
      ...(u.healthy === undefined ? {} : { healthy: u.healthy }),
      container_status: this.#containerStatus(rec),
    };
    rec.state = u.state;
    rec.latest = status;
    rec.statuses.push(status);
    rec.pending.push(status);
    this.#operator({
      type: 'TASK_UPDATED',
      task_updated: { framework_id: { value: rec.frameworkId }, status, state: u.state },
    });
    if (rec.pending.length === 1) this.#sendPending(rec);
  }

  #sendPending(rec: TaskRec): void {
    if (rec.retryTimer !== undefined) this.clock.clearTimeout(rec.retryTimer);
    rec.retryTimer = undefined;
    const head = rec.pending[0];
    const fw = this.frameworks.get(rec.frameworkId);
    if (head === undefined || fw === undefined) return;
    this.deliverUpdate(fw, head);
    rec.retryTimer = this.clock.setTimeout(() => {
      rec.retryTimer = undefined;
      this.#sendPending(rec);
    }, this.options.statusUpdateRetryMs);
  }

  /** Sends one UPDATE event, applying the duplicate/reorder faults. */
  deliverUpdate(fw: Framework, status: JsonObject): void {
    const stream = fw.stream;
    if (stream === undefined) return;
    const event = { type: 'UPDATE', update: { status } };
    if (this.updateFaults.reorder > 0 && this.#held === undefined) {
      this.updateFaults.reorder--;
      this.#held = { fw, event };
      this.#heldTimer = this.clock.setTimeout(() => this.#flushHeld(), 1000);
      return;
    }
    stream.send(event);
    if (this.updateFaults.duplicate > 0) {
      this.updateFaults.duplicate--;
      stream.send(event);
    }
    this.#flushHeld();
  }

  #flushHeld(): void {
    if (this.#heldTimer !== undefined) this.clock.clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    const held = this.#held;
    this.#held = undefined;
    held?.fw.stream?.send(held.event);
  }

  /** A master-generated update: no uuid, never acknowledged. */
  #sendMasterUpdate(
    fw: Framework,
    taskId: string,
    u: { state: string; reason: string; message: string; agentId?: string; rec?: TaskRec },
  ): void {
    const status: JsonObject = {
      task_id: { value: taskId },
      state: u.state,
      message: u.message,
      source: 'SOURCE_MASTER',
      reason: u.reason,
      ...(u.agentId === undefined ? {} : { agent_id: { value: u.agentId } }),
      timestamp: this.clock.now() / 1000,
    };
    if (u.rec !== undefined) {
      u.rec.state = u.state;
      u.rec.latest = status;
      this.#operator({
        type: 'TASK_UPDATED',
        task_updated: { framework_id: { value: fw.id }, status, state: u.state },
      });
    }
    this.deliverUpdate(fw, status);
  }

  acknowledge(fw: Framework, taskId: string, uuid: string): void {
    const rec = fw.tasks.get(taskId);
    if (rec === undefined) return;
    const head = rec.pending[0];
    if (head === undefined || head.uuid !== uuid) return;
    rec.pending.shift();
    rec.lastAcked = head;
    if (rec.retryTimer !== undefined) this.clock.clearTimeout(rec.retryTimer);
    rec.retryTimer = undefined;
    if (rec.pending.length > 0) this.#sendPending(rec);
    else if (isTerminalMesos(rec.state)) {
      fw.tasks.delete(taskId);
      fw.completed.push(rec);
      if (this.tasksByEngineId.get(taskId) === rec) this.tasksByEngineId.delete(taskId);
    }
  }

  reconcile(fw: Framework, tasks: readonly JsonObject[]): void {
    const pa = fw.capabilities.has('PARTITION_AWARE');
    const latest = (rec: TaskRec): JsonObject => {
      const out: JsonObject = {
        task_id: { value: rec.taskId },
        state: rec.state,
        message: 'Reconciliation: Latest task state',
        source: 'SOURCE_MASTER',
        reason: 'REASON_RECONCILIATION',
        agent_id: { value: rec.agentId },
        timestamp: this.clock.now() / 1000,
      };
      if (typeof rec.latest?.healthy === 'boolean') out.healthy = rec.latest.healthy;
      if (rec.latest?.container_status !== undefined) out.container_status = rec.latest.container_status;
      return out;
    };
    if (tasks.length === 0) {
      for (const rec of fw.tasks.values()) {
        if (rec.state !== 'TASK_STAGING' || rec.latest !== undefined) this.deliverUpdate(fw, latest(rec));
        else this.deliverUpdate(fw, { ...latest(rec), state: 'TASK_STAGING' });
      }
      return;
    }
    for (const t of tasks) {
      const taskId = idOf(t.task_id) ?? '';
      const rec = fw.tasks.get(taskId);
      if (rec !== undefined) {
        this.deliverUpdate(fw, latest(rec));
        continue;
      }
      const agentId = idOf(t.agent_id);
      const agentKnown = agentId !== undefined && this.agents.has(agentId);
      this.deliverUpdate(fw, {
        task_id: { value: taskId },
        state: pa ? 'TASK_UNKNOWN' : 'TASK_LOST',
        message: 'Reconciliation: Task is unknown',
        source: 'SOURCE_MASTER',
        reason: 'REASON_RECONCILIATION',
        ...(agentKnown ? { agent_id: { value: agentId } } : {}),
        timestamp: this.clock.now() / 1000,
      });
    }
  }

  kill(fw: Framework, taskId: string, gracePeriodMs: number | undefined): void {
    const rec = fw.tasks.get(taskId);
    if (rec === undefined || isTerminalMesos(rec.state)) {
      if (rec === undefined) {
        this.#sendMasterUpdate(fw, taskId, {
          state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_UNKNOWN' : 'TASK_LOST',
          reason: 'REASON_RECONCILIATION',
          message: 'Attempted to kill an unknown task',
        });
      }
      return;
    }
    const et = this.engine.task(taskId);
    if (et === undefined || isTerminal(et.state)) return;
    void this.engine
      .kill(taskId, gracePeriodMs === undefined ? {} : { gracePeriodMs })
      .catch(() => undefined);
  }

  // ------------------------------------------------------------------------------------------
  // Operator views

  taskJson(rec: TaskRec): JsonObject {
    const out: JsonObject = {
      name: rec.name,
      task_id: { value: rec.taskId },
      framework_id: { value: rec.frameworkId },
      ...(rec.executorId !== rec.taskId ? { executor_id: { value: rec.executorId } } : {}),
      agent_id: { value: rec.agentId },
      state: rec.state,
      resources: taskResources(rec.resources, rec.role) as unknown as Json,
    };
    if (rec.statuses.length > 0) out.statuses = rec.statuses;
    if (rec.labels !== undefined) out.labels = rec.labels;
    Object.assign(out, rec.copied);
    if (rec.lastAcked !== undefined || rec.pending.length > 0) {
      const last = rec.statuses[rec.statuses.length - 1]!;
      out.status_update_state = last.state!;
      out.status_update_uuid = last.uuid!;
    }
    return out;
  }

  getTasks(): JsonObject {
    const tasks: Json[] = [];
    const unreachable: Json[] = [];
    const completed: Json[] = [];
    for (const fw of this.frameworks.values()) {
      for (const t of fw.tasks.values()) {
        if (t.state === 'TASK_UNREACHABLE') unreachable.push(this.taskJson(t));
        else if (isTerminalMesos(t.state)) completed.push(this.taskJson(t));
        else tasks.push(this.taskJson(t));
      }
      for (const t of fw.completed) completed.push(this.taskJson(t));
    }
    for (const fw of this.completedFrameworks) {
      for (const t of [...fw.tasks.values(), ...fw.completed]) completed.push(this.taskJson(t));
    }
    return { tasks, unreachable_tasks: unreachable, completed_tasks: completed };
  }

  getFrameworks(): JsonObject {
    return {
      frameworks: [...this.frameworks.values()].map((f) => this.frameworkJson(f, false)),
      completed_frameworks: this.completedFrameworks.map((f) => this.frameworkJson(f, true)),
    };
  }

  getAgents(): JsonObject {
    return {
      agents: [...this.agents.values()].filter((a) => a.active).map((a) => this.agentJson(a, true)),
      recovered_agents: [],
    };
  }

  getState(): JsonObject {
    return {
      get_tasks: this.getTasks(),
      get_executors: { executors: [] },
      get_frameworks: this.getFrameworks(),
      get_agents: this.getAgents(),
    };
  }

  getRoles(): JsonObject {
    const names = new Set<string>(['*', ...Object.keys(this.options.roleWeights)]);
    for (const fw of this.frameworks.values()) for (const r of fw.roles) names.add(r);
    const roles = [...names].sort().map((name) => {
      const frameworks = [...this.frameworks.values()].filter((f) => f.roles.includes(name));
      let used = Resources.ZERO;
      for (const f of frameworks)
        for (const t of f.tasks.values()) if (t.role === name && !t.released) used = used.add(t.resources);
      return {
        name,
        weight: this.options.roleWeights[name] ?? 1,
        frameworks: frameworks.map((f) => ({ value: f.id })),
        resources: offeredResources(used, name) as unknown as Json,
      };
    });
    return { roles };
  }

  #operator(event: JsonObject): void {
    for (const s of this.operatorStreams) s.send(event);
  }
}

function clampTo(res: Resources, held: Resources): Resources {
  return res.fits(held) ? res : held.sub(held.sub(res, 'clamp'), 'clamp');
}

function isTerminalMesos(state: string): boolean {
  return [
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_ERROR',
    'TASK_LOST',
    'TASK_DROPPED',
    'TASK_GONE',
    'TASK_GONE_BY_OPERATOR',
  ].includes(state);
}

function extra(status: TaskStatus): { message?: string } {
  return status.message === undefined ? {} : { message: status.message };
}

/** The command executor's wording: `signal Terminated`, not `signal SIGTERM`. */
function signalWords(message: string): string {
  return message
    .replace(/signal SIGTERM\b/, 'signal Terminated')
    .replace(/signal SIGKILL\b/, 'signal Killed')
    .replace(/signal SIGINT\b/, 'signal Interrupt');
}

function attributesOf(node: EngineNode | undefined): Json[] {
  if (node === undefined) return [];
  const out: Json[] = [];
  const seen = new Set<string>();
  const push = (name: string, v: string | number) => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push(
      typeof v === 'number'
        ? { name, type: 'SCALAR', scalar: { value: v } }
        : { name, type: 'TEXT', text: { value: v } },
    );
  };
  for (const [k, v] of Object.entries(node.attributes)) push(k, v);
  for (const [k, v] of Object.entries(node.labels)) push(k, v);
  return out;
}

function rolesOf(info: JsonObject): string[] {
  if (Array.isArray(info.roles) && info.roles.length > 0)
    return info.roles.filter((r) => typeof r === 'string');
  return [typeof info.role === 'string' ? info.role : '*'];
}

function capabilitiesOf(info: JsonObject): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(info.capabilities)) {
    for (const c of info.capabilities) if (isObject(c) && typeof c.type === 'string') out.add(c.type);
  }
  return out;
}

/** FrameworkInfo as the master stores and prints it: id set, defaults filled in. */
function normalizeFrameworkInfo(info: JsonObject, id: string): JsonObject {
  const out: JsonObject = {};
  out.user = info.user ?? '';
  out.name = info.name ?? '';
  out.id = { value: id };
  out.failover_timeout = typeof info.failover_timeout === 'number' ? info.failover_timeout : 0;
  out.checkpoint = info.checkpoint ?? false;
  for (const [k, v] of Object.entries(info)) if (!(k in out)) out[k] = v;
  if (out.roles === undefined && out.role === undefined) out.role = '*';
  return out;
}

function tasksOfOperation(op: JsonObject): JsonObject[] {
  if (op.type === 'LAUNCH' && isObject(op.launch) && Array.isArray(op.launch.task_infos)) {
    return op.launch.task_infos.filter(isObject);
  }
  if (
    op.type === 'LAUNCH_GROUP' &&
    isObject(op.launch_group) &&
    isObject(op.launch_group.task_group) &&
    Array.isArray(op.launch_group.task_group.tasks)
  ) {
    return op.launch_group.task_group.tasks.filter(isObject);
  }
  return [];
}

/** A Mesos TaskInfo as an engine launch: shell or argv command, environment, image, kill policy. */
function toEngineLaunch(
  info: JsonObject,
  res: Resources,
  nodeId: string,
  frameworkId: string,
  executorId: string,
): TaskLaunch {
  const cmd = isObject(info.command) ? info.command : undefined;
  const env: Record<string, string> = { MESOS_FRAMEWORK_ID: frameworkId, MESOS_EXECUTOR_ID: executorId };
  const vars = cmd !== undefined && isObject(cmd.environment) ? cmd.environment.variables : undefined;
  if (Array.isArray(vars)) {
    for (const v of vars) {
      if (isObject(v) && typeof v.name === 'string' && typeof v.value === 'string') env[v.name] = v.value;
    }
  }
  const container = isObject(info.container) ? info.container : undefined;
  let image: string | undefined;
  if (container !== undefined) {
    if (isObject(container.docker) && typeof container.docker.image === 'string')
      image = container.docker.image;
    const mesosImage =
      isObject(container.mesos) && isObject(container.mesos.image) ? container.mesos.image : undefined;
    if (
      mesosImage !== undefined &&
      isObject(mesosImage.docker) &&
      typeof mesosImage.docker.name === 'string'
    ) {
      image = mesosImage.docker.name;
    }
  }
  const grace =
    isObject(info.kill_policy) && isObject(info.kill_policy.grace_period)
      ? Number(info.kill_policy.grace_period.nanoseconds) / 1e6
      : undefined;
  const labels: Record<string, string> = {};
  if (isObject(info.labels) && Array.isArray(info.labels.labels)) {
    for (const l of info.labels.labels)
      if (isObject(l) && typeof l.key === 'string') labels[l.key] = String(l.value ?? '');
  }
  const value = cmd !== undefined && typeof cmd.value === 'string' ? cmd.value : undefined;
  const shell = cmd === undefined || cmd.shell !== false;
  const argv = cmd !== undefined && Array.isArray(cmd.arguments) ? cmd.arguments.map(String) : [];
  const base: TaskLaunch = {
    id: idOf(info.task_id)!,
    nodeId,
    name: typeof info.name === 'string' ? info.name : undefined,
    resources: res,
    env,
    ...(image === undefined ? {} : { image }),
    ...(grace === undefined || !Number.isFinite(grace) ? {} : { killGracePeriodMs: Math.max(0, grace) }),
    labels,
  } as TaskLaunch;
  if (value !== undefined && shell) return { ...base, command: value };
  if (value !== undefined) return { ...base, args: [value, ...argv.slice(1)] };
  return base;
}

/**
 * The optional TaskInfo fields that mesos.proto's `Task` message carries too (`discovery`,
 * `container`, `health_check`, `kill_policy`, `user`): a master echoes them in GET_TASKS and
 * GET_STATE, which is how operators and restarted frameworks find a task's named ports.
 */
const COPIED_TASK_FIELDS = ['discovery', 'container', 'health_check', 'kill_policy', 'user'] as const;

function copiedTaskFields(info: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of COPIED_TASK_FIELDS) {
    const value = info[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
