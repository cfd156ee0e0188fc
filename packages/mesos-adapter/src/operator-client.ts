/**
 * Client of the Mesos v1 operator API (`POST /api/v1` on the master): cluster-wide reads (all agents,
 * every framework's tasks) and the operator SUBSCRIBE event stream. Requests go to the leading master:
 * a 307 from a standby is followed, and a master that is down or has no leader (5xx) makes the client
 * try the next one.
 */
import { BerthError, type Clock, systemClock, toBerthError } from '@berth/core';
import { parseMesosJson } from './json.ts';
import {
  httpError,
  isRetryable,
  leaderBaseFromLocation,
  MesosHttp,
  type MesosHttpOptions,
  type MesosHttpResponse,
  normaliseMasterUrl,
} from './mesos-http.ts';
import type {
  GetAgents,
  GetExecutors,
  GetFrameworks,
  GetHealth,
  GetMetrics,
  GetState,
  GetTasks,
  GetVersion,
  OperatorCall,
  OperatorEvent,
  OperatorResponse,
  OperatorResponseOf,
  OperatorResponseType,
} from './proto/master.ts';
import { parseOperatorEvent, parseOperatorResponse } from './proto/parse.ts';
import { decodeRecordIOJson } from './recordio.ts';

const COMPONENT = 'mesos-adapter';
export const OPERATOR_API_PATH = '/api/v1';

export interface MesosOperatorClientOptions {
  /** Master addresses; requests go to whichever leads. */
  readonly masters: readonly string[];
  readonly httpOptions?: MesosHttpOptions;
  readonly http?: MesosHttp;
  /** Redirects followed per request (default 5). */
  readonly maxRedirects?: number;
  readonly clock?: Clock;
  /** `subscribe()` fails after this many heartbeat intervals without an event (default 5). */
  readonly missedHeartbeats?: number;
}

export class MesosOperatorClient {
  readonly #masters: readonly string[];
  readonly #http: MesosHttp;
  readonly #ownsHttp: boolean;
  readonly #maxRedirects: number;
  readonly #clock: Clock;
  readonly #missedHeartbeats: number;
  #leader: string | undefined;

  constructor(options: MesosOperatorClientOptions) {
    if (options.masters.length === 0) {
      throw new BerthError('SPEC_INVALID', 'masters: at least one Mesos master address is required', {
        component: COMPONENT,
        hint: "For example { masters: ['http://mesos-master-1:5050'] }.",
      });
    }
    this.#masters = [...new Set(options.masters.map((m, i) => normaliseMasterUrl(m, `masters[${i}]`)))];
    this.#ownsHttp = options.http === undefined;
    this.#http = options.http ?? new MesosHttp(options.httpOptions);
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#clock = options.clock ?? systemClock;
    this.#missedHeartbeats = options.missedHeartbeats ?? 5;
  }

  /** The master that answered last (base URL). */
  get leader(): string | undefined {
    return this.#leader;
  }

