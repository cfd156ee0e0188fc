/**
 * `pods/log` for devcluster's Kubernetes face the way kube-apiserver does it: connect to the pod's
 * node at `status.addresses` (InternalIP) and `status.daemonEndpoints.kubeletEndpoint.Port`, and
 * stream `/containerLogs/{ns}/{pod}/{container}` back. Like kube-apiserver without
 * `--kubelet-certificate-authority`, it does not verify the kubelet's certificate unless given `ca`.
 */
import { request } from 'node:https';
import type { JsonObject, PodLogProvider, PodLogRequest } from '../kube/index.ts';

export interface KubeletLogProxyOptions {
  /** The Node object by name (e.g. `(name) => kube.store.get('nodes', '', name)`). */
  readonly node: (name: string) => JsonObject | undefined;
  /** Verify the kubelet's serving certificate against this CA (default: not verified). */
  readonly ca?: string;
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

function kubeletEndpoint(node: JsonObject | undefined): Endpoint | undefined {
  const status = node?.status as
    | {
        addresses?: { type?: string; address?: string }[];
        daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
      }
    | undefined;
  const host = status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host === undefined || port === undefined || port === 0 ? undefined : { host, port };
}

function kubeletUrl(endpoint: Endpoint, r: PodLogRequest, name: string): URL {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const url = new URL(
    `https://${host}:${endpoint.port}/containerLogs/${encodeURIComponent(r.namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(r.container)}`,
  );
  if (r.follow) url.searchParams.set('follow', 'true');
  if (r.previous) url.searchParams.set('previous', 'true');
  if (r.timestamps) url.searchParams.set('timestamps', 'true');
  if (r.tailLines !== undefined) url.searchParams.set('tailLines', String(r.tailLines));
  return url;
}

/** A `podLogs` provider for `startKubeApiServer` that forwards to the node's kubelet API. */
export function createKubeletLogProxy(options: KubeletLogProxyOptions): PodLogProvider {
  return (r) =>
    (async function* () {
      const meta = r.pod.metadata as { name?: string } | undefined;
      const spec = r.pod.spec as { nodeName?: string } | undefined;
      const nodeName = spec?.nodeName ?? '';
      const endpoint = kubeletEndpoint(options.node(nodeName));
      if (endpoint === undefined) {
        yield `node "${nodeName}" advertises no kubelet endpoint (status.addresses InternalIP and daemonEndpoints.kubeletEndpoint.Port)\n`;
        return;
      }
      const url = kubeletUrl(endpoint, r, meta?.name ?? '');
      const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'GET',
            ...(options.ca === undefined ? { rejectUnauthorized: false } : { ca: options.ca }),
          },
          resolve,
        );
        req.on('error', reject);
        r.signal.addEventListener('abort', () => req.destroy(), { once: true });
        req.end();
      });
      r.signal.addEventListener('abort', () => res.destroy(), { once: true });
      try {
        for await (const chunk of res) yield chunk as Uint8Array;
      } catch (error) {
        if (!r.signal.aborted) throw error;
      }
    })();
}
