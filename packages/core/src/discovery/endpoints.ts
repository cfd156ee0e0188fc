/**
 * Service endpoints: which replicas of a Service can take traffic, and where. A replica is an
 * endpoint while it is RUNNING, placed on a host, and not failing its health check; it is withdrawn
 * as soon as it stops running or turns unhealthy. The same model serves Mesos (agent hostname,
 * allocated ports, health checks) and Kubernetes (EndpointSlices: node, ports, `ready`).
 */
import type { Endpoint } from '../cluster/adapter.ts';
import type { BackendKind, TaskStatus } from '../cluster/task-state.ts';

/** `healthy`: passing its health/readiness check; `unchecked`: running with no check configured. */
export type EndpointHealth = 'healthy' | 'unchecked';

/** One replica that can take traffic: the adapter's {@link Endpoint} plus what discovery adds. */
export interface ServiceEndpoint extends Endpoint {
  readonly service: string;
  readonly health: EndpointHealth;
  /** Failure domain of the node (Kubernetes `topology.kubernetes.io/zone`, a Mesos `zone` attribute or fault domain). */
  readonly zone?: string;
  readonly backend: BackendKind;
}

/**
 * A task status as discovery reads it: the unified {@link TaskStatus} plus the health-check result
 * (`true` passing, `false` failing, absent when the task has no check) and the node's zone.
 */
export interface DiscoveryTaskStatus extends TaskStatus {
  readonly healthy?: boolean;
  readonly zone?: string;
}

/**
 * Why a replica is not (or no longer) an endpoint:
 * - `NotRunning`: its state is not RUNNING (starting, being killed, ended, unreachable);
 * - `Unhealthy`: its health check fails;
 * - `NoHost`: RUNNING but the backend has not reported a host for it;
 * - `Gone`: it disappeared from a full resync, or the service was dropped.
 */
export type WithdrawalReason = 'NotRunning' | 'Unhealthy' | 'NoHost' | 'Gone';

export interface EndpointOptions {
  /** Names of the ports to publish (`ServiceSpec.discovery.ports`); absent publishes all. */
  readonly ports?: readonly string[];
}

export type EndpointResult =
  | { readonly endpoint: ServiceEndpoint; readonly reason?: undefined }
  | { readonly endpoint?: undefined; readonly reason: WithdrawalReason };

/**
 * The endpoint a task status stands for, or why there is none. Only meaningful for replicas of a
 * Service (`status.service` set); the registry skips other tasks.
 */
export function endpointFromStatus(
  status: DiscoveryTaskStatus,
  options: EndpointOptions = {},
): EndpointResult {
  if (status.state !== 'RUNNING') return { reason: 'NotRunning' };
  if (status.healthy === false) return { reason: 'Unhealthy' };
  if (status.hostname === undefined || status.hostname === '') return { reason: 'NoHost' };
  const publish = options.ports === undefined ? undefined : new Set(options.ports);
  const ports: Record<string, number> = {};
  for (const name of Object.keys(status.ports).sort()) {
    if (publish === undefined || publish.has(name)) ports[name] = status.ports[name] as number;
  }
  return {
    endpoint: {
      service: status.service ?? '',
      taskId: status.taskId,
      nodeId: status.nodeId ?? status.hostname,
      host: status.hostname,
      ports,
      health: status.healthy === true ? 'healthy' : 'unchecked',
      ...(status.zone === undefined ? {} : { zone: status.zone }),
      backend: status.backend,
    },
  };
}

/** True when two endpoints of the same task differ in anything a client would route by. */
export function endpointChanged(a: ServiceEndpoint, b: ServiceEndpoint): boolean {
  if (a.host !== b.host || a.nodeId !== b.nodeId || a.health !== b.health || a.zone !== b.zone) return true;
  const ak = Object.keys(a.ports);
  const bk = Object.keys(b.ports);
  if (ak.length !== bk.length) return true;
  return ak.some((k) => a.ports[k] !== b.ports[k]);
}

/** A change to a service's endpoints, before the registry stamps it with `seq` and `at`. */
export type EndpointChange =
  | { readonly type: 'added'; readonly service: string; readonly endpoint: ServiceEndpoint }
  | {
      readonly type: 'changed';
      readonly service: string;
      readonly endpoint: ServiceEndpoint;
      readonly previous: ServiceEndpoint;
    }
  | {
      readonly type: 'removed';
      readonly service: string;
      readonly endpoint: ServiceEndpoint;
      readonly reason: WithdrawalReason;
    };

/**
 * What changed between two endpoint lists of one service, keyed by task id: removals first, then
 * changes, then additions, each in task-id order. Removals get `reason` (default `Gone`).
 */
export function diffEndpoints(
  before: readonly ServiceEndpoint[],
  after: readonly ServiceEndpoint[],
  reason: WithdrawalReason = 'Gone',
): EndpointChange[] {
  const old = new Map(before.map((e) => [e.taskId, e]));
  const now = new Map(after.map((e) => [e.taskId, e]));
  const byId = (a: ServiceEndpoint, b: ServiceEndpoint) =>
    a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0;
  const removed: EndpointChange[] = [...old.values()]
    .filter((e) => !now.has(e.taskId))
    .sort(byId)
    .map((endpoint) => ({ type: 'removed', service: endpoint.service, endpoint, reason }));
  const changed: EndpointChange[] = [];
  const added: EndpointChange[] = [];
  for (const e of [...now.values()].sort(byId)) {
    const prev = old.get(e.taskId);
    if (prev === undefined) added.push({ type: 'added', service: e.service, endpoint: e });
    else if (endpointChanged(prev, e))
      changed.push({ type: 'changed', service: e.service, endpoint: e, previous: prev });
  }
  return [...removed, ...changed, ...added];
}