  getHealth(signal?: AbortSignal): Promise<GetHealth> {
    return this.#get('GET_HEALTH', signal).then((r) => r.get_health);
  }
  getVersion(signal?: AbortSignal): Promise<GetVersion> {
    return this.#get('GET_VERSION', signal).then((r) => r.get_version);
  }
  getState(signal?: AbortSignal): Promise<GetState> {
    return this.#get('GET_STATE', signal).then((r) => r.get_state);
  }
  getAgents(signal?: AbortSignal): Promise<GetAgents> {
    return this.#get('GET_AGENTS', signal).then((r) => r.get_agents);
  }
  getFrameworks(signal?: AbortSignal): Promise<GetFrameworks> {
    return this.#get('GET_FRAMEWORKS', signal).then((r) => r.get_frameworks);
  }
  getTasks(signal?: AbortSignal): Promise<GetTasks> {
    return this.#get('GET_TASKS', signal).then((r) => r.get_tasks);
  }
  getExecutors(signal?: AbortSignal): Promise<GetExecutors> {
    return this.#get('GET_EXECUTORS', signal).then((r) => r.get_executors);
  }
  getMetrics(timeoutNanos?: number, signal?: AbortSignal): Promise<GetMetrics> {
    const call: OperatorCall =
      timeoutNanos === undefined
        ? { type: 'GET_METRICS' }
        : { type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: timeoutNanos } } };
    return this.call(call, signal).then((r) => expectType(r, 'GET_METRICS').get_metrics);
  }

  /** Send any operator call; returns the validated response. */
  async call(call: OperatorCall, signal?: AbortSignal): Promise<OperatorResponse> {
    const res = await this.#post(call, signal, false);
    if (res.status !== 200) throw httpError(res.url, res.status, await res.text(), `${call.type} call`);
    return parseOperatorResponse(parseMesosJson(await res.text()));
  }

  /**
   * The operator event stream: SUBSCRIBED (the full state), then TASK_ADDED/TASK_UPDATED,
   * AGENT_ADDED/AGENT_REMOVED, FRAMEWORK_ADDED/UPDATED/REMOVED and HEARTBEATs. Ends when the master
   * closes the stream or `signal` aborts; a broken connection, or no event for `missedHeartbeats`
   * heartbeat intervals, throws BACKEND_UNAVAILABLE (subscribe again: SUBSCRIBED carries the whole
   * state, so nothing is missed).
   */
  async *subscribe(options: { signal?: AbortSignal } = {}): AsyncGenerator<OperatorEvent> {
    const abort = new AbortController();
    const onAbort = () => abort.abort(options.signal?.reason);
    if (options.signal?.aborted) return;
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let heartbeatSeconds = 15;
    let starved = false;
    let watchdog: ReturnType<Clock['setTimeout']> | undefined;
    const arm = () => {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      watchdog = this.#clock.setTimeout(
        () => {
          starved = true;
          abort.abort();
        },
        heartbeatSeconds * 1000 * this.#missedHeartbeats,
      );
    };
    let res: MesosHttpResponse | undefined;
    try {
      arm();
      res = await this.#post({ type: 'SUBSCRIBE' }, abort.signal, true);
      if (res.status !== 200) throw httpError(res.url, res.status, await res.text(), 'SUBSCRIBE call');
      for await (const raw of decodeRecordIOJson(res.body, { parse: parseMesosJson })) {
        const event = parseOperatorEvent(raw);
        if (event.type === 'SUBSCRIBED')
          heartbeatSeconds = event.subscribed.heartbeat_interval_seconds ?? heartbeatSeconds;
        arm();
        yield event;
      }
    } catch (error) {
      if (starved) {
        throw new BerthError(
          'BACKEND_UNAVAILABLE',
          `no event from the Mesos master at ${res?.url ?? this.#leader ?? this.#masters[0]} for ${this.#missedHeartbeats} heartbeat intervals`,
          {
            component: COMPONENT,
            hint: 'The master or the network stalled; subscribe again.',
            details: { retryable: true },
            cause: error,
          },
        );
      }
      if (options.signal?.aborted) return;
      throw error instanceof BerthError ? error : toBerthError(error, COMPONENT);
    } finally {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      abort.abort();
      await res?.discard();
    }
  }

  async close(): Promise<void> {
    if (this.#ownsHttp) await this.#http.close();
  }

  async #get<T extends OperatorResponseType>(type: T, signal?: AbortSignal): Promise<OperatorResponseOf<T>> {
    return expectType(await this.call({ type } as OperatorCall, signal), type);
  }

  /** POST to the leader: the last one that answered first, then every master; follows 307s. */
  async #post(
    call: OperatorCall,
    signal: AbortSignal | undefined,
    streaming: boolean,
  ): Promise<MesosHttpResponse> {
    const failures: BerthError[] = [];
    const candidates = this.#leader
      ? [this.#leader, ...this.#masters.filter((m) => m !== this.#leader)]
      : this.#masters;
    for (const base of candidates) {
      let url = base + OPERATOR_API_PATH;
      for (let redirects = 0; ; redirects++) {
        let res: MesosHttpResponse;
        try {
          res = await this.#http.request(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify(call),
            streaming,
            ...(signal === undefined ? {} : { signal }),
          });
        } catch (error) {
          const e = toBerthError(error, COMPONENT);
          if (!isRetryable(e)) throw e;
          failures.push(e);
          break;
        }
        const location = res.header('location');
        if (res.status === 307 && location && redirects < this.#maxRedirects) {
          await res.discard();
          url = leaderBaseFromLocation(location, url) + OPERATOR_API_PATH;
          continue;
        }
        if (res.status >= 500) {
          failures.push(httpError(url, res.status, await res.text(), `${call.type} call`));
          break;
        }
        this.#leader = url.slice(0, -OPERATOR_API_PATH.length);
        return res;
      }
    }
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      `no Mesos master answered the ${call.type} call: ${failures.map((f) => f.message.replace(/^\[berth\] \[mesos-adapter\] /, '')).join('; ')}`,
      {
        component: COMPONENT,
        hint: 'Check that a master is running and elected, and that the addresses are right.',
        details: { urls: candidates.map((c) => c + OPERATOR_API_PATH), retryable: true },
        cause: failures.at(-1),
      },
    );
  }
}

function expectType<T extends OperatorResponseType>(res: OperatorResponse, type: T): OperatorResponseOf<T> {
  if (res.type !== type) {
    throw new BerthError('BACKEND_UNAVAILABLE', `the master answered ${type} with a ${res.type} response`, {
      component: COMPONENT,
      hint: 'The address does not point at a Mesos master, or a proxy mixes up responses.',
    });
  }
  return res as OperatorResponseOf<T>;
}
