/**
 * The adapter's HTTP client for the Kubernetes REST API. Credentials, TLS material, exec plugins
 * and in-cluster service accounts all come from client-node's `KubeConfig`
 * (`applyToHTTPSOptions`); this file only sends JSON over one keep-alive connection pool (undici's,
 * several times cheaper per request than `node:http`'s agent, which matters when a scheduler posts
 * thousands of bindings a second), streams watches, retries 429 after `Retry-After`, and maps
 * failures to BerthErrors.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { BerthError, type Clock, sleep, systemClock } from '@berth/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Dispatcher, Pool } from 'undici';
import { COMPONENT, connectionError, type KubeStatusBody, kubeHttpError } from './kube-errors.ts';

export interface KubeClientOptions {
  /** Most requests in flight at once (default 64); the rest queue. */
  readonly concurrency?: number;
  /** How often a 429 is retried after its `Retry-After` (default 5). */
  readonly maxRetries?: number;
  /** Longest wait honoured from a `Retry-After` (default 30 s). */
  readonly maxRetryAfterMs?: number;
  readonly clock?: Clock;
  /** Sent as `User-Agent` (default `berth-k8s-adapter`). */
  readonly userAgent?: string;
}

export interface RequestInit {
  readonly body?: unknown;
  /** Default `application/json`; patches pass `application/merge-patch+json` etc. */
  readonly contentType?: string;
  /** Default `application/json`; streamed logs accept any type too. */
  readonly accept?: string;
}

/** One watch event as the API server streams it. */
export interface RawWatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface WatchHandle {
  /** Resolves when the server ends the stream; rejects with a BerthError on failure. */
  readonly done: Promise<void>;
  abort(): void;
}

