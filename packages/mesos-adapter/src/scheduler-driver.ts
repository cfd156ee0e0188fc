/**
 * A Mesos framework's connection to the master over the v1 scheduler HTTP API
 * (`POST /api/v1/scheduler`): one long-lived SUBSCRIBE response streaming RecordIO events, and
 * short calls that carry the stream's `Mesos-Stream-Id`.
 *
 * The driver finds the leading master among several (following 307 redirects, asking
 * `/master/redirect`), re-subscribes as the same framework after any disconnect (exponential back-off
 * with full jitter), reconnects when heartbeats stop, and stops for good when the master says the
 * framework is gone (an ERROR event such as "Framework failed over") or on a fatal answer (400, 401,
 * 403). What to do with offers and updates is the caller's business.
 */
import {
  BerthError,
  type Clock,
  Subject,
  sleep,
  systemClock,
  toAsyncIterable,
  toBerthError,
  type Unsubscribe,
} from '@berth/core';
import { type BackoffPolicy, fullJitterDelay } from './backoff.ts';
import { parseMesosJson } from './json.ts';
import {
  httpError,
  isRetryable,
  leaderBaseFromLocation,
  MesosHttp,
  type MesosHttpOptions,
  type MesosHttpResponse,
  normaliseMasterUrl,
  unreachable,
} from './mesos-http.ts';
import {
  type ExecutorInfo,
  type Filters,
  FRAMEWORK_CAPABILITIES,
  type FrameworkCapabilityType,
  type FrameworkInfo,
  type KillPolicy,
  type OfferOperation,
  type TaskGroupInfo,
  type TaskInfo,
} from './proto/common.ts';
import { parseSchedulerEvent } from './proto/parse.ts';
import type { SchedulerCall, SchedulerEvent, Subscribed } from './proto/scheduler.ts';
import { decodeRecordIOJson } from './recordio.ts';
import { taskInfoJson } from './task-info.ts';

const COMPONENT = 'mesos-adapter';
export const SCHEDULER_API_PATH = '/api/v1/scheduler';

/** The capabilities Berth's framework always asks for. */
export const DEFAULT_FRAMEWORK_CAPABILITIES: readonly FrameworkCapabilityType[] = [
  'MULTI_ROLE',
  'PARTITION_AWARE',
  'TASK_KILLING_STATE',
];

