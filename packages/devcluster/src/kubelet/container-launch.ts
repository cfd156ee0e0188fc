/**
 * Turning a pod's container into an engine launch: argv from `command`/`args` with `$(VAR)`
 * expansion, the environment (values and downward-API field references), ports and requests.
 */

import { BerthError, type ResourceQuantities, Resources } from '@berth/core';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PortRequest } from '../engine/index.ts';
import { COMPONENT } from './kube-client.ts';

/** Expands `$(NAME)` from `env` as the kubelet does; `$$(NAME)` escapes to a literal `$(NAME)`. */
export function expandVars(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.hasOwn(env, name) ? env[name]! : match;
  });
}

function fieldValue(pod: V1Pod, path: string, hostIP: string): string {
  const meta = pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapKey) return (mapKey[1] === 'labels' ? meta.labels : meta.annotations)?.[mapKey[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.hostIP':
      return hostIP;
    default:
      throw new BerthError('UNSUPPORTED', `env fieldRef ${JSON.stringify(path)} is not supported`, {
        component: COMPONENT,
        hint: 'Use metadata.name, metadata.namespace, metadata.uid, metadata.labels[...], metadata.annotations[...], spec.nodeName, spec.serviceAccountName, status.podIP or status.hostIP.',
      });
  }
}

/** The container's own environment (`env` in order; later entries see earlier ones). */
export function containerEnv(pod: V1Pod, container: V1Container, hostIP: string): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: pod.metadata?.name ?? '' };
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) env[e.name] = expandVars(e.value ?? '', env);
    else if (e.valueFrom.fieldRef !== undefined)
      env[e.name] = fieldValue(pod, e.valueFrom.fieldRef.fieldPath, hostIP);
    else {
      throw new BerthError('UNSUPPORTED', `env ${e.name}: only value and valueFrom.fieldRef are supported`, {
        component: COMPONENT,
        hint: 'configMapKeyRef, secretKeyRef and resourceFieldRef are not read by the Berth virtual kubelet; inline the value.',
      });
    }
  }
  return env;
}

/** argv of the container (`command` then `args`, expanded), empty when it gives neither. */
export function containerArgv(container: V1Container, env: Readonly<Record<string, string>>): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])].map((a) => expandVars(a, env));
}

export function containerPorts(container: V1Container): PortRequest[] {
  return (container.ports ?? []).map((p) => ({
    ...(p.name === undefined ? {} : { name: p.name }),
    ...(p.hostPort === undefined || p.hostPort === 0 ? {} : { hostPort: p.hostPort }),
  }));
}

/** The container's requests (limits stand in for missing requests, as the apiserver defaults them). */
export function containerResources(container: V1Container): Resources {
  const limits = container.resources?.limits ?? {};
  const requests = { ...limits, ...(container.resources?.requests ?? {}) };
  return Resources.fromQuantities(requests as ResourceQuantities);
}
