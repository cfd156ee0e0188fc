/**
 * devcluster's Mesos face: a Mesos 1.12-compatible master on loopback over the engine — the v1
 * scheduler API (`POST /api/v1/scheduler`), the v1 operator API (`POST /api/v1`), the legacy
 * `/master/state`, `/master/redirect`, `/version` and `/health`, one HTTP endpoint per virtual
 * agent (agent operator API and sandbox files), optional HTTP basic authentication of frameworks,
 * and fault injection.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BerthError, type Clock, systemClock } from '@berth/core';
import type { Engine } from '../engine/index.ts';
import { handleAgentRequest } from './agent.ts';
import { type Agent, MesosCluster } from './cluster.ts';
import { accepts, readBody, sendEmpty, sendJson, sendText } from './http.ts';
import { EventStream } from './streams.ts';
import {
  idOf,
  ipv4AsUint32,
  isObject,
  type Json,
  type JsonObject,
  MESOS_VERSION,
  parseJsonBody,
} from './wire.ts';

const COMPONENT = 'devcluster/mesos';
const BUILD_DATE = '2026-11-26 17:04:35';
const BUILD_TIME = 1795712675;

export interface MesosCredential {
  readonly principal: string;
  readonly secret: string;
}

export interface MesosMasterOptions {
  readonly engine: Engine;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (an ephemeral port); `berth devcluster up` uses 5050. */
  readonly port?: number;
  /** The name the master and agents advertise. Default `localhost` on loopback, else the host. */
  readonly hostname?: string;
  /** Timers (heartbeats, allocation, offer timeouts, retries, failover timeouts). Default real time. */
  readonly clock?: Clock;
  /** Default 15, as a real master. */
  readonly heartbeatIntervalSeconds?: number;
  /** Default 1000 (Mesos `--allocation_interval=1secs`). */
  readonly allocationIntervalMs?: number;
  /** Rescind offers not answered within this time. Default: never (Mesos `--offer_timeout` unset). */
  readonly offerTimeoutMs?: number;
  /** How long an unacknowledged status update waits before it is sent again. Default 10,000 (Mesos' first retry). */
  readonly statusUpdateRetryMs?: number;
  /** Require HTTP basic authentication of schedulers with one of these credentials. */
  readonly authenticate?: readonly MesosCredential[];
  /** Role weights for the DRF role sorter (default 1 each). */
  readonly roleWeights?: Readonly<Record<string, number>>;
  /**
   * Whether this master leads. Default: it leads unless another master on the same engine already
   * does (then it is a standby that answers 307 to the leader, as a non-leading Mesos master).
   */
  readonly leader?: boolean;
  /** Give each virtual agent its own HTTP port on `host` (default true), as a real agent has. */
  readonly agentEndpoints?: boolean;
}

/** Fault injection (also `POST /__berth/faults/<name>` with a JSON body of the same options). */
export interface MesosFaults {
  /** Cuts a framework's scheduler stream (all of them without an id), as a broken connection. */
  dropSchedulerStream(frameworkId?: string): number;
  /** Stops heartbeats on every stream until resumeHeartbeats(). */
  stopHeartbeats(): void;
  resumeHeartbeats(): void;
  /**
   * Master failover: the leader's streams are cut and `to` (default: a standby on the same engine,
   * else this master restarted with a new id) leads; the old address answers 307 to it.
   */
  failover(to?: MesosMaster): void;
  agentLost(agentIdOrNode: string): void;
  agentUnreachable(agentIdOrNode: string): void;
  agentRecovered(agentIdOrNode: string): void;
  /** The next `times` status updates are sent twice. */
  duplicateUpdates(times?: number): void;
  /** The next `times` status updates are held and sent after the one that follows them. */
  reorderUpdates(times?: number): void;
  /** The next `times` requests (optionally only under `pathPrefix`) answer `status` (default 503). */
  httpErrors(options?: {
    readonly status?: number;
    readonly times?: number;
    readonly pathPrefix?: string;
  }): void;
  /** The next `times` requests are answered after `delayMs`. */
  slowResponses(options: { readonly delayMs: number; readonly times?: number }): void;
  /**
   * The next `times` scheduler calls of `callType` (default ACCEPT) are carried out, then their
   * connection is cut instead of answered: the framework cannot tell whether the master got them.
   */
  cutCallConnections(options?: { readonly callType?: string; readonly times?: number }): void;
  clear(): void;
}