export interface MesosLogger {
  debug?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error?(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface MesosSchedulerDriverOptions {
  /** Master addresses (`host:port` or `http(s)://host:port`); any one of them may be the leader. */
  readonly masters: readonly string[];
  /**
   * The framework to register. `capabilities` defaults to MULTI_ROLE, PARTITION_AWARE and
   * TASK_KILLING_STATE; `id` is managed by the driver (use `frameworkId`).
   */
  readonly framework: Omit<FrameworkInfo, 'id'>;
  /** A framework id from a previous run (the state store's): re-subscribe as that framework. */
  readonly frameworkId?: string | undefined;
  /** Roles to subscribe suppressed (no offers until REVIVE). */
  readonly suppressedRoles?: readonly string[];
  /** HTTP options (credentials, TLS); or pass a ready `http` client. */
  readonly httpOptions?: MesosHttpOptions;
  readonly http?: MesosHttp;
  readonly clock?: Clock;
  /** Random source in [0, 1) for back-off jitter (default Math.random). */
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  /** Reconnect after this many heartbeat intervals without any event (default 5). */
  readonly missedHeartbeats?: number;
  /** Heartbeat interval assumed until SUBSCRIBED says otherwise (default 15 s, Mesos' default). */
  readonly defaultHeartbeatSeconds?: number;
  /** Redirects followed per connection attempt (default 5). */
  readonly maxRedirects?: number;
  /** Retries of a failed non-SUBSCRIBE call on a connection error or 5xx (default 2). */
  readonly callRetries?: number;
  readonly logger?: MesosLogger;
}

export type DriverPhase = 'idle' | 'connecting' | 'subscribed' | 'reconnecting' | 'closed';

export interface DriverState {
  readonly phase: DriverPhase;
  /** Base URL of the master the driver is (or was last) subscribed to. */
  readonly leader?: string | undefined;
  readonly streamId?: string | undefined;
  readonly frameworkId?: string | undefined;
  /** While `reconnecting`: the wait before the next attempt. */
  readonly retryInMs?: number | undefined;
  /** Why the last connection ended or the last attempt failed; or why the driver closed. */
  readonly error?: BerthError | undefined;
}

interface Connection {
  readonly leader: string;
  readonly streamId: string;
  readonly response: MesosHttpResponse;
  /** Detach the connection from the driver's stop signal. */
  readonly release: () => void;
}

interface StreamEnd {
  readonly how: 'error-event' | 'ended' | 'watchdog' | 'closed';
  /** Whether SUBSCRIBED arrived on this connection (a real success: the back-off starts over). */
  readonly subscribed: boolean;
}

export class MesosSchedulerDriver {
  readonly #masters: readonly string[];
  readonly #framework: Omit<FrameworkInfo, 'id'>;
  readonly #suppressedRoles: readonly string[] | undefined;
  readonly #http: MesosHttp;
  readonly #ownsHttp: boolean;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #missedHeartbeats: number;
  readonly #defaultHeartbeatSeconds: number;
  readonly #maxRedirects: number;
  readonly #callRetries: number;
  readonly #log: MesosLogger;

  readonly #events = new Subject<SchedulerEvent>();
  readonly #states = new Subject<DriverState>();
  #state: DriverState;
  #frameworkId: string | undefined;
  #stop = new AbortController();
  /** One controller per call in flight (not one listener each on #stop: 1,000 ACCEPTs would make adding them quadratic). */
  readonly #inflightCalls = new Set<AbortController>();
  #headersOfStream: { streamId: string; headers: Readonly<Record<string, string>> } | undefined;
  #connectionAbort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #firstSubscribed: Deferred<Subscribed> | undefined;
  #done = deferred<void>();

  constructor(options: MesosSchedulerDriverOptions) {
    if (options.masters.length === 0) {
      throw new BerthError('SPEC_INVALID', 'masters: at least one Mesos master address is required', {
        component: COMPONENT,
        hint: "For example { masters: ['http://mesos-master-1:5050', 'http://mesos-master-2:5050'] }.",
      });
    }
    this.#masters = [...new Set(options.masters.map((m, i) => normaliseMasterUrl(m, `masters[${i}]`)))];
    this.#framework = validateFramework(options.framework);
    this.#suppressedRoles = options.suppressedRoles;
    this.#ownsHttp = options.http === undefined;
    this.#http = options.http ?? new MesosHttp(options.httpOptions);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? {};
    fullJitterDelay(0, this.#backoff, () => 0); // validates the policy up front
    this.#missedHeartbeats = options.missedHeartbeats ?? 5;
    this.#defaultHeartbeatSeconds = options.defaultHeartbeatSeconds ?? 15;
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#callRetries = options.callRetries ?? 2;
    this.#log = options.logger ?? {};
    this.#frameworkId = options.frameworkId;
    this.#state = { phase: 'idle', frameworkId: this.#frameworkId };
    // A failed start() is reported through start()'s promise; never leave `done` unobserved.
    this.#done.promise.catch(() => {});
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  /**
   * Connect and keep connected. Resolves with the first SUBSCRIBED; rejects with the BerthError that
   * made the driver give up before that (400/401/403 on SUBSCRIBE, an ERROR event, `close()`).
   */
  start(): Promise<Subscribed> {
    if (this.#firstSubscribed) return this.#firstSubscribed.promise;
    this.#firstSubscribed = deferred<Subscribed>();
    this.#loop = this.#run();
    return this.#firstSubscribed.promise;
  }

  /** Settles when the driver has stopped for good: resolves after close()/teardown()/ERROR, rejects on a fatal error. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  get state(): DriverState {
    return this.#state;
  }

  get frameworkId(): string | undefined {
    return this.#frameworkId;
  }

  /** Every event, in order, delivered synchronously as it is read from the stream. */
  subscribe(listener: (event: SchedulerEvent) => void): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /** Connection state changes (connecting, subscribed, reconnecting with the wait, closed). */
  onStateChange(listener: (state: DriverState) => void): Unsubscribe {
    return this.#states.subscribe(listener);
  }

  /** `for await (const event of driver.events())`: ends when the driver closes. */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<SchedulerEvent> {
    return toAsyncIterable(this.#events, { signal: options.signal });
  }

  /**
   * Disconnect without tearing the framework down: the master keeps its tasks for
   * `failover_timeout`, and a new driver with the same `frameworkId` takes over.
   */
  async close(): Promise<void> {
    this.#finish(undefined);
    await this.#loop;
    if (this.#ownsHttp) await this.#http.close();
  }

  // --- calls -------------------------------------------------------------------------------------

  /**
   * Make several calls in `fn` (synchronously) and write them to the master together: one OFFERS
   * round's ACCEPTs and DECLINEs leave in a few large writes. Returns what `fn` returns.
   */
  batch<T>(fn: () => T): T {
    return this.#http.corked(fn);
  }

  /** ACCEPT offers with operations (all offers must be from one agent). */
  accept(
    offerIds: readonly string[],
    operations: readonly OfferOperation[],
    filters?: Filters,
  ): Promise<void> {
    const ids = offerIds.map(value);
    const ops = [...operations];
    return this.#send(
      { type: 'ACCEPT', accept: { offer_ids: ids, operations: ops, ...(filters ? { filters } : {}) } },
      // JSON.stringify of the call, with each LAUNCH's TaskInfos in their prebuilt text.
      (frameworkId) =>
        `{"framework_id":{"value":${JSON.stringify(frameworkId)}},"type":"ACCEPT","accept":{"offer_ids":${JSON.stringify(ids)},"operations":[${ops.map(operationJson).join(',')}]${filters ? `,"filters":${JSON.stringify(filters)}` : ''}}}`,
    );
  }

  /** ACCEPT with one LAUNCH of `tasks`. */
  launch(offerIds: readonly string[], tasks: readonly TaskInfo[], filters?: Filters): Promise<void> {
    return this.accept(offerIds, [{ type: 'LAUNCH', launch: { task_infos: [...tasks] } }], filters);
  }

  /** ACCEPT with one LAUNCH_GROUP: the tasks start together under one executor (a gang). */
  launchGroup(
    offerIds: readonly string[],
    executor: ExecutorInfo,
    taskGroup: TaskGroupInfo,
    filters?: Filters,
  ): Promise<void> {
    return this.accept(
      offerIds,
      [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: taskGroup } }],
      filters,
    );
  }

  /** DECLINE offers; `refuseSeconds` keeps the agent's resources away from this framework that long. */
  decline(offerIds: readonly string[], refuseSeconds?: number): Promise<void> {
    return this.call({
      type: 'DECLINE',
      decline: {
        offer_ids: offerIds.map(value),
        ...(refuseSeconds === undefined ? {} : { filters: { refuse_seconds: refuseSeconds } }),
      },
    });
  }

  /** REVIVE offers (all roles when none given), clearing earlier filters. */
  revive(roles?: readonly string[]): Promise<void> {
    return this.call(roles ? { type: 'REVIVE', revive: { roles: [...roles] } } : { type: 'REVIVE' });
  }

  /** SUPPRESS offers (all roles when none given) until the next REVIVE. */
  suppress(roles?: readonly string[]): Promise<void> {
    return this.call(roles ? { type: 'SUPPRESS', suppress: { roles: [...roles] } } : { type: 'SUPPRESS' });
  }

  /** KILL a task; `gracePeriodNanos` overrides the task's kill policy. */
  kill(taskId: string, options: { agentId?: string; killPolicy?: KillPolicy } = {}): Promise<void> {
    return this.call({
      type: 'KILL',
      kill: {
        task_id: value(taskId),
        ...(options.agentId === undefined ? {} : { agent_id: value(options.agentId) }),
        ...(options.killPolicy === undefined ? {} : { kill_policy: options.killPolicy }),
      },
    });
  }

  /**
   * ACKNOWLEDGE a status update, echoing its base64 `uuid` unchanged. Updates without a uuid
   * (generated by the master: reconciliation, TASK_ERROR) must not be acknowledged.
   */
  acknowledge(status: {
    readonly agentId: string;
    readonly taskId: string;
    readonly uuid: string;
  }): Promise<void> {
    if (status.uuid === '') {
      return Promise.reject(
        new BerthError('SPEC_INVALID', `acknowledge: task ${status.taskId}'s update has no uuid`, {
          component: COMPONENT,
          hint: 'Only updates that carry a uuid are acknowledged; skip master-generated ones.',
        }),
      );
    }
    return this.call({
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: value(status.agentId), task_id: value(status.taskId), uuid: status.uuid },
    });
  }

  /**
   * RECONCILE: explicit for the given tasks (the master answers each with its latest state, or
   * TASK_UNKNOWN/TASK_LOST), implicit (every task the master knows) when the list is empty.
   */
  reconcile(
    tasks: ReadonlyArray<{ readonly taskId: string; readonly agentId?: string | undefined }> = [],
  ): Promise<void> {
    return this.call({
      type: 'RECONCILE',
      reconcile: {
        tasks: tasks.map((t) => ({
          task_id: value(t.taskId),
          ...(t.agentId === undefined ? {} : { agent_id: value(t.agentId) }),
        })),
      },
    });
  }

  /** MESSAGE to an executor (`data` is sent base64-encoded). */
  message(agentId: string, executorId: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    return this.call({
      type: 'MESSAGE',
      message: { agent_id: value(agentId), executor_id: value(executorId), data: bytes.toString('base64') },
    });
  }

  /** SHUTDOWN an executor. */
  shutdown(executorId: string, agentId: string): Promise<void> {
    return this.call({
      type: 'SHUTDOWN',
      shutdown: { executor_id: value(executorId), agent_id: value(agentId) },
    });
  }

  /** TEARDOWN: the master kills every task of the framework and forgets it. The driver closes. */
  async teardown(): Promise<void> {
    await this.call({ type: 'TEARDOWN' });
    this.#finish(undefined);
    await this.#loop;
    if (this.#ownsHttp) await this.#http.close();
  }

  /**
   * Send any call on the current subscription (framework id and stream id are filled in).
   * Connection errors and 5xx answers are retried while the subscription lasts — except ACCEPT:
   * its offers are spent once the master has it, so it is sent exactly once (never again by this
   * driver, nor by undici when the connection drops with it in flight); when it fails, whether it
   * reached the master is for the caller to find out (RECONCILE its tasks).
   */
  call(body: DistributiveOmit<SchedulerCall, 'framework_id'>): Promise<void> {
    return this.#send(body, (frameworkId) =>
      JSON.stringify({ framework_id: { value: frameworkId }, ...body }),
    );
  }

  /** The headers of calls on stream `streamId`: one frozen object per stream, shared by its calls. */
  #callHeaders(streamId: string): Readonly<Record<string, string>> {
    if (this.#headersOfStream?.streamId !== streamId) {
      this.#headersOfStream = {
        streamId,
        headers: Object.freeze({
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Mesos-Stream-Id': streamId,
        }),
      };
    }
    return this.#headersOfStream.headers;
  }

  /** {@link call} with `body` serialised by `serialise` (given the framework id). */
  async #send(
    body: DistributiveOmit<SchedulerCall, 'framework_id'>,
    serialise: (frameworkId: string) => string,
  ): Promise<void> {
    const once = body.type === 'ACCEPT';
    // Serialised once per framework id, not once per attempt (an ACCEPT body can be large).
    let json: { frameworkId: string; text: string } | undefined;
    for (let attempt = 0; ; attempt++) {
      const { leader, streamId } = this.#state;
      const frameworkId = this.#frameworkId;
      if (this.#state.phase !== 'subscribed' || !leader || !streamId || !frameworkId) {
        throw new BerthError(
          'BACKEND_UNAVAILABLE',
          `cannot send ${body.type}: not subscribed to a Mesos master`,
          {
            component: COMPONENT,
            hint:
              this.#state.phase === 'closed'
                ? 'The driver is closed; create a new one.'
                : 'Wait for start() to resolve (or the next SUBSCRIBED event) and send the call again.',
            details: { phase: this.#state.phase },
          },
        );
      }
      const url = leader + SCHEDULER_API_PATH;
      if (json?.frameworkId !== frameworkId) {
        json = { frameworkId, text: serialise(frameworkId) };
      }
      const abort = new AbortController();
      this.#inflightCalls.add(abort);
      try {
        const res = await this.#http.request(url, {
          method: 'POST',
          headers: this.#callHeaders(streamId),
          body: json.text,
          signal: abort.signal,
          call: true,
          ...(once ? { once } : {}),
        });
        if (res.status === 202 || res.status === 200) {
          await res.discard();
          return;
        }
        const text = await res.text();
        if (res.status === 307) {
          // The leader changed under us: the stream is stale. Reconnect; the caller retries later.
          this.#connectionAbort?.abort();
          throw httpError(url, 503, 'the master is no longer the leader', `${body.type} call`);
        }
        throw httpError(url, res.status, text, `${body.type} call`);
      } catch (error) {
        const e = toBerthError(error, COMPONENT);
        if (once || !isRetryable(e) || attempt >= this.#callRetries || this.#state.streamId !== streamId)
          throw e;
        this.#log.warn?.(`retrying ${body.type}`, { url, error: e.message });
        await sleep(this.#clock, fullJitterDelay(attempt, this.#backoff, this.#random), this.#stop.signal);
      } finally {
        this.#inflightCalls.delete(abort);
      }
    }
  }

  // --- the connection loop -----------------------------------------------------------------------

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stop.signal.aborted) {
      let error: BerthError | undefined;
      try {
        this.#setState({ phase: 'connecting', retryInMs: undefined });
        const connection = await this.#connect();
        const end = await this.#consume(connection);
        if (end.subscribed) attempt = 0;
        if (end.how === 'error-event' || end.how === 'closed') return;
        error = new BerthError(
          'BACKEND_UNAVAILABLE',
          end.how === 'watchdog'
            ? `no heartbeat from the Mesos master at ${connection.leader} for ${this.#missedHeartbeats} intervals`
            : `the Mesos master at ${connection.leader} closed the event stream`,
          { component: COMPONENT, details: { url: connection.leader + SCHEDULER_API_PATH, retryable: true } },
        );
      } catch (caught) {
        if (this.#stop.signal.aborted) return;
        error = toBerthError(caught, COMPONENT);
        if (!isRetryable(error)) {
          this.#log.error?.('giving up on the Mesos master', { error: error.message, code: error.code });
          this.#finish(error);
          return;
        }
      }
      const delay = fullJitterDelay(attempt++, this.#backoff, this.#random);
      this.#log.warn?.('reconnecting to the Mesos master', { error: error.message, retryInMs: delay });
      this.#setState({ phase: 'reconnecting', streamId: undefined, retryInMs: delay, error });
      try {
        await sleep(this.#clock, delay, this.#stop.signal);
      } catch {
        return;
      }
    }
  }

  /** Find the leader and open a SUBSCRIBE stream there. */
  async #connect(): Promise<Connection> {
    const failures: BerthError[] = [];
    const tried = new Set<string>();
    const known = this.#state.leader;
    const candidates =
      known && !this.#masters.includes(known) ? [known, ...this.#masters] : [...this.#masters];
    if (known) candidates.sort((a, b) => Number(b === known) - Number(a === known));
    for (const base of candidates) {
      const connection = await this.#trySubscribe(base, tried, failures);
      if (connection) return connection;
    }
    // Nobody accepted: ask every master who leads (a master that lost its leader answers 503).
    for (const base of this.#masters) {
      const leader = await this.#askLeader(base);
      if (leader === undefined || tried.has(leader + SCHEDULER_API_PATH)) continue;
      const connection = await this.#trySubscribe(leader, tried, failures);
      if (connection) return connection;
    }
    const urls = [...tried];
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      `no Mesos master accepted SUBSCRIBE (tried ${urls.join(', ')}): ${failures.map((f) => f.message.replace(/^\[berth\] \[mesos-adapter\] /, '')).join('; ')}`,
      {
        component: COMPONENT,
        hint: 'Check that a master is running and elected; Berth keeps retrying with back-off.',
        details: { urls, retryable: true },
        cause: failures.at(-1),
      },
    );
  }

