/**
 * The kubelet's view of an API server: client-node's typed APIs, configured so that every request
 * shares one connection pool (client-node builds a fresh undici Agent — a fresh TLS connection —
 * per request by default), runs through a bounded-concurrency queue and is counted.
 */

import { Agent, type AgentOptions, request as httpsRequest, type RequestOptions } from 'node:https';
import { BerthError } from '@berth/core';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  type KubeConfig,
  PatchStrategy,
  type RequestContext,
  ServerConfiguration,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Limiter } from './limiter.ts';

export const COMPONENT = 'devcluster/kubelet';

/** API requests the kubelet sent, by kind. */
export interface KubeletRequestStats {
  /** Every request (watches count once, when opened). */
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
  /** Requests that failed (any status ≥ 400, or no answer). */
  readonly errors: number;
}

export interface KubeletClient {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly kubeConfig: KubeConfig;
  /** Run one API request through the shared queue, counted under `kind`. */
  call<T>(kind: string, request: () => Promise<T>): Promise<T>;
  /**
   * The heartbeat fast path: one JSON request over a keep-alive `https.Agent` built from the same
   * KubeConfig (credentials applied per request). Several times cheaper in CPU than the generated
   * client (no fetch/web-streams layers, no model (de)serialisation), which is what lets one
   * process keep thousands of Leases fresh. Falls back to nothing: callers use it for plain JSON.
   */
  json(kind: string, method: string, path: string, body?: unknown, contentType?: string): Promise<unknown>;
  /** Count a request made outside `call` (a watch being opened). */
  count(kind: string): void;
  stats(): KubeletRequestStats;
  /** Requests waiting for a slot. */
  readonly queued: number;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** Options for a JSON merge patch (client-node sends strategic merge otherwise). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createKubeletClient(kubeConfig: KubeConfig, concurrency: number): KubeletClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) {
    throw new BerthError('SPEC_INVALID', 'the kubeconfig has no current cluster', {
      component: COMPONENT,
      hint: 'Pass a KubeConfig with a current context (kubeConfig.setCurrentContext(name)).',
    });
  }
  // One dispatcher (connection pool) for the kubelet's lifetime: the first one the KubeConfig
  // builds is kept; credentials (headers) are still applied per request.
  let shared: ReturnType<RequestContext['getDispatcher']>;
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: {
      default: {
        getName: () => 'berth-kubelet',
        applySecurityAuthentication: async (context: RequestContext) => {
          await kubeConfig.applySecurityAuthentication(context);
          const own = context.getDispatcher();
          if (shared === undefined) shared = own;
          else if (own !== undefined) context.setDispatcher(shared);
        },
      },
    },
  });
  const limiter = new Limiter(concurrency);
  const server = new URL(cluster.server);
  let agent: Agent | undefined;
  const sendJson = async (
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown> => {
    const opts: RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    if (agent === undefined) {
      const tls: AgentOptions = { keepAlive: true, maxSockets: concurrency };
      for (const k of [
        'ca',
        'cert',
        'key',
        'pfx',
        'passphrase',
        'rejectUnauthorized',
        'servername',
      ] as const) {
        if (opts[k] !== undefined) (tls as Record<string, unknown>)[k] = opts[k];
      }
      agent = new Agent(tls);
    }
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...(opts.headers as Record<string, string> | undefined),
    };
    if (text !== undefined) headers['Content-Type'] = contentType ?? 'application/json';
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          protocol: server.protocol,
          hostname: server.hostname.replace(/^\[|\]$/g, ''),
          port: server.port,
          path: `${server.pathname.replace(/\/$/, '')}${path}`,
          method,
          headers,
          agent,
          ...(opts.auth === undefined ? {} : { auth: opts.auth }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = raw;
            try {
              parsed = raw === '' ? undefined : JSON.parse(raw);
            } catch {
              // not JSON: keep the text
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed);
            else reject(new KubeHttpError(code, method, path, parsed));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (text !== undefined) req.write(text);
      req.end();
    });
  };
  const byKind: Record<string, number> = {};
  let total = 0;
  let errors = 0;
  const count = (kind: string) => {
    total++;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  };
  return {
    core: new CoreV1Api(config),
    coordination: new CoordinationV1Api(config),
    kubeConfig,
    call: (kind, request) =>
      limiter.run(async () => {
        count(kind);
        try {
          return await request();
        } catch (error) {
          errors++;
          throw error;
        }
      }),
    json: (kind, method, path, body, contentType) =>
      limiter.run(async () => {
        count(kind);
        try {
          return await sendJson(method, path, body, contentType);
        } catch (error) {
          errors++;
          throw error;
        }
      }),
    count,
    stats: () => ({ total, byKind: { ...byKind }, errors }),
    get queued() {
      return limiter.queued;
    },
    close: () => {
      agent?.destroy();
      void (shared as { close?: () => Promise<void> } | undefined)?.close?.().catch(() => {});
    },
  };
}

/** A non-2xx answer on the fast path. */
export class KubeHttpError extends Error {
  readonly statusCode: number;
  readonly body: unknown;

  constructor(statusCode: number, method: string, path: string, body: unknown) {
    const message = (body as { message?: unknown } | undefined)?.message;
    super(`${method} ${path}: HTTP ${statusCode}${typeof message === 'string' ? `: ${message}` : ''}`);
    this.name = 'KubeHttpError';
    this.statusCode = statusCode;
    this.body = body;
  }
}

/** The HTTP status of a failed client-node call (0 when there was no answer). */
export function statusOf(error: unknown): number {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : 0;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | string | undefined;
    const message =
      typeof body === 'object' && body !== null && typeof body.message === 'string'
        ? body.message
        : String(body ?? '');
    return `HTTP ${error.code}: ${message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