export interface MesosMaster {
  /** `http://host:port`. */
  readonly url: string;
  readonly id: string;
  readonly hostname: string;
  readonly port: number;
  readonly isLeader: boolean;
  readonly faults: MesosFaults;
  /** Base URL of a virtual agent's endpoints (by agent id or node id). */
  agentUrl(agentIdOrNode: string): string | undefined;
  /** The Mesos agent id of an engine node. */
  agentId(nodeId: string): string | undefined;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Shared {
  cluster: MesosCluster;
  masters: Set<MasterImpl>;
  leader: MasterImpl | undefined;
  agentServers: Map<string, Server>;
}

const shared = new WeakMap<Engine, Shared>();

const SCHEDULER_CALLS = new Set([
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE',
  'RECONCILE_OPERATIONS',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
]);

const OPERATOR_CALLS = new Set(
  'GET_HEALTH GET_FLAGS GET_VERSION GET_METRICS GET_LOGGING_LEVEL SET_LOGGING_LEVEL LIST_FILES READ_FILE GET_STATE GET_AGENTS GET_FRAMEWORKS GET_EXECUTORS GET_OPERATIONS GET_TASKS GET_ROLES GET_WEIGHTS UPDATE_WEIGHTS GET_MASTER SUBSCRIBE RESERVE_RESOURCES UNRESERVE_RESOURCES CREATE_VOLUMES DESTROY_VOLUMES GROW_VOLUME SHRINK_VOLUME GET_MAINTENANCE_STATUS GET_MAINTENANCE_SCHEDULE UPDATE_MAINTENANCE_SCHEDULE START_MAINTENANCE STOP_MAINTENANCE DRAIN_AGENT DEACTIVATE_AGENT REACTIVATE_AGENT GET_QUOTA UPDATE_QUOTA SET_QUOTA REMOVE_QUOTA TEARDOWN MARK_AGENT_GONE'.split(
    ' ',
  ),
);

/** Checks int64 fields given as JSON: `{nanoseconds: true}` is refused as the master refuses it. */
function int64TypeError(v: Json, path = ''): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const e = int64TypeError(x, path);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  if (!isObject(v)) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (k === 'nanoseconds' || k === 'value_ns') {
      if (typeof x === 'boolean') return `Not expecting a JSON boolean for field '${k}'`;
      if (typeof x === 'string' && !/^-?\d+$/.test(x))
        return `Failed to convert '${x}' to int64 for field '${k}'`;
      if (isObject(x) || Array.isArray(x))
        return `Not expecting a JSON ${Array.isArray(x) ? 'array' : 'object'} for field '${k}'`;
    }
    const e = int64TypeError(x, `${path}.${k}`);
    if (e !== undefined) return e;
  }
  return undefined;
}