  /** SUBSCRIBE at `base`, following redirects. Returns undefined after a retryable failure. */
  async #trySubscribe(
    base: string,
    tried: Set<string>,
    failures: BerthError[],
  ): Promise<Connection | undefined> {
    let url = base + SCHEDULER_API_PATH;
    for (let redirects = 0; ; redirects++) {
      if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
      tried.add(url);
      const abort = new AbortController();
      const onStop = () => abort.abort(this.#stop.signal.reason);
      this.#stop.signal.addEventListener('abort', onStop, { once: true });
      this.#connectionAbort = abort;
      let res: MesosHttpResponse;
      try {
        this.#log.debug?.('subscribing', { url });
        res = await this.#http.request(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(this.#subscribeCall()),
          signal: abort.signal,
          streaming: true,
        });
      } catch (error) {
        this.#stop.signal.removeEventListener('abort', onStop);
        const e = toBerthError(error, COMPONENT);
        if (!isRetryable(e)) throw e;
        failures.push(e);
        return undefined;
      }
      if (res.status === 200) {
        const streamId = res.header('mesos-stream-id');
        if (!streamId) {
          await res.discard();
          throw new BerthError(
            'BACKEND_UNAVAILABLE',
            `${url} answered SUBSCRIBE without a Mesos-Stream-Id header`,
            {
              component: COMPONENT,
              hint: 'The address does not point at a Mesos master (or a proxy strips headers).',
              details: { url, retryable: true },
            },
          );
        }
        const leader = url.slice(0, -SCHEDULER_API_PATH.length);
        return {
          leader,
          streamId,
          response: res,
          release: () => this.#stop.signal.removeEventListener('abort', onStop),
        };
      }
      this.#stop.signal.removeEventListener('abort', onStop);
      if (res.status === 307 || res.status === 302 || res.status === 301) {
        const location = res.header('location');
        await res.discard();
        if (!location || redirects >= this.#maxRedirects) {
          failures.push(
            httpError(
              url,
              503,
              `redirect without a usable Location (${redirects} followed)`,
              'SUBSCRIBE call',
            ),
          );
          return undefined;
        }
        const next = leaderBaseFromLocation(location, url) + SCHEDULER_API_PATH;
        this.#log.info?.('following redirect to the leading master', { from: url, to: next });
        url = next;
        continue;
      }
      const e = httpError(url, res.status, await res.text(), 'SUBSCRIBE call');
      if (!isRetryable(e)) throw e;
      failures.push(e);
      return undefined;
    }
  }

  /** GET /master/redirect: the leader's base URL, if this master knows one. */
  async #askLeader(base: string): Promise<string | undefined> {
    const url = `${base}/master/redirect`;
    try {
      const res = await this.#http.request(url, { method: 'GET', signal: this.#stop.signal });
      const location = res.header('location');
      await res.discard();
      if (res.status !== 307 || !location) return undefined;
      return leaderBaseFromLocation(location, url);
    } catch {
      return undefined;
    }
  }

  #subscribeCall(): SchedulerCall {
    const id = this.#frameworkId;
    // A re-SUBSCRIBE must carry the id both at the top level and in framework_info (recorded: 40, 41).
    return {
      ...(id === undefined ? {} : { framework_id: { value: id } }),
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: { ...this.#framework, ...(id === undefined ? {} : { id: { value: id } }) },
        ...(this.#suppressedRoles ? { suppressed_roles: [...this.#suppressedRoles] } : {}),
      },
    };
  }

  /** Read events until the stream ends, the watchdog fires, an ERROR arrives or the driver stops. */
  async #consume(connection: Connection): Promise<StreamEnd> {
    const abort = this.#connectionAbort;
    let watchdog: ReturnType<Clock['setTimeout']> | undefined;
    let heartbeatSeconds = this.#defaultHeartbeatSeconds;
    let starved = false;
    let subscribed = false;
    const arm = () => {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      watchdog = this.#clock.setTimeout(
        () => {
          starved = true;
          this.#log.warn?.('heartbeats stopped; reconnecting', { leader: connection.leader });
          abort?.abort();
        },
        heartbeatSeconds * 1000 * this.#missedHeartbeats,
      );
    };
    arm();
    try {
      for await (const raw of decodeRecordIOJson(connection.response.body, { parse: parseMesosJson })) {
        arm();
        let event: SchedulerEvent;
        try {
          event = parseSchedulerEvent(raw);
        } catch (error) {
          // A newer master's event type, or a shape Berth cannot read: report and keep the stream.
          this.#log.warn?.('skipping an event Berth cannot read', {
            type: (raw as { type?: unknown } | null)?.type,
            error: toBerthError(error, COMPONENT).message,
          });
          continue;
        }
        if (event.type === 'SUBSCRIBED') {
          subscribed = true;
          this.#frameworkId = event.subscribed.framework_id.value;
          heartbeatSeconds = event.subscribed.heartbeat_interval_seconds ?? heartbeatSeconds;
          arm();
          this.#setState({
            phase: 'subscribed',
            leader: connection.leader,
            streamId: connection.streamId,
            frameworkId: this.#frameworkId,
            retryInMs: undefined,
            error: undefined,
          });
          this.#log.info?.('subscribed', { leader: connection.leader, frameworkId: this.#frameworkId });
          this.#events.emit(event);
          this.#firstSubscribed?.resolve(event.subscribed);
          continue;
        }
        this.#events.emit(event);
        if (event.type === 'ERROR') {
          // The master dropped this framework (failed over to another scheduler, removed…): stop.
          const error = new BerthError(
            'CONFLICT',
            `the Mesos master ended the subscription: "${event.error.message}"`,
            {
              component: COMPONENT,
              hint: 'Another scheduler took over this framework id, or the framework was removed; do not reconnect.',
              details: { url: connection.leader + SCHEDULER_API_PATH, masterMessage: event.error.message },
            },
          );
          this.#finish(error, { expected: true });
          return { how: 'error-event', subscribed };
        }
      }
      return { how: this.#stop.signal.aborted ? 'closed' : 'ended', subscribed };
    } catch (error) {
      if (this.#stop.signal.aborted) return { how: 'closed', subscribed };
      if (starved) return { how: 'watchdog', subscribed };
      throw error instanceof BerthError ? error : unreachable(connection.leader + SCHEDULER_API_PATH, error);
    } finally {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      abort?.abort();
      connection.release();
      if (this.#state.phase === 'subscribed') this.#setState({ phase: 'reconnecting', streamId: undefined });
    }
  }

  #setState(patch: Partial<DriverState>): void {
    if (this.#state.phase === 'closed') return;
    this.#state = { ...this.#state, ...patch };
    this.#states.emit(this.#state);
  }

  /**
   * Stop for good. `error` undefined = asked to (close/teardown). An ERROR event is `expected`:
   * `done` resolves, while start() (if still waiting) rejects with it.
   */
  #finish(error: BerthError | undefined, opts: { expected?: boolean } = {}): void {
    if (this.#state.phase === 'closed') return;
    this.#stop.abort(
      error ??
        new BerthError('BACKEND_UNAVAILABLE', 'the scheduler driver was closed', { component: COMPONENT }),
    );
    for (const call of this.#inflightCalls) call.abort(this.#stop.signal.reason);
    this.#inflightCalls.clear();
    this.#setState({ phase: 'closed', streamId: undefined, retryInMs: undefined, error });
    this.#firstSubscribed?.reject(
      error ??
        new BerthError('BACKEND_UNAVAILABLE', 'the scheduler driver was closed before subscribing', {
          component: COMPONENT,
        }),
    );
    this.#firstSubscribed?.promise.catch(() => {});
    if (error === undefined || opts.expected) this.#done.resolve();
    else this.#done.reject(error);
    this.#events.complete();
    this.#states.complete();
  }
}

