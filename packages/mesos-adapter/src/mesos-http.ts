/**
 * The HTTP layer every Mesos client here shares: undici keep-alive connections (TLS with a custom
 * CA or client certificate), HTTP basic or bearer authentication, master URL normalisation,
 * protocol-relative redirect resolution, and the mapping of Mesos HTTP failures to `BerthError`s.
 *
 * Short scheduler calls (`call: true`: ACCEPT, DECLINE, REVIVE, SUPPRESS, ACKNOWLEDGE, …) go over
 * one keep-alive connection per master with HTTP/1.1 pipelining, which libprocess serves in order
 * (responses in request order). So calls reach the master in the order they were made (a REVIVE
 * can never overtake the SUPPRESS made after it), and an OFFERS round's 1,000 ACCEPTs are written
 * at once instead of each opening a connection (which also overflows a master's listen backlog).
 * Streams and other requests never share that socket, so no call queues behind the event stream.
 *
 * Credentials only ever travel in the `Authorization` header: they are never part of a URL, a log
 * line, an error message or error details.
 */

import type { Socket } from 'node:net';
import { BerthError, type BerthErrorCode } from '@berth/core';
import { Agent, buildConnector, Dispatcher, request } from 'undici';

export type MesosCredentials =
  | { readonly type: 'basic'; readonly principal: string; readonly secret: string }
  | { readonly type: 'bearer'; readonly token: string };

export interface MesosTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store (a private cluster CA). */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** PEM client certificate and key, for masters that require mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Expected certificate name when it differs from the URL's host. */
  readonly servername?: string;
}

export interface MesosHttpOptions {
  readonly credentials?: MesosCredentials;
  readonly tls?: MesosTlsOptions;
  /** An undici dispatcher to use instead of the one built from `tls` (proxies, tests). */
  readonly dispatcher?: Dispatcher;
  /** How long to wait for response headers (default 30 s). */
  readonly headersTimeoutMs?: number;
  /** How long a plain (non-streaming) response body may stall (default 60 s). */
  readonly bodyTimeoutMs?: number;
  readonly userAgent?: string;
  /**
   * How many scheduler calls may be in flight on the call connection (HTTP/1.1 pipelining); more
   * wait for answers. Default 1024. Ignored with a custom `dispatcher`.
   */
  readonly callPipelining?: number;
}

export interface MesosHttpRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** A long-lived stream: no body timeout (a heartbeat watchdog guards it instead). */
  readonly streaming?: boolean;
  /**
   * A short call answered at once (a scheduler call): sent over the pipelined call connections.
   * Never for streams or slow requests.
   */
  readonly call?: boolean;
  /**
   * Write the request at most once (ACCEPT: its offers are spent by the first copy). When the
   * connection drops, undici writes the pipelined requests it had in flight again on the next
   * connection; such a request fails instead (`details.notResent`), so the caller can find out
   * whether the master got it (reconciliation) rather than have it processed twice.
   */
  readonly once?: boolean;
}

export interface MesosHttpResponse {
  readonly url: string;
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Release the connection without reading the body. */
  discard(): Promise<void>;
}

const COMPONENT = 'mesos-adapter';

/** The options of undici's `request`. */
type RequestOptions = {
  -readonly [K in keyof NonNullable<Parameters<typeof request>[1]>]: NonNullable<
    Parameters<typeof request>[1]
  >[K];
};

export class MesosHttp {
  readonly #dispatcher: Dispatcher;
  /** Pipelined connections for short calls; the main dispatcher when one was given. */
  readonly #calls: Dispatcher;
  /** `#calls`, writing each request at most once (see {@link MesosHttpRequest.once}). */
  readonly #callsOnce: Dispatcher;
  /** The open sockets of `#calls`, so that a burst of calls can be written in one go ({@link corked}). */
  readonly #callSockets = new Set<Socket>();
  readonly #ownsDispatcher: boolean;
  readonly #authorization: string | undefined;
  readonly #headersTimeout: number;
  readonly #bodyTimeout: number;
  readonly #userAgent: string;
  #closed = false;
  /** Merged headers by the frozen headers object they were made from (see {@link #headers}). */
  readonly #frozenHeaders = new WeakMap<object, Record<string, string>>();