function uuidValid(b64: string): boolean {
  try {
    return Buffer.from(b64, 'base64').length === 16;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

class MasterImpl implements MesosMaster {
  readonly #shared: Shared;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #opts: MesosMasterOptions;
  readonly #clock: Clock;
  readonly #heartbeatMs: number;
  readonly #host: string;
  readonly hostname: string;
  id = randomUUID();
  port = 0;
  #heartbeatsStopped = false;
  #httpErrors: { status: number; times: number; pathPrefix: string } | undefined;
  #slow: { delayMs: number; times: number } | undefined;
  #cutCalls: { callType: string; times: number } | undefined;
  readonly #streams = new Set<EventStream>();
  readonly faults: MesosFaults;
  #closed = false;

  constructor(s: Shared, opts: MesosMasterOptions, server: Server) {
    this.#shared = s;
    this.#opts = opts;
    this.#server = server;
    this.#clock = opts.clock ?? systemClock;
    this.#host = opts.host ?? '127.0.0.1';
    this.hostname =
      opts.hostname ?? (this.#host.startsWith('127.') || this.#host === '::1' ? 'localhost' : this.#host);
    this.#heartbeatMs = (opts.heartbeatIntervalSeconds ?? 15) * 1000;
    server.on('connection', (sock: Socket) => {
      this.#sockets.add(sock);
      sock.on('close', () => this.#sockets.delete(sock));
    });
    this.faults = this.#makeFaults();
  }

  get url(): string {
    return `http://${this.#host}:${this.port}`;
  }

  get isLeader(): boolean {
    return this.#shared.leader === this;
  }

  get #cluster(): MesosCluster {
    return this.#shared.cluster;
  }

  masterInfo(): JsonObject {
    return {
      id: this.id,
      ip: ipv4AsUint32(this.#host),
      port: this.port,
      pid: `master@${this.#host}:${this.port}`,
      hostname: this.hostname,
      version: MESOS_VERSION,
      address: { hostname: this.hostname, ip: this.#host, port: this.port },
      capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, { type: 'QUOTA_V2' }],
    };
  }

  becomeLeader(): void {
    this.#shared.leader = this;
    this.#cluster.leader = { id: this.id, masterInfo: this.masterInfo() };
    this.#cluster.allocateSoon();
  }

  /** Loses leadership: every stream this master serves is cut, as when its process dies. */
  stepDown(): void {
    for (const s of [...this.#streams]) s.destroy();
    this.#streams.clear();
  }

  agentId(nodeId: string): string | undefined {
    return this.#cluster.agentByNode.get(nodeId);
  }

  agentUrl(agentIdOrNode: string): string | undefined {
    const agent = this.#findAgent(agentIdOrNode);
    if (agent === undefined) return undefined;
    return agent.port > 0 ? `http://${this.#host}:${agent.port}` : `${this.url}/agent/${agent.id}`;
  }

  #findAgent(key: string): Agent | undefined {
    return this.#cluster.agents.get(key) ?? this.#cluster.agentOfNode(key);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#streams]) s.destroy();
    this.#shared.masters.delete(this);
    if (this.#shared.leader === this) {
      this.#shared.leader = undefined;
      this.#cluster.leader = undefined;
      const next = [...this.#shared.masters][0];
      next?.becomeLeader();
    }
    const closing: Promise<void>[] = [new Promise((r) => this.#server.close(() => r()))];
    if (this.#shared.masters.size === 0) {
      this.#cluster.close();
      for (const srv of this.#shared.agentServers.values()) {
        srv.closeAllConnections();
        closing.push(new Promise((r) => srv.close(() => r())));
      }
      shared.delete(this.#cluster.engine);
    }
    for (const sock of this.#sockets) sock.destroy();
    await Promise.all(closing);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------------------------------
  // Routing

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path.startsWith('/__berth/faults/'))
      return this.#adminFault(req, res, path.slice('/__berth/faults/'.length));
    if (this.#httpErrors !== undefined && path.startsWith(this.#httpErrors.pathPrefix)) {
      const f = this.#httpErrors;
      if (--f.times <= 0) this.#httpErrors = undefined;
      return sendText(res, f.status, 'Service Unavailable (injected by devcluster)');
    }
    if (this.#slow !== undefined) {
      const s = this.#slow;
      if (--s.times <= 0) this.#slow = undefined;
      await new Promise<void>((r) => this.#clock.setTimeout(r, s.delayMs));
    }
    const agentMatch = /^\/agent\/([^/]+)(\/.*)$/.exec(path);
    if (agentMatch !== null) {
      const agent = this.#findAgent(decodeURIComponent(agentMatch[1]!));
      if (agent === undefined) return sendText(res, 404, 'Agent not found');
      return handleAgentRequest(this.#cluster, agent, req, res, agentMatch[2]!, url.searchParams);
    }
    if (!this.isLeader) {
      if (this.#shared.leader === undefined) return sendText(res, 503, 'No leader elected');
      const base = `//${this.#shared.leader.hostname}:${this.#shared.leader.port}`;
      if (path === '/redirect' || path === '/master/redirect') return sendEmpty(res, 307, { Location: base });
      return sendEmpty(res, 307, { Location: base + (req.url ?? '/') });
    }
    switch (path) {
      case '/api/v1/scheduler':
      case '/master/api/v1/scheduler':
        return this.#scheduler(req, res);
      case '/api/v1':
      case '/master/api/v1':
        return this.#operator(req, res);
      case '/master/redirect':
      case '/redirect':
        return sendEmpty(res, 307, { Location: `//${this.hostname}:${this.port}` });
      case '/version':
        return sendJson(res, 200, this.#version());
      case '/health':
      case '/master/health':
        return sendEmpty(res, 200);
      case '/master/state':
      case '/master/state.json':
      case '/state':
      case '/state.json':
        return sendJson(res, 200, this.#legacyState());
      default:
        return sendText(res, 404, '');
    }
  }

  #version(): JsonObject {
    return { build_date: BUILD_DATE, build_time: BUILD_TIME, build_user: '', version: MESOS_VERSION };
  }

  /** Content-Type checks and JSON parsing shared by both v1 endpoints; undefined when answered. */
  async #v1Body(
    req: IncomingMessage,
    res: ServerResponse,
    what: 'scheduler' | 'master',
  ): Promise<JsonObject | undefined> {
    if (req.method !== 'POST') {
      sendText(
        res,
        405,
        `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${req.method}'.`,
        {
          Allow: 'POST',
        },
      );
      return undefined;
    }
    const contentType = req.headers['content-type'];
    const text = await readBody(req);
    if (contentType === undefined) {
      sendText(res, 400, "Expecting 'Content-Type' to be present");
      return undefined;
    }
    if (contentType === 'application/x-protobuf') {
      sendText(
        res,
        415,
        "Expecting 'Content-Type' of application/json (devcluster does not decode application/x-protobuf)",
      );
      return undefined;
    }
    if (contentType !== 'application/json') {
      sendText(res, 415, "Expecting 'Content-Type' of application/json or application/x-protobuf");
      return undefined;
    }
    const parsed = parseJsonBody(text);
    if (!parsed.ok) {
      sendText(res, 400, `Failed to parse body into JSON: ${parsed.error}`);
      return undefined;
    }
    if (!isObject(parsed.value)) {
      sendText(res, 400, 'Failed to convert JSON into Call protobuf: Expecting a JSON object');
      return undefined;
    }
    const typeError = int64TypeError(parsed.value);
    if (typeError !== undefined) {
      sendText(res, 400, `Failed to convert JSON into Call protobuf: ${typeError}`);
      return undefined;
    }
    const call = parsed.value;
    const known = what === 'scheduler' ? SCHEDULER_CALLS : OPERATOR_CALLS;
    if (typeof call.type !== 'string' || !known.has(call.type)) {
      sendText(res, 400, `Failed to validate ${what}::Call: Expecting 'type' to be present`);
      return undefined;
    }
    return call;
  }

  #authenticated(req: IncomingMessage, res: ServerResponse): boolean {
    const creds = this.#opts.authenticate;
    if (creds === undefined || creds.length === 0) return true;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [principal, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      const secret = rest.join(':');
      if (creds.some((c) => c.principal === principal && c.secret === secret)) return true;
    }
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mesos"', 'Content-Length': 0 });
    res.end();
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // Scheduler API

  async #scheduler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST' && !this.#authenticated(req, res)) {
      req.resume();
      return;
    }
    const call = await this.#v1Body(req, res, 'scheduler');
    if (call === undefined) return;
    const invalid = (msg: string) => sendText(res, 400, `Failed to validate scheduler::Call: ${msg}`);
    const cluster = this.#cluster;
    const frameworkId = idOf(call.framework_id);

    if (call.type === 'SUBSCRIBE') {
      const sub = call.subscribe;
      if (!isObject(sub)) return invalid("Expecting 'subscribe' to be present");
      const info = sub.framework_info;
      if (!isObject(info))
        return sendText(
          res,
          400,
          'Failed to validate scheduler::Call: Not initialized: subscribe.framework_info',
        );
      const infoId = idOf(info.id);
      if (infoId !== undefined && infoId !== frameworkId) {
        return invalid("'framework_id' differs from 'subscribe.framework_info.id'");
      }
      const missing = ['user', 'name'].filter((k) => typeof info[k] !== 'string');
      if (missing.length > 0) {
        return sendText(
          res,
          400,
          `Failed to convert JSON into Call protobuf: Not initialized: ${missing.map((k) => `subscribe.framework_info.${k}`).join(', ')}`,
        );
      }
      if (!accepts(req.headers.accept, 'application/json')) {
        return sendText(
          res,
          406,
          "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        );
      }
      if (req.headers['mesos-stream-id'] !== undefined) {
        return sendText(res, 400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
      }
      return this.#subscribeScheduler(res, info, infoId);
    }

    if (frameworkId === undefined) return invalid("Expecting 'framework_id' to be present");
    const need: Record<string, string> = {
      ACCEPT: 'accept',
      DECLINE: 'decline',
      ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
      DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
      KILL: 'kill',
      SHUTDOWN: 'shutdown',
      ACKNOWLEDGE: 'acknowledge',
      ACKNOWLEDGE_OPERATION_STATUS: 'acknowledge_operation_status',
      RECONCILE: 'reconcile',
      RECONCILE_OPERATIONS: 'reconcile_operations',
      MESSAGE: 'message',
      REQUEST: 'request',
      UPDATE_FRAMEWORK: 'update_framework',
    };
    const field = need[call.type as string];
    if (field !== undefined && !isObject(call[field])) return invalid(`Expecting '${field}' to be present`);
    if (call.type === 'ACKNOWLEDGE') {
      const ack = call.acknowledge as JsonObject;
      const missing = ['agent_id', 'task_id', 'uuid'].filter((k) => ack[k] === undefined);
      if (missing.length > 0) {
        return sendText(
          res,
          400,
          `Failed to convert JSON into Call protobuf: Not initialized: ${missing.map((k) => `acknowledge.${k}`).join(', ')}`,
        );
      }
      if (typeof ack.uuid !== 'string' || !uuidValid(ack.uuid)) {
        return invalid(`Failed to parse UUID: ${String(ack.uuid)}`);
      }
    }
    if (call.type === 'KILL' && idOf((call.kill as JsonObject).task_id) === undefined) {
      return sendText(res, 400, 'Failed to convert JSON into Call protobuf: Not initialized: kill.task_id');
    }

    const fw = cluster.frameworks.get(frameworkId);
    if (fw === undefined) return sendText(res, 400, 'Framework cannot be found');
    if (!fw.connected) return sendText(res, 403, 'Framework is not subscribed');
    const streamId = req.headers['mesos-stream-id'];
    if (streamId === undefined) {
      return sendText(res, 400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    }
    if (streamId !== fw.streamId) {
      return sendText(
        res,
        400,
        `The stream ID '${String(streamId)}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`,
      );
    }

    switch (call.type) {
      case 'TEARDOWN':
        cluster.removeFramework(fw);
        break;
      case 'ACCEPT':
        cluster.accept(fw, call);
        break;
      case 'DECLINE': {
        const d = call.decline as JsonObject;
        const ids = Array.isArray(d.offer_ids)
          ? d.offer_ids.map(idOf).filter((x): x is string => x !== undefined)
          : [];
        const f = isObject(d.filters) ? d.filters : {};
        cluster.decline(fw, ids, typeof f.refuse_seconds === 'number' ? f.refuse_seconds : 5);
        break;
      }
      case 'REVIVE':
      case 'SUPPRESS': {
        const body = isObject(call[call.type.toLowerCase()])
          ? (call[call.type.toLowerCase()] as JsonObject)
          : {};
        const roles = Array.isArray(body.roles)
          ? body.roles.filter((r): r is string => typeof r === 'string')
          : [];
        if (call.type === 'REVIVE') cluster.revive(fw, roles);
        else cluster.suppress(fw, roles);
        break;
      }
      case 'KILL': {
        const k = call.kill as JsonObject;
        const policy =
          isObject(k.kill_policy) && isObject(k.kill_policy.grace_period)
            ? k.kill_policy.grace_period
            : undefined;
        const grace = policy === undefined ? undefined : Number(policy.nanoseconds) / 1e6;
        cluster.kill(fw, idOf(k.task_id)!, grace !== undefined && Number.isFinite(grace) ? grace : undefined);
        break;
      }
      case 'ACKNOWLEDGE': {
        const a = call.acknowledge as JsonObject;
        cluster.acknowledge(fw, idOf(a.task_id) ?? '', a.uuid as string);
        break;
      }
      case 'RECONCILE': {
        const r = call.reconcile as JsonObject;
        cluster.reconcile(fw, Array.isArray(r.tasks) ? r.tasks.filter(isObject) : []);
        break;
      }
      case 'UPDATE_FRAMEWORK': {
        const u = call.update_framework as JsonObject;
        if (isObject(u.framework_info) && idOf(u.framework_info.id) !== fw.id) {
          return invalid("'framework_id' differs from 'update_framework.framework_info.id'");
        }
        if (isObject(u.framework_info)) fw.info = { ...fw.info, ...u.framework_info, id: { value: fw.id } };
        break;
      }
      default:
        // SHUTDOWN, MESSAGE, REQUEST, inverse offers, operations: accepted, nothing to do here
        // (command tasks have no custom executor to message; there are no inverse offers).
        break;
    }
    const cut = this.#cutCalls;
    if (cut !== undefined && cut.callType === call.type) {
      if (--cut.times <= 0) this.#cutCalls = undefined;
      res.socket?.destroy();
      return;
    }
    sendEmpty(res, 202);
  }

  #subscribeScheduler(res: ServerResponse, info: JsonObject, frameworkId: string | undefined): void {
    const cluster = this.#cluster;
    const stream = new EventStream(res, this.#clock, this.#heartbeatMs, () => this.#heartbeatsStopped);
    const result = cluster.subscribe(info, frameworkId, stream);
    if ('removed' in result) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      stream.send({ type: 'ERROR', error: { message: 'Framework has been removed' } });
      stream.end();
      return;
    }
    const { fw } = result;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': fw.streamId! });
    this.#streams.add(stream);
    stream.onClose(() => this.#streams.delete(stream));
    stream.send({
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: { value: fw.id },
        heartbeat_interval_seconds: this.#heartbeatMs / 1000,
        master_info: this.masterInfo(),
      },
    });
    stream.startHeartbeats();
    cluster.afterSubscribed(fw);
  }

  // ------------------------------------------------------------------------------------------
  // Operator API

  async #operator(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call = await this.#v1Body(req, res, 'master');
    if (call === undefined) return;
    const cluster = this.#cluster;
    const wantsJson = accepts(req.headers.accept, 'application/json');
    if (!wantsJson) {
      if (accepts(req.headers.accept, 'application/x-protobuf') && call.type === 'GET_HEALTH') {
        // Response { type: GET_HEALTH (1), get_health { healthy: true } } in protobuf.
        const body = Buffer.from([0x08, 0x01, 0x12, 0x02, 0x08, 0x01]);
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length });
        res.end(body);
        return;
      }
      return sendText(
        res,
        406,
        "Expecting 'Accept' to allow 'application/json' (devcluster answers only JSON here)",
      );
    }
    const reply = (type: string, key: string, value: JsonObject) =>
      sendJson(res, 200, { type, [key]: value });
    switch (call.type) {
      case 'GET_HEALTH':
        return reply('GET_HEALTH', 'get_health', { healthy: true });
      case 'GET_VERSION':
        return reply('GET_VERSION', 'get_version', { version_info: this.#version() });
      case 'GET_STATE':
        return reply('GET_STATE', 'get_state', cluster.getState());
      case 'GET_AGENTS':
        return reply('GET_AGENTS', 'get_agents', cluster.getAgents());
      case 'GET_FRAMEWORKS':
        return reply('GET_FRAMEWORKS', 'get_frameworks', cluster.getFrameworks());
      case 'GET_TASKS':
        return reply('GET_TASKS', 'get_tasks', cluster.getTasks());
      case 'GET_ROLES':
        return reply('GET_ROLES', 'get_roles', cluster.getRoles());
      case 'GET_EXECUTORS':
        return reply('GET_EXECUTORS', 'get_executors', { executors: [] });
      case 'GET_MASTER':
        return reply('GET_MASTER', 'get_master', {
          master_info: this.masterInfo(),
          start_time: cluster.startedMs / 1000,
          elected_time: cluster.startedMs / 1000,
        });
      case 'GET_FLAGS':
        return reply('GET_FLAGS', 'get_flags', {
          flags: Object.entries(this.#flags()).map(([name, value]) => ({ name, value })),
        });
      case 'GET_METRICS':
        return reply('GET_METRICS', 'get_metrics', {
          metrics: Object.entries(this.#metrics()).map(([name, value]) => ({ name, value })),
        });
      case 'GET_WEIGHTS':
        return reply('GET_WEIGHTS', 'get_weights', {
          weight_infos: Object.entries(this.#opts.roleWeights ?? {}).map(([role, weight]) => ({
            role,
            weight,
          })),
        });
      case 'SUBSCRIBE': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const stream = new EventStream(res, this.#clock, this.#heartbeatMs, () => this.#heartbeatsStopped);
        this.#streams.add(stream);
        stream.send({
          type: 'SUBSCRIBED',
          subscribed: { get_state: cluster.getState(), heartbeat_interval_seconds: this.#heartbeatMs / 1000 },
        });
        stream.startHeartbeats();
        cluster.operatorStreams.add(stream);
        stream.onClose(() => {
          cluster.operatorStreams.delete(stream);
          this.#streams.delete(stream);
        });
        return;
      }
      default:
        return sendText(res, 501, `devcluster's Mesos master does not implement ${String(call.type)}`);
    }
  }

  #flags(): Record<string, string> {
    return {
      allocation_interval: `${this.#opts.allocationIntervalMs ?? 1000}ms`,
      authenticate_http_frameworks: String((this.#opts.authenticate?.length ?? 0) > 0),
      framework_sorter: 'drf',
      role_sorter: 'drf',
      hostname: this.hostname,
      ip: this.#host,
      port: String(this.port),
      min_allocatable_resources: 'cpus:0.01|mem:32',
      offer_timeout: this.#opts.offerTimeoutMs === undefined ? '' : `${this.#opts.offerTimeoutMs}ms`,
    };
  }

  #metrics(): Record<string, number> {
    const c = this.#cluster;
    let running = 0;
    for (const fw of c.frameworks.values())
      for (const t of fw.tasks.values()) if (t.state === 'TASK_RUNNING') running++;
    const fws = [...c.frameworks.values()];
    return {
      'master/elected': this.isLeader ? 1 : 0,
      'master/uptime_secs': (this.#clock.now() - c.startedMs) / 1000,
      'master/frameworks_active': fws.filter((f) => f.active).length,
      'master/frameworks_connected': fws.filter((f) => f.connected).length,
      'master/frameworks_disconnected': fws.filter((f) => !f.connected).length,
      'master/outstanding_offers': c.offers.size,
      'master/slaves_active': [...c.agents.values()].filter((a) => a.active).length,
      'master/tasks_running': running,
    };
  }

  /** `/master/state`: the pre-v1 JSON (numbers for times, resources as name → amount). */
  #legacyState(): JsonObject {
    const c = this.#cluster;
    const amounts = (list: Json) => {
      const out: JsonObject = { disk: 0, mem: 0, gpus: 0, cpus: 0 };
      for (const r of Array.isArray(list) ? list : []) {
        if (!isObject(r) || typeof r.name !== 'string') continue;
        if (isObject(r.scalar)) out[r.name] = ((out[r.name] as number) ?? 0) + (r.scalar.value as number);
        if (isObject(r.ranges) && Array.isArray(r.ranges.range)) {
          out[r.name] =
            `[${r.ranges.range.map((x) => (isObject(x) ? `${x.begin}-${x.end}` : '')).join(', ')}]`;
        }
      }
      return out;
    };
    const slaves = c.getAgents().agents as JsonObject[];
    const legacyTask = (t: JsonObject): JsonObject => ({
      id: idOf(t.task_id) ?? '',
      name: t.name ?? '',
      framework_id: idOf(t.framework_id) ?? '',
      executor_id: '',
      slave_id: idOf(t.agent_id) ?? '',
      state: t.state ?? '',
      resources: amounts(t.resources ?? []),
      role: '*',
      statuses: (Array.isArray(t.statuses) ? t.statuses : []).map((s) =>
        isObject(s)
          ? {
              state: s.state ?? '',
              timestamp: s.timestamp ?? 0,
              // The legacy endpoint prints container ids and networks, not the executor pid.
              ...(isObject(s.container_status)
                ? {
                    container_status: {
                      container_id: s.container_status.container_id ?? {},
                      network_infos: s.container_status.network_infos ?? [],
                    },
                  }
                : {}),
            }
          : {},
      ),
    });
    const legacyFramework = (f: JsonObject, completed: boolean): JsonObject => {
      const info = f.framework_info as JsonObject;
      const fid = idOf(info.id) ?? '';
      const fwRec = c.frameworks.get(fid) ?? c.completedFrameworks.find((x) => x.id === fid);
      const tasks =
        fwRec === undefined ? [] : [...fwRec.tasks.values()].map((t) => legacyTask(c.taskJson(t)));
      return {
        id: fid,
        name: info.name ?? '',
        used_resources: amounts(f.allocated_resources ?? []),
        offered_resources: amounts(f.offered_resources ?? []),
        capabilities: Array.isArray(info.capabilities)
          ? info.capabilities.map((x) => (isObject(x) ? (x.type ?? '') : ''))
          : [],
        hostname: '',
        webui_url: '',
        active: f.active ?? false,
        connected: f.connected ?? false,
        recovered: false,
        user: info.user ?? '',
        failover_timeout: info.failover_timeout ?? 0,
        checkpoint: info.checkpoint ?? false,
        registered_time: ((f.registered_time as JsonObject).nanoseconds as number) / 1e9,
        unregistered_time: completed ? ((f.unregistered_time as JsonObject).nanoseconds as number) / 1e9 : 0,
        resources: amounts(f.allocated_resources ?? []),
        roles: info.roles ?? [info.role ?? '*'],
        tasks: completed ? [] : tasks,
        unreachable_tasks: [],
        completed_tasks: fwRec === undefined ? [] : fwRec.completed.map((t) => legacyTask(c.taskJson(t))),
        offers: [],
        executors: [],
        offer_constraints: {},
      };
    };
    const fws = c.getFrameworks();
    return {
      version: MESOS_VERSION,
      build_date: BUILD_DATE,
      build_time: BUILD_TIME,
      build_user: '',
      start_time: c.startedMs / 1000,
      elected_time: c.startedMs / 1000,
      id: this.id,
      pid: `master@${this.#host}:${this.port}`,
      hostname: this.hostname,
      capabilities: ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'],
      activated_slaves: slaves.length,
      deactivated_slaves: 0,
      unreachable_slaves: [...c.agents.values()].filter((a) => !a.active).length,
      leader: `master@${this.#host}:${this.port}`,
      leader_info: {
        id: this.id,
        pid: `master@${this.#host}:${this.port}`,
        port: this.port,
        hostname: this.hostname,
      },
      flags: this.#flags(),
      slaves: slaves.map((a) => {
        const info = a.agent_info as JsonObject;
        return {
          id: idOf(info.id) ?? '',
          hostname: info.hostname ?? '',
          port: info.port ?? 0,
          attributes: {},
          pid: a.pid ?? '',
          registered_time: ((a.registered_time as JsonObject).nanoseconds as number) / 1e9,
          resources: amounts(a.total_resources ?? []),
          used_resources: amounts(a.allocated_resources ?? []),
          offered_resources: amounts([]),
          reserved_resources: {},
          unreserved_resources: amounts(a.total_resources ?? []),
          active: a.active ?? true,
          deactivated: false,
          version: MESOS_VERSION,
          capabilities: (a.capabilities as JsonObject[]).map((x) => x.type ?? ''),
        };
      }),
      recovered_slaves: [],
      frameworks: (fws.frameworks as JsonObject[]).map((f) => legacyFramework(f, false)),
      completed_frameworks: (fws.completed_frameworks as JsonObject[]).map((f) => legacyFramework(f, true)),
      orphan_tasks: [],
      unregistered_frameworks: [],
    };
  }

  // ------------------------------------------------------------------------------------------
  // Faults

  #makeFaults(): MesosFaults {
    const engine = () => this.#cluster.engine;
    const nodeOf = (key: string): string => {
      const agent = this.#findAgent(key);
      if (agent === undefined) {
        throw new BerthError('NOT_FOUND', `no agent or node named ${JSON.stringify(key)}`, {
          component: COMPONENT,
          hint: 'Pass a Mesos agent id (from an offer) or an engine node id.',
        });
      }
      return agent.nodeId;
    };
    const count = (n: number | undefined, what: string) => {
      const v = n ?? 1;
      if (!Number.isInteger(v) || v < 1) {
        throw new BerthError('SPEC_INVALID', `${what}: times must be an integer ≥ 1, got ${String(n)}`, {
          component: COMPONENT,
          hint: 'Pass e.g. { times: 1 }.',
        });
      }
      return v;
    };
    return {
      dropSchedulerStream: (frameworkId) => {
        let n = 0;
        for (const fw of this.#cluster.frameworks.values()) {
          if (frameworkId !== undefined && fw.id !== frameworkId) continue;
          if (fw.stream !== undefined) {
            fw.stream.destroy();
            n++;
          }
        }
        return n;
      },
      stopHeartbeats: () => {
        for (const m of this.#shared.masters) m.#heartbeatsStopped = true;
      },
      resumeHeartbeats: () => {
        for (const m of this.#shared.masters) m.#heartbeatsStopped = false;
      },
      failover: (to) => {
        const old = this.#shared.leader;
        let next = to as MasterImpl | undefined;
        if (next !== undefined && !this.#shared.masters.has(next)) {
          throw new BerthError('SPEC_INVALID', 'failover target is not a master of this engine', {
            component: COMPONENT,
            hint: 'Start the standby with startMesosMaster({ engine, leader: false }) on the same engine.',
          });
        }
        next ??= [...this.#shared.masters].find((m) => m !== old) ?? old;
        old?.stepDown();
        if (next === old && next !== undefined) next.id = randomUUID();
        next?.becomeLeader();
      },
      agentLost: (key) => engine().failNode(nodeOf(key), { mode: 'lost' }),
      agentUnreachable: (key) => engine().failNode(nodeOf(key), { mode: 'unreachable' }),
      agentRecovered: (key) => engine().recoverNode(nodeOf(key)),
      duplicateUpdates: (times) => {
        this.#cluster.updateFaults.duplicate += count(times, 'duplicateUpdates');
      },
      reorderUpdates: (times) => {
        this.#cluster.updateFaults.reorder += count(times, 'reorderUpdates');
      },
      httpErrors: (options = {}) => {
        const status = options.status ?? 503;
        if (!Number.isInteger(status) || status < 500 || status > 599) {
          throw new BerthError('SPEC_INVALID', `httpErrors: status must be 500–599, got ${String(status)}`, {
            component: COMPONENT,
            hint: 'Use e.g. 503.',
          });
        }
        this.#httpErrors = {
          status,
          times: count(options.times, 'httpErrors'),
          pathPrefix: options.pathPrefix ?? '/',
        };
      },
      slowResponses: (options) => {
        if (!Number.isFinite(options.delayMs) || options.delayMs < 0) {
          throw new BerthError(
            'SPEC_INVALID',
            `slowResponses: delayMs must be ≥ 0, got ${String(options.delayMs)}`,
            {
              component: COMPONENT,
              hint: 'Pass milliseconds, e.g. { delayMs: 2000 }.',
            },
          );
        }
        this.#slow = { delayMs: options.delayMs, times: count(options.times, 'slowResponses') };
      },
      cutCallConnections: (options = {}) => {
        this.#cutCalls = {
          callType: options.callType ?? 'ACCEPT',
          times: count(options.times, 'cutCallConnections'),
        };
      },
      clear: () => {
        this.#httpErrors = undefined;
        this.#slow = undefined;
        this.#cutCalls = undefined;
        this.#cluster.updateFaults.duplicate = 0;
        this.#cluster.updateFaults.reorder = 0;
        for (const m of this.#shared.masters) m.#heartbeatsStopped = false;
      },
    };
  }

  async #adminFault(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (req.method !== 'POST') {
      return sendText(
        res,
        405,
        `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${req.method}'.`,
        {
          Allow: 'POST',
        },
      );
    }
    const text = await readBody(req);
    const parsed = text.trim() === '' ? { ok: true as const, value: {} as Json } : parseJsonBody(text);
    if (!parsed.ok || !isObject(parsed.value)) return sendText(res, 400, 'Expecting a JSON object body');
    const a = parsed.value;
    const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
    const num = (k: string) => (typeof a[k] === 'number' ? (a[k] as number) : undefined);
    const f = this.faults;
    const agent = str('agentId') ?? str('nodeId') ?? '';
    const actions: Record<string, () => unknown> = {
      'drop-stream': () => ({ dropped: f.dropSchedulerStream(str('frameworkId')) }),
      'stop-heartbeats': () => f.stopHeartbeats(),
      'resume-heartbeats': () => f.resumeHeartbeats(),
      failover: () => f.failover(),
      'agent-lost': () => f.agentLost(agent),
      'agent-unreachable': () => f.agentUnreachable(agent),
      'agent-recovered': () => f.agentRecovered(agent),
      'duplicate-updates': () => f.duplicateUpdates(num('times')),
      'reorder-updates': () => f.reorderUpdates(num('times')),
      'http-errors': () =>
        f.httpErrors({
          ...(num('status') === undefined ? {} : { status: num('status')! }),
          ...(num('times') === undefined ? {} : { times: num('times')! }),
          ...(str('pathPrefix') === undefined ? {} : { pathPrefix: str('pathPrefix')! }),
        }),
      'slow-responses': () =>
        f.slowResponses({
          delayMs: num('delayMs') ?? 0,
          ...(num('times') === undefined ? {} : { times: num('times')! }),
        }),
      clear: () => f.clear(),
    };
    const action = actions[name];
    if (action === undefined) {
      return sendText(res, 404, `Unknown fault '${name}'; known: ${Object.keys(actions).join(', ')}`);
    }
    try {
      const out = action();
      sendJson(res, 200, { fault: name, ...(isObject(out as Json) ? (out as JsonObject) : {}) });
    } catch (e) {
      sendText(res, 400, e instanceof Error ? e.message : String(e));
    }
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts a Mesos master over a running engine. Several masters on one engine share its state:
 * the first leads, the others stand by and redirect (see `faults.failover`).
 */
export async function startMesosMaster(options: MesosMasterOptions): Promise<MesosMaster> {
  const { engine } = options;
  if (!engine.running) {
    throw new BerthError('CONFLICT', 'the engine is not running', {
      component: COMPONENT,
      hint: 'await engine.start() (or use startEngine()) before startMesosMaster().',
    });
  }
  for (const [k, v] of [
    ['heartbeatIntervalSeconds', options.heartbeatIntervalSeconds],
    ['allocationIntervalMs', options.allocationIntervalMs],
    ['offerTimeoutMs', options.offerTimeoutMs],
    ['statusUpdateRetryMs', options.statusUpdateRetryMs],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
      throw new BerthError('SPEC_INVALID', `${k} must be a number > 0, got ${String(v)}`, {
        component: COMPONENT,
        hint: `Leave ${k} out for the Mesos default.`,
      });
    }
  }
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  let s = shared.get(engine);
  const creating = s === undefined;
  if (s === undefined) {
    const cluster = new MesosCluster({
      engine,
      clock,
      allocationIntervalMs: options.allocationIntervalMs ?? 1000,
      offerTimeoutMs: options.offerTimeoutMs,
      statusUpdateRetryMs: options.statusUpdateRetryMs ?? 10_000,
      roleWeights: options.roleWeights ?? {},
      host,
      hostname: options.hostname ?? 'localhost',
    });
    s = { cluster, masters: new Set(), leader: undefined, agentServers: new Map() };
    shared.set(engine, s);
    const state = s;
    if (options.agentEndpoints ?? true) {
      const serve = (agent: Agent) => {
        const srv = createServer((req, res) => {
          const url = new URL(req.url ?? '/', 'http://x');
          void handleAgentRequest(state.cluster, agent, req, res, url.pathname, url.searchParams).catch(
            (e: unknown) => {
              if (!res.headersSent) sendText(res, 500, e instanceof Error ? e.message : String(e));
            },
          );
        });
        state.agentServers.set(agent.id, srv);
        srv.listen(0, host, () => {
          agent.port = (srv.address() as AddressInfo).port;
        });
      };
      cluster.onAgentAdded = serve;
      cluster.onAgentRemoved = (agent) => {
        const srv = state.agentServers.get(agent.id);
        state.agentServers.delete(agent.id);
        srv?.closeAllConnections();
        srv?.close();
      };
      for (const agent of cluster.agents.values()) serve(agent);
      // Agent ports are known once their servers listen.
      await new Promise<void>((r) => setImmediate(r));
      for (let i = 0; i < 100 && [...cluster.agents.values()].some((a) => a.port === 0); i++) {
        await new Promise<void>((r) => setTimeout(r, 5));
      }
    }
  }
  const state = s;
  let master: MasterImpl | undefined;
  const server = createServer((req, res) => {
    void master?.handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendText(res, 500, e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  master = new MasterImpl(state, options, server);
  try {
    master.port = await listen(server, options.port ?? 0, host);
  } catch (cause) {
    if (creating) {
      state.cluster.close();
      for (const srv of state.agentServers.values()) srv.close();
      shared.delete(engine);
    }
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      `cannot listen on ${host}:${options.port ?? 0}: ${(cause as Error).message}`,
      {
        component: COMPONENT,
        hint: 'Pick another port, or stop whatever is using it.',
        cause,
      },
    );
  }
  state.masters.add(master);
  const lead = options.leader ?? state.leader === undefined;
  if (lead) {
    state.leader?.stepDown();
    master.becomeLeader();
  }
  return master;
}
