/**
 * A TLS proxy in front of devcluster's Kubernetes face that injects faults: canned answers (429 with
 * Retry-After, 409), dropped watch streams, and an "apiserver restart" (every connection cut and
 * new ones reset for a while).
 */
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServingCertificates, type KubeApiServer } from '@berth/devcluster';
import { KubeConfig } from '@kubernetes/client-node';

export interface InjectedAnswer {
  readonly method?: string;
  /** Substring of the path (without the query). */
  readonly path: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** How many matching requests get it (default 1). */
  times?: number;
}

export interface FaultProxy {
  readonly url: string;
  kubeConfig(): KubeConfig;
  /** The next matching request(s) get this answer instead of reaching the server. */
  inject(answer: InjectedAnswer): void;
  /** Requests that got an injected answer. */
  readonly injected: number;
  /** End every open watch stream mid-flight. */
  dropWatches(): void;
  /** Cut every connection and reset new ones for `ms` (an apiserver restart). */
  restart(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: KubeApiServer): Promise<FaultProxy> {
  const certs = await createServingCertificates(['127.0.0.1']);
  const upstream = new URL(target.url);
  const answers: InjectedAnswer[] = [];
  const sockets = new Set<Socket>();
  const watches = new Set<() => void>();
  let down = false;
  let injected = 0;
  const server: Server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const hit = answers.find(
      (a) => (a.method === undefined || a.method === req.method) && path.includes(a.path),
    );
    if (hit !== undefined) {
      hit.times = (hit.times ?? 1) - 1;
      if (hit.times <= 0) answers.splice(answers.indexOf(hit), 1);
      injected++;
      req.resume();
      res.writeHead(hit.status, { 'Content-Type': 'application/json', ...hit.headers });
      res.end(
        JSON.stringify(hit.body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: hit.status }),
      );
      return;
    }
    const up = httpsRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
        ca: target.caPem,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        if ((req.url ?? '').includes('watch=')) {
          const cut = () => {
            ur.destroy();
            res.destroy();
          };
          watches.add(cut);
          res.on('close', () => watches.delete(cut));
        }
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    if (down) {
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'proxy', server: url, caData: Buffer.from(certs.caPem).toString('base64') }],
        users: [{ name: 'proxy', token: target.token }],
        contexts: [{ name: 'proxy', cluster: 'proxy', user: 'proxy' }],
        currentContext: 'proxy',
      });
      return kc;
    },
    inject: (a) => answers.push({ ...a }),
    get injected() {
      return injected;
    },
    dropWatches() {
      for (const cut of [...watches]) cut();
    },
    async restart(ms) {
      down = true;
      for (const s of [...sockets]) s.destroy();
      await new Promise((r) => setTimeout(r, ms));
      down = false;
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