/** Request counts, for tests and `berth k8s scheduler` metrics. */
export interface KubeClientStats {
  readonly requests: number;
  readonly retries: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

/**
 * A small REST client over one `KubeConfig`. `request` resolves with the parsed JSON body;
 * `watch` streams events. Every failure is a BerthError (see `kube-errors.ts`).
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  /** The API server URL of the current context. */
  readonly server: string;
  readonly #url: URL;
  readonly #clock: Clock;
  readonly #maxRetries: number;
  readonly #maxRetryAfterMs: number;
  readonly #concurrency: number;
  readonly #userAgent: string;
  #pool: Pool | undefined;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #watches = new Set<() => void>();
  #closed = false;
  #requests = 0;
  #retries = 0;
  readonly #byStatus: Record<string, number> = {};

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) {
      throw new BerthError('SPEC_INVALID', 'the kubeconfig has no current cluster', {
        component: COMPONENT,
        hint: 'Pick a context (`kubectl config use-context NAME` or the `context` option).',
      });
    }
    this.kubeConfig = kubeConfig;
    this.server = cluster.server.replace(/\/+$/, '');
    this.#url = new URL(this.server);
    this.#clock = options.clock ?? systemClock;
    this.#maxRetries = options.maxRetries ?? 5;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#concurrency = options.concurrency ?? 64;
    this.#userAgent = options.userAgent ?? 'berth-k8s-adapter';
  }

  stats(): KubeClientStats {
    return { requests: this.#requests, retries: this.#retries, byStatus: { ...this.#byStatus } };
  }

  /** Credentials and TLS material of the current context, read again for every request (tokens rotate). */
  async #options(): Promise<RequestOptions> {
    const opts: RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    return opts;
  }

  /** The keep-alive pool for plain requests (watches and streams get connections of their own). */
  #poolFor(opts: RequestOptions): Pool {
    this.#pool ??= new Pool(this.#url.origin, {
      connections: this.#concurrency,
      ...(this.#url.protocol === 'https:' ? { connect: poolTls(opts) } : {}),
    });
    return this.#pool;
  }

  #headers(init: RequestInit, options: RequestOptions, text: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      accept: init.accept ?? 'application/json',
      'user-agent': this.#userAgent,
    };
    for (const [k, v] of Object.entries((options.headers ?? {}) as Record<string, unknown>))
      if (v !== undefined) headers[k.toLowerCase()] = String(v);
    if (options.auth !== undefined && options.auth !== null)
      headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    if (text !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
    return headers;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new BerthError('BACKEND_UNAVAILABLE', 'the Kubernetes client is closed', {
        component: COMPONENT,
        hint: 'Create a new adapter (or client) and connect() again.',
      });
    }
  }

  async #slot(): Promise<void> {
    if (this.#active < this.#concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }

  /** A request on a connection of its own (watches and streamed logs). */
  #open(
    method: string,
    path: string,
    init: RequestInit,
    options: RequestOptions,
    onResponse: (res: IncomingMessage) => void,
    onError: (error: unknown) => void,
  ) {
    const text = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string | number> = {
      Accept: init.accept ?? 'application/json',
      'User-Agent': this.#userAgent,
      ...(options.headers as Record<string, string> | undefined),
    };
    if (text !== undefined) {
      headers['Content-Type'] = init.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(text);
    }
    const send = this.#url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(
      {
        protocol: this.#url.protocol,
        hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
        port: this.#url.port,
        path: `${this.#url.pathname.replace(/\/$/, '')}${path}`,
        method,
        headers,
        // No pool: a long-lived stream is never handed on, and the TLS material goes on the request.
        agent: false,
        ...tlsOf(options),
        ...(options.auth === undefined ? {} : { auth: options.auth }),
      },
      onResponse,
    );
    req.on('error', onError);
    if (text !== undefined) req.write(text);
    req.end();
    return req;
  }

  /** Sends one request; resolves with the parsed body of a 2xx answer. */
  async request<T = unknown>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const text = init.body === undefined ? undefined : JSON.stringify(init.body);
    const fullPath = `${this.#url.pathname.replace(/\/$/, '')}${path}`;
    for (let attempt = 0; ; attempt++) {
      this.#checkOpen();
      const options = await this.#options();
      const pool = this.#poolFor(options);
      await this.#slot();
      let answer: { status: number; body: unknown; retryAfter: string | undefined };
      try {
        this.#requests++;
        const res = await pool.request({
          method: method as Dispatcher.HttpMethod,
          path: fullPath,
          headers: this.#headers(init, options, text),
          ...(text === undefined ? {} : { body: text }),
        });
        const raw = await res.body.text();
        let body: unknown = raw;
        try {
          body = raw === '' ? undefined : JSON.parse(raw);
        } catch {
          // not JSON: keep the text
        }
        const ra = res.headers['retry-after'];
        answer = { status: res.statusCode, body, retryAfter: Array.isArray(ra) ? ra[0] : ra };
      } catch (error) {
        throw connectionError(error, this.server, method, path);
      } finally {
        this.#release();
      }
      const s = String(answer.status);
      this.#byStatus[s] = (this.#byStatus[s] ?? 0) + 1;
      if (answer.status >= 200 && answer.status < 300) return answer.body as T;
      if (answer.status === 429 && attempt < this.#maxRetries) {
        this.#retries++;
        await sleep(this.#clock, retryAfterMs(answer, this.#maxRetryAfterMs, attempt));
        continue;
      }
      throw kubeHttpError(answer.status, answer.body, method, path, this.server);
    }
  }

  /**
   * Opens a watch (`path` must carry `watch=1` and the resourceVersion). Events are delivered in
   * order; `done` resolves when the server closes the stream and rejects with a BerthError when the
   * watch cannot be opened or breaks (a 410 answer keeps `statusCode: 410` in its details).
   */
  watch(path: string, onEvent: (event: RawWatchEvent) => void): WatchHandle {
    let abort: () => void = () => {};
    let aborted = false;
    const done = (async () => {
      this.#checkOpen();
      const options = await this.#options();
      if (aborted) return;
      this.#requests++;
      await new Promise<void>((resolve, reject) => {
        const req = this.#open(
          'GET',
          path,
          {},
          options,
          (res) => {
            const status = res.statusCode ?? 0;
            const s = String(status);
            this.#byStatus[s] = (this.#byStatus[s] ?? 0) + 1;
            if (status !== 200) {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const raw = Buffer.concat(chunks).toString('utf8');
                let body: unknown = raw;
                try {
                  body = JSON.parse(raw);
                } catch {
                  // text body
                }
                reject(kubeHttpError(status, body, 'GET', path, this.server, true));
              });
              return;
            }
            res.setEncoding('utf8');
            let buffer = '';
            res.on('data', (chunk: string) => {
              // A chunk often carries many events: scan it once, keep only the unfinished tail.
              const text = buffer === '' ? chunk : buffer + chunk;
              let from = 0;
              let nl = text.indexOf('\n');
              while (nl >= 0) {
                const line = text.slice(from, nl);
                from = nl + 1;
                if (line.trim() !== '') {
                  let event: RawWatchEvent;
                  try {
                    event = JSON.parse(line) as RawWatchEvent;
                  } catch (error) {
                    req.destroy();
                    reject(connectionError(error, this.server, 'GET', path));
                    return;
                  }
                  if (aborted) return;
                  onEvent(event);
                }
                nl = text.indexOf('\n', from);
              }
              buffer = text.slice(from);
            });
            res.on('end', () => resolve());
            res.on('error', (e) =>
              aborted ? resolve() : reject(connectionError(e, this.server, 'GET', path)),
            );
            res.on('aborted', () =>
              aborted
                ? resolve()
                : reject(connectionError(new Error('watch aborted by the server'), this.server, 'GET', path)),
            );
          },
          (error) => (aborted ? resolve() : reject(connectionError(error, this.server, 'GET', path))),
        );
        abort = () => {
          aborted = true;
          req.destroy();
          resolve();
        };
        this.#watches.add(abort);
      }).finally(() => this.#watches.delete(abort));
    })();
    return {
      done,
      abort: () => {
        aborted = true;
        abort();
      },
    };
  }

  /**
   * GETs a streamed text body (`pods/log?follow=true`) on a connection of its own and yields its
   * chunks as they arrive. Ends when the server ends the body, when `signal` aborts or when the
   * client closes; a non-2xx answer throws the mapped BerthError before anything is yielded.
   */
  async *stream(path: string, signal?: AbortSignal): AsyncGenerator<string> {
    this.#checkOpen();
    const options = await this.#options();
    let req: ClientRequest | undefined;
    const abort = () => req?.destroy();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      this.#requests++;
      req = this.#open('GET', path, { accept: 'application/json, */*' }, options, resolve, (e) =>
        reject(connectionError(e, this.server, 'GET', path)),
      );
    });
    this.#watches.add(abort);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const status = res.statusCode ?? 0;
      const s = String(status);
      this.#byStatus[s] = (this.#byStatus[s] ?? 0) + 1;
      res.setEncoding('utf8');
      if (status < 200 || status >= 300) {
        let raw = '';
        for await (const chunk of res) raw += chunk as string;
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // text body
        }
        throw kubeHttpError(status, body, 'GET', path, this.server);
      }
      try {
        for await (const chunk of res) yield chunk as string;
      } catch (error) {
        if (signal?.aborted || this.#closed) return;
        throw connectionError(error, this.server, 'GET', path);
      }
    } finally {
      signal?.removeEventListener('abort', abort);
      this.#watches.delete(abort);
      req?.destroy();
    }
  }

  /** Ends every watch and closes the kept-alive connections. */
  close(): void {
    this.#closed = true;
    for (const abort of [...this.#watches]) abort();
    this.#pool?.destroy().catch(() => {});
  }
}

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** The TLS fields `applyToHTTPSOptions` filled in. */
function tlsOf(opts: RequestOptions): Record<string, unknown> {
  const tls: Record<string, unknown> = {};
  for (const k of TLS_KEYS) if (opts[k] !== undefined) tls[k] = opts[k];
  return tls;
}

/**
 * The pool's TLS settings: the CA and client credentials as one secure context built once, not
 * parsed again for every connection.
 */
function poolTls(opts: RequestOptions): Record<string, unknown> {
  const { ca, cert, key, pfx, passphrase, ...rest } = tlsOf(opts);
  const material = { ca, cert, key, pfx, passphrase } as SecureContextOptions;
  for (const k of Object.keys(material) as (keyof SecureContextOptions)[])
    if (material[k] === undefined) delete material[k];
  return { ...rest, secureContext: createSecureContext(material) };
}

/** `Retry-After` (seconds) from the header or the Status details, else a short back-off. */
function retryAfterMs(
  answer: { body: unknown; retryAfter: string | undefined },
  maxMs: number,
  attempt: number,
): number {
  const fromHeader = answer.retryAfter === undefined ? Number.NaN : Number(answer.retryAfter);
  const fromBody = (answer.body as KubeStatusBody | undefined)?.details?.retryAfterSeconds;
  const seconds = Number.isFinite(fromHeader) ? fromHeader : (fromBody ?? Number.NaN);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 100 * 2 ** attempt;
  return Math.min(ms, maxMs);
}

/** `encodeURIComponent` for path segments. */
export const seg = (s: string): string => encodeURIComponent(s);

/** Builds a query string from defined values. */
export function query(params: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
