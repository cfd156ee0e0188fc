/**
 * What a fresh Berth process recovers from the master's operator API for tasks it finds in its
 * state store: where each agent is reachable, the host ports a task holds, and when it started and
 * ended. Pure functions over the operator API's JSON form.
 */
import type { TaskSpec } from '@berth/core';
import type { Resource, Task, TaskStatus } from './proto/common.ts';

/**
 * An agent's base URL from its libprocess `pid` (`slave(1)@10.0.0.5:5051`), as Mesos clients
 * address agents: the pid carries the IP the agent bound, while `agent_info.hostname` need not
 * resolve where Berth runs. Undefined when the pid is not of that form.
 */
export function agentUrlFromPid(
  pid: string | undefined,
  scheme: 'http' | 'https' = 'http',
): string | undefined {
  if (pid === undefined) return undefined;
  const at = pid.lastIndexOf('@');
  if (at < 0) return undefined;
  const address = pid.slice(at + 1);
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (!/^\d+$/.test(address.slice(colon + 1)) || port < 1 || port > 65_535) return undefined;
  // An IPv6 address is bracketed in a URL.
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

/** The host ports in a task's `ports` resources, ascending. */
export function portsOfResources(resources: readonly Resource[] | undefined): number[] {
  const out: number[] = [];
  for (const r of resources ?? []) {
    if (r.name !== 'ports') continue;
    for (const range of r.ranges?.range ?? []) {
      for (let p = Number(range.begin); p <= Number(range.end); p++) out.push(p);
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * The host ports of a task the master reports, in the order of `spec.ports`: by name from its
 * DiscoveryInfo (what Berth launched it with), else from its `ports` resources in ascending order
 * (Berth's placement hands out a task's ports in ascending order). Empty when neither says.
 */
export function hostPortsOfTask(spec: TaskSpec, task: Pick<Task, 'discovery' | 'resources'>): number[] {
  if (spec.ports.length === 0) return [];
  const discovered = task.discovery?.ports?.ports ?? [];
  if (discovered.length > 0) {
    const byName = new Map(discovered.filter((p) => p.name !== undefined).map((p) => [p.name, p.number]));
    const named = spec.ports.map((p) => byName.get(p.name));
    if (named.every((n) => n !== undefined)) return named as number[];
    if (discovered.length === spec.ports.length) return discovered.map((p) => p.number);
  }
  const held = portsOfResources(task.resources);
  return held.length === spec.ports.length ? held : [];
}

/** When a task started and ended by its status updates' `timestamp`s (seconds, fractional), in ms. */
export interface StatusTimes {
  /** The first TASK_RUNNING update. */
  readonly started?: number;
  /** The terminal update. */
  readonly finished?: number;
  /** The latest update. */
  readonly updated?: number;
}

const TERMINAL = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function statusTimes(statuses: readonly Pick<TaskStatus, 'state' | 'timestamp'>[]): StatusTimes {
  let started: number | undefined;
  let finished: number | undefined;
  let updated: number | undefined;
  for (const s of statuses) {
    if (s.timestamp === undefined || !Number.isFinite(s.timestamp)) continue;
    const ms = Math.round(s.timestamp * 1000);
    if (s.state === 'TASK_RUNNING' && (started === undefined || ms < started)) started = ms;
    if (TERMINAL.has(s.state) && (finished === undefined || ms < finished)) finished = ms;
    if (updated === undefined || ms > updated) updated = ms;
  }
  return {
    ...(started === undefined ? {} : { started }),
    ...(finished === undefined ? {} : { finished }),
    ...(updated === undefined ? {} : { updated }),
  };
}