  constructor(options: MesosHttpOptions = {}) {
    if (options.dispatcher) {
      this.#dispatcher = options.dispatcher;
      this.#calls = options.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      const tls = options.tls ?? {};
      const connect = {
        ...(tls.ca === undefined ? {} : { ca: tls.ca as string | Buffer | Array<string | Buffer> }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
      };
      this.#dispatcher = new Agent({ connect });
      // One connection per master keeps the calls in order; pipelining keeps them from waiting.
      const connectCall = buildConnector(connect);
      this.#calls = new Agent({
        connect: (opts, callback) =>
          connectCall(opts, (error, socket) => {
            if (socket !== null) {
              this.#callSockets.add(socket);
              socket.once('close', () => this.#callSockets.delete(socket));
            }
            if (error !== null) callback(error, null);
            else callback(null, socket!);
          }),
        connections: 1,
        pipelining: positive(options.callPipelining, 1024, 'callPipelining'),
      });
      this.#ownsDispatcher = true;
    }
    this.#callsOnce = new SendOnce(this.#calls);
    this.#authorization = authorizationHeader(options.credentials);
    this.#headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.#bodyTimeout = options.bodyTimeoutMs ?? 60_000;
    this.#userAgent = options.userAgent ?? 'berth-mesos-adapter';
  }

