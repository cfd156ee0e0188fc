/**
 * Expected outcomes of a plugin are a `Status`, never an exception (exceptions are for bugs and
 * broken input). The codes mirror the Kubernetes scheduling framework.
 */

export const STATUS_CODES = [
  'Success',
  'Error',
  'Unschedulable',
  'UnschedulableAndUnresolvable',
  'Wait',
  'Skip',
] as const;

/**
 * - `Success`: the plugin is satisfied.
 * - `Error`: something is broken (a bug, inconsistent state); the task is not placed.
 * - `Unschedulable`: the node does not fit now, but preemption could help.
 * - `UnschedulableAndUnresolvable`: the node does not fit and preemption cannot change that.
 * - `Wait`: permit only: hold the reservation until the plugin allows or rejects it.
 * - `Skip`: pre-filter/pre-score only: the plugin has nothing to do for this task.
 */
export type StatusCode = (typeof STATUS_CODES)[number];

export interface Status {
  readonly code: StatusCode;
  /** Short, lowercase, countable reasons, e.g. `insufficient cpu`. */
  readonly reasons: readonly string[];
  /** The plugin that returned the status; stamped by the framework. */
  readonly plugin?: string;
}

/** Plugins return `undefined` (or `SUCCESS`) for success; the framework treats both alike. */
export type PluginStatus = Status | undefined;

export const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: [] as readonly string[] });
export const SKIP: Status = Object.freeze({ code: 'Skip', reasons: [] as readonly string[] });

export function status(code: StatusCode, ...reasons: string[]): Status {
  return { code, reasons };
}

export function unschedulable(...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons };
}

export function unresolvable(...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

export function isSuccess(s: PluginStatus): boolean {
  return s === undefined || s.code === 'Success';
}

/** True for the two "does not fit" codes. */
export function isRejection(s: PluginStatus): boolean {
  return s !== undefined && (s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable');
}

/** A copy of `s` that names the plugin that produced it (used by the framework). */
export function withPlugin(s: Status, plugin: string): Status {
  return s.plugin === plugin ? s : { code: s.code, reasons: s.reasons, plugin };
}

/** Renders a status the way `berth describe` prints it. */
export function formatStatus(s: Status): string {
  const who = s.plugin === undefined ? '' : `${s.plugin}: `;
  return s.reasons.length === 0 ? `${who}${s.code}` : `${who}${s.reasons.join(', ')}`;
}
