/**
 * Pod → unified TaskStatus: the state and reason from core's `fromKubernetesPod`, plus the task id,
 * node, ports (from the `berth.dev/ports` annotation), health (the Ready condition of a pod with a
 * health check) and timestamps.
 */
import { fromKubernetesPod, isTerminal, type TaskStatus } from '@berth/core';
import { LABELS, type NodeRecord, type PodRecord } from './records.ts';

/** A pod's task id: its `berth.dev/task-id` label, else its name (replicas of Deployments and Jobs). */
export const taskIdOf = (p: PodRecord): string => p.labels[LABELS.taskId] ?? p.name;

/**
 * Where a pod's named ports are reached, which is what both its TaskStatus (`hostname`, `ports`)
 * and its Endpoint (`host`, `ports`) carry:
 * - every port fixed (a hostPort): the node's host name and the host ports;
 * - any port without a host port: the pod IP and the container ports (a container port is not
 *   open on the node, only on the pod network; the pod IP reaches every container port).
 * Before the kubelet reports a pod IP the node's host name stands in.
 */
export function reachOf(
  p: PodRecord,
  node: NodeRecord | undefined,
): { hostname: string; ports: Readonly<Record<string, number>> } | undefined {
  if (p.nodeName === undefined) return undefined;
  const nodeHost = node?.hostname ?? p.nodeName;
  const named = p.ports.filter((x) => x.name !== undefined);
  const allFixed = named.every((x) => x.hostPort !== undefined);
  if (allFixed || p.status.podIP === undefined) return { hostname: nodeHost, ports: portsOf(p) };
  const ports: Record<string, number> = {};
  for (const x of named) ports[x.name!] = x.containerPort;
  return { hostname: p.status.podIP, ports };
}

function portsOf(p: PodRecord): Readonly<Record<string, number>> {
  const raw = p.annotations[LABELS.ports];
  if (raw !== undefined) {
    try {
      return JSON.parse(raw) as Record<string, number>;
    } catch {
      // fall through to the container ports
    }
  }
  const out: Record<string, number> = {};
  for (const port of p.ports)
    if (port.name !== undefined) out[port.name] = port.hostPort ?? port.containerPort;
  return out;
}

const time = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
};

export function taskStatusOf(
  p: PodRecord,
  node: NodeRecord | undefined,
  now: number,
  deleted = false,
): TaskStatus {
  const k = fromKubernetesPod(p, { deleted });
  const containers = p.status.containerStatuses ?? [];
  const started = containers
    .map((c) => time(c.state?.running?.startedAt as string | undefined))
    .find((t) => t !== undefined);
  const finishedAt = containers
    .map((c) => time((c.state?.terminated as { finishedAt?: string } | undefined)?.finishedAt))
    .find((t) => t !== undefined);
  const created = time(p.creationTimestamp);
  const service = p.labels[LABELS.service];
  const hasCheck = p.annotations[LABELS.healthCheck] !== undefined;
  const ready = p.status.conditions?.find((c) => c.type === 'Ready');
  const reach = reachOf(p, node);
  // A failing command says why: the exit code, when the kubelet gave no message.
  const message =
    k.message ??
    (k.state === 'FAILED' && k.exitCode !== undefined ? `exited with code ${k.exitCode}` : undefined);
  return {
    taskId: taskIdOf(p),
    state: k.state,
    rawState: k.rawState,
    ...(k.reason === undefined ? {} : { reason: k.reason }),
    ...(message === undefined ? {} : { message }),
    ...(k.exitCode === undefined ? {} : { exitCode: k.exitCode }),
    ...(p.nodeName === undefined || reach === undefined
      ? {}
      : { nodeId: p.nodeName, hostname: reach.hostname }),
    ports: reach?.ports ?? portsOf(p),
    ...(service === undefined ? {} : { service }),
    ...(hasCheck && k.state === 'RUNNING' && ready !== undefined ? { healthy: ready.status === 'True' } : {}),
    timestamps: {
      ...(created === undefined ? {} : { created }),
      ...(started === undefined ? {} : { started }),
      ...(isTerminal(k.state) ? { finished: finishedAt ?? now } : {}),
      updated: now,
    },
    backend: 'kubernetes',
  };
}