  /**
   * The headers of a request: `User-Agent`, the caller's, `Authorization`. For a frozen `headers`
   * object (the driver's per-stream call headers) they are made once, not once per call.
   */
  #headers(own: Readonly<Record<string, string>> | undefined): Record<string, string> {
    if (own !== undefined && Object.isFrozen(own)) {
      const known = this.#frozenHeaders.get(own);
      if (known !== undefined) return known;
    }
    const headers: Record<string, string> = { 'User-Agent': this.#userAgent, ...own };
    if (this.#authorization !== undefined) headers.Authorization = this.#authorization;
    if (own !== undefined && Object.isFrozen(own)) this.#frozenHeaders.set(own, headers);
    return headers;
  }

  /** Send one request. Never follows redirects (callers decide what a 307 means). */
  async request(url: string, req: MesosHttpRequest): Promise<MesosHttpResponse> {
    const headers = this.#headers(req.headers);
    let res: Dispatcher.ResponseData<unknown>;
    // Pipelining needs undici to treat the call as one that may share the socket (`idempotent`)
    // and not to wait for its answer before writing the next (`blocking: false`).
    const pipelined = req.call === true && this.#ownsDispatcher;
    // Built field by field: one object per request (a burst of ACCEPTs is a thousand requests).
    const options: RequestOptions = {
      dispatcher: req.once === true ? this.#callsOnce : pipelined ? this.#calls : this.#dispatcher,
      method: req.method,
      headers,
      headersTimeout: this.#headersTimeout,
      bodyTimeout: req.streaming ? 0 : this.#bodyTimeout,
    };
    if (pipelined) {
      options.idempotent = true;
      options.blocking = false;
    }
    if (req.body !== undefined) options.body = req.body;
    if (req.signal !== undefined) options.signal = req.signal;
    try {
      res = await request(url, options);
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason ?? error;
      throw unreachable(url, error);
    }
    const body = res.body;
    return {
      url,
      status: res.statusCode,
      header(name) {
        const v = res.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      },
      body: body as AsyncIterable<Uint8Array>,
      text: async () => {
        try {
          return await body.text();
        } catch (error) {
          throw unreachable(url, error);
        }
      },
      discard: async () => {
        try {
          await body.dump();
        } catch {
          // The connection is being dropped anyway.
        }
      },
    };
  }

  /**
   * Run `fn`, which sends calls (`call: true`), holding their bytes until it returns: the burst
   * leaves in a few large writes instead of one system call per request (1,000 ACCEPTs of one
   * OFFERS round). Calls made before a connection is up are unaffected.
   */
  corked<T>(fn: () => T): T {
    const sockets = [...this.#callSockets];
    for (const s of sockets) s.cork();
    try {
      return fn();
    } finally {
      for (const s of sockets) s.uncork();
    }
  }

  /** Close the connections this client opened (idempotent; a dispatcher passed in is left open). */
  async close(): Promise<void> {
    if (!this.#ownsDispatcher || this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#dispatcher.close(), this.#calls.close()]);
  }
}

/** Why a request was not written again after its connection dropped (see `once`). */
class NotResentError extends Error {
  readonly code = 'BERTH_NOT_RESENT';
  constructor() {
    super('the connection dropped with the request in flight; it is not sent again');
    this.name = 'NotResentError';
  }
}

/**
 * A dispatcher over `inner` (a pipelining Agent) that writes each request at most once. When a
 * connection drops, undici fails the request at the head of its pipeline and writes the others it
 * had in flight again on the next connection. Here, those others fail as well, at the moment of
 * the drop (`inner`'s `disconnect` event, which undici emits before it writes anything again), so
 * they are never written twice, and the calls of other callers on the connection are not disturbed.
 * As a second guard, a request that undici starts to write a second time (`onConnect` called
 * again) is aborted before a byte of it leaves.
 */
class SendOnce extends Dispatcher {
  readonly #inner: Dispatcher;
  /** Requests written and not yet finished, by origin: what fails when that origin's connection drops. */
  readonly #inFlight = new Map<string, Set<(err: Error) => void>>();

  constructor(inner: Dispatcher) {
    super();
    this.#inner = inner;
    inner.on('disconnect', (origin) => {
      const key = typeof origin === 'string' ? origin : origin.origin;
      const aborts = this.#inFlight.get(key);
      if (aborts === undefined) return;
      this.#inFlight.delete(key);
      for (const abort of aborts) abort(new NotResentError());
    });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = typeof options.origin === 'string' ? options.origin : String(options.origin?.origin);
    const set = this.#inFlight.get(origin) ?? new Set<(err: Error) => void>();
    this.#inFlight.set(origin, set);
    let written = false;
    let abortThis: ((err: Error) => void) | undefined;
    const done = () => {
      if (abortThis !== undefined) set.delete(abortThis);
    };
    // Legacy handlers (undici's `request` uses one): onConnect is called right before each write.
    const h = handler as LegacyHandler;
    const { onConnect, onComplete, onError } = h;
    if (onConnect === undefined || onComplete === undefined || onError === undefined) {
      throw new TypeError('SendOnce needs a handler with onConnect, onComplete and onError');
    }
    h.onConnect = function (this: LegacyHandler, abort, ...rest) {
      if (written) return abort(new NotResentError());
      written = true;
      abortThis = abort;
      set.add(abort);
      return onConnect.call(this, abort, ...rest);
    };
    h.onComplete = function (this: LegacyHandler, ...args) {
      done();
      return onComplete.apply(this, args);
    };
    h.onError = function (this: LegacyHandler, ...args) {
      done();
      return onError.apply(this, args);
    };
    return this.#inner.dispatch(options, handler);
  }
  // Never closed itself: the client closes `inner`.
}

/** The callbacks of undici's legacy dispatch handler that {@link SendOnce} wraps. */
interface LegacyHandler {
  onConnect?: (abort: (err: Error) => void, ...rest: unknown[]) => void;
  onComplete?: (...args: unknown[]) => void;
  onError?: (...args: unknown[]) => void;
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new BerthError('SPEC_INVALID', `${field} must be an integer >= 1, got ${value}`, {
      component: COMPONENT,
      hint: `Leave ${field} out for the default.`,
    });
  }
  return value;
}

function authorizationHeader(credentials: MesosCredentials | undefined): string | undefined {
  if (credentials === undefined) return undefined;
  if (credentials.type === 'bearer') return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${credentials.principal}:${credentials.secret}`).toString('base64')}`;
}

/**
 * Normalise a master address: `host:port`, `http://host:port` or `https://host:port/prefix`.
 * Returns the base URL without a trailing slash. Credentials embedded in the URL are refused
 * (they would end up in logs); pass them as `credentials`.
 */
export function normaliseMasterUrl(input: string, field = 'masters'): string {
  const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new BerthError('SPEC_INVALID', `${field}: '${input}' is not a master address`, {
      component: COMPONENT,
      hint: "Use 'host:port' or 'http(s)://host:port', e.g. 'http://mesos-master-1:5050'.",
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BerthError('SPEC_INVALID', `${field}: '${input}' must use http or https`, {
      component: COMPONENT,
      hint: "Use 'http://host:5050' or 'https://host:5050'.",
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new BerthError('SPEC_INVALID', `${field}: a master address must not embed credentials`, {
      component: COMPONENT,
      hint: "Remove 'user:password@' from the address and pass { credentials: { type: 'basic', principal, secret } }.",
    });
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

/**
 * Where a 307 from `requestUrl` points. Masters answer with protocol-relative locations
 * (`//leader:5050/api/v1/scheduler`, or just `//leader:5050` from `/master/redirect`), which take
 * the scheme of the request. Returns the leader's base URL.
 */
export function leaderBaseFromLocation(location: string, requestUrl: string): string {
  const target = new URL(location, requestUrl);
  return `${target.protocol}//${target.host}`;
}

/** The HTTP status texts Berth names in messages. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Turn a non-success answer into a BerthError. `what` names the request (`SUBSCRIBE call`,
 * `GET_STATE call`); the master's own text (Mesos error bodies are plain text) is quoted.
 * Errors with `details.retryable === true` are worth retrying, possibly at another master.
 */
export function httpError(url: string, status: number, masterText: string, what: string): BerthError {
  const reason = masterText.trim();
  const quoted = reason === '' ? '' : `: "${reason}"`;
  const line = `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  const details = {
    url,
    status,
    retryable: status >= 500,
    ...(reason === '' ? {} : { masterMessage: reason }),
  };
  const make = (code: BerthErrorCode, hint: string) =>
    new BerthError(code, `Mesos at ${url} refused the ${what} (${line})${quoted}`, {
      component: COMPONENT,
      hint,
      details,
    });
  if (status === 401) {
    return make(
      'AUTH_FAILED',
      'Check the principal and secret (or bearer token) configured for this cluster.',
    );
  }
  if (status === 403) {
    return make(
      'FORBIDDEN',
      "The credentials are valid but the master's ACLs do not allow this; ask the operator.",
    );
  }
  if (status >= 500) {
    return make(
      'BACKEND_UNAVAILABLE',
      'The master is starting, electing a leader or overloaded; Berth retries.',
    );
  }
  if (status === 404 || /cannot be found/i.test(reason)) {
    return make('NOT_FOUND', 'The framework or object is gone (torn down or failed over); subscribe again.');
  }
  if (/stream id/i.test(reason)) {
    return make(
      'CONFLICT',
      'Another subscription replaced this one (failover); calls must use the newest stream.',
    );
  }
  if (status === 405 || status === 406 || status === 415) {
    return make('INTERNAL', 'Berth sent a request the master cannot accept; please report this.');
  }
  return make(
    'SPEC_INVALID',
    'Fix the value the master names; field names are those of the Mesos v1 protos.',
  );
}

/** A connection-level failure (refused, reset, DNS, TLS) reaching `url`; retryable unless it is TLS trust. */
export function unreachable(url: string, cause: unknown): BerthError {
  const code = (cause as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
  // A certificate Berth does not trust will not become trusted by retrying: that is fatal.
  const tls = typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|VERIFY/.test(code);
  return new BerthError('BACKEND_UNAVAILABLE', `cannot reach Mesos at ${url} (${why})`, {
    component: COMPONENT,
    hint: tls
      ? "The master's certificate is not trusted; pass the cluster CA as tls.ca."
      : 'Check that the master is running and the address is right; Berth retries with back-off.',
    details: {
      url,
      retryable: !tls,
      ...(typeof code === 'string' ? { errno: code } : {}),
      ...(code === 'BERTH_NOT_RESENT' ? { notResent: true } : {}),
    },
    cause,
  });
}

export function isRetryable(error: unknown): boolean {
  return error instanceof BerthError && error.details.retryable === true;
}
