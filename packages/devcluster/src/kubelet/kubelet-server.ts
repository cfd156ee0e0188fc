/**
 * The kubelet's read API over TLS on loopback, one server for all of the kubelet's nodes (each
 * Node advertises its port in `daemonEndpoints.kubeletEndpoint.Port`): `/containerLogs`, `/pods`,
 * `/stats/summary` and `/healthz`. Like the kubelet's read-only paths it asks for no credentials;
 * it listens on loopback only by default.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BerthError } from '@berth/core';
import { createServingCertificates } from '../kube/index.ts';
import type { PodManager } from './pod-manager.ts';
import type { UsageCollector } from './usage.ts';

export interface KubeletServer {
  readonly port: number;
  /** PEM of the CA that signed the serving certificate (clients that verify it trust this). */
  readonly caPem: string;
  close(): Promise<void>;
}

export interface KubeletServerOptions {
  readonly host: string;
  readonly port: number;
  readonly pods: PodManager;
  readonly usage: UsageCollector;
  readonly nodeNames: () => readonly string[];
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': type });
  res.end(body);
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1' || v === '';
}

export async function startKubeletServer(options: KubeletServerOptions): Promise<KubeletServer> {
  const certs = await createServingCertificates([options.host, '127.0.0.1', 'localhost']);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const q = url.searchParams;
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed');
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    if (url.pathname === '/healthz') return send(res, 200, 'ok');
    if (url.pathname === '/pods' || url.pathname === '/pods/') {
      const items = options.pods.pods();
      return send(
        res,
        200,
        JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }),
        'application/json',
      );
    }
    if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
      const names = options.nodeNames();
      const node = q.get('node') ?? (names.length === 1 ? names[0] : undefined);
      if (node === undefined || !names.includes(node)) {
        return send(
          res,
          400,
          `this kubelet serves ${names.length} nodes: pass ?node=<name> (one of ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`,
        );
      }
      return send(res, 200, JSON.stringify(options.usage.summary(node)), 'application/json');
    }
    if (segments[0] === 'containerLogs' && segments.length === 4) {
      const [, namespace, pod, container] = segments as [string, string, string, string];
      const tailRaw = q.get('tailLines');
      const tailLines = tailRaw === null ? undefined : Number(tailRaw);
      if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) {
        return send(res, 400, `tailLines must be a non-negative integer, got ${JSON.stringify(tailRaw)}`);
      }
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const stream = options.pods.containerLog(namespace, pod, container, {
        follow: flag(q, 'follow'),
        previous: flag(q, 'previous'),
        timestamps: flag(q, 'timestamps'),
        ...(tailLines === undefined ? {} : { tailLines }),
        signal: abort.signal,
      });
      // Pull the first chunk before answering, so a missing pod or container is a 404, not a 200.
      const first = await stream.next();
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      if (!first.done) res.write(first.value);
      for await (const chunk of stream) {
        if (abort.signal.aborted) break;
        res.write(chunk);
      }
      res.end();
      return;
    }
    send(res, 404, '404 page not found');
  };
  const server: Server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const code = error instanceof BerthError && error.code === 'NOT_FOUND' ? 404 : 500;
      send(
        res,
        code,
        error instanceof Error ? error.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '') : String(error),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new BerthError(
          'CONFLICT',
          `the kubelet API cannot listen on ${options.host}:${options.port}: ${error.message}`,
          {
            component: 'devcluster/kubelet',
            hint: 'Pick another kubeletPort, or 0 for an ephemeral one.',
            cause: error,
          },
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    caPem: certs.caPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