/** Omit over each member of a union (plain Omit collapses a union to its common keys). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function value(v: string): { value: string } {
  return { value: v };
}

function validateFramework(framework: Omit<FrameworkInfo, 'id'>): Omit<FrameworkInfo, 'id'> {
  const problems: { path: string; message: string }[] = [];
  if (!framework.name)
    problems.push({ path: 'framework.name', message: 'required: the name shown in the Mesos UI' });
  if (framework.user === undefined || framework.user === '') {
    problems.push({
      path: 'framework.user',
      message: "required: the Unix user tasks run as by default (e.g. 'root')",
    });
  }
  if ('id' in framework) {
    problems.push({ path: 'framework.id', message: 'set frameworkId in the driver options instead' });
  }
  if (framework.roles !== undefined && framework.roles.length === 0) {
    problems.push({ path: 'framework.roles', message: "give at least one role (e.g. ['*'])" });
  }
  for (const [i, c] of (framework.capabilities ?? []).entries()) {
    if (!FRAMEWORK_CAPABILITIES.includes(c.type as FrameworkCapabilityType)) {
      problems.push({
        path: `framework.capabilities[${i}].type`,
        message: `unknown capability '${String(c.type)}'`,
      });
    }
  }
  if (framework.failover_timeout !== undefined && !(framework.failover_timeout >= 0)) {
    problems.push({ path: 'framework.failover_timeout', message: 'seconds, >= 0' });
  }
  if (problems.length > 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `invalid FrameworkInfo: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        component: COMPONENT,
        issues: problems,
        hint: 'Fix the listed FrameworkInfo fields (names as in mesos.proto).',
      },
    );
  }
  return {
    ...framework,
    capabilities: framework.capabilities ?? DEFAULT_FRAMEWORK_CAPABILITIES.map((type) => ({ type })),
  };
}

/** JSON.stringify of an offer operation; a LAUNCH's TaskInfos use their prebuilt text. */
function operationJson(op: OfferOperation): string {
  const launch = op.launch;
  if (op.type !== 'LAUNCH' || launch === undefined || Object.keys(op).length !== 2) return JSON.stringify(op);
  if (Object.keys(launch).length !== 1 || !Array.isArray(launch.task_infos)) return JSON.stringify(op);
  return `{"type":"LAUNCH","launch":{"task_infos":[${launch.task_infos.map(taskInfoJson).join(',')}]}}`;
}
