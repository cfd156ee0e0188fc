/**
 * Task specs in the state store: a stable JSON form (keys sorted, `Resources` as quantity strings)
 * that reads back into an equal `TaskSpec`, and the spec hash that decides whether a resubmitted
 * task is `unchanged` or a `conflict`.
 */
import { createHash } from 'node:crypto';
import { BerthError, type ResourceQuantities, Resources, type TaskSpec } from '@berth/core';

/** JSON with object keys sorted at every level (after `toJSON`), so equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === 'object' &&
    'toJSON' in value &&
    typeof value.toJSON === 'function'
  ) {
    return sortKeys((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256 of the stable JSON, hex, first 32 characters. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 32);
}

/** A `TaskSpec` as plain JSON (what {@link taskSpecFromJson} reads). */
export function taskSpecToJson(spec: TaskSpec): unknown {
  return JSON.parse(stableJson(spec)) as unknown;
}

/** Read back a spec written by {@link taskSpecToJson}. */
export function taskSpecFromJson(json: unknown): TaskSpec {
  if (json === null || typeof json !== 'object' || !('resources' in json)) {
    throw new BerthError('INTERNAL', 'a task spec in the Mesos state store is not a Berth task spec', {
      component: 'mesos-adapter',
      hint: 'The state file may come from another program; point stateFile at a Berth state store.',
    });
  }
  const raw = json as Omit<TaskSpec, 'resources'> & {
    resources: { requests: ResourceQuantities; limits?: ResourceQuantities };
  };
  return {
    ...raw,
    resources: {
      requests: Resources.fromQuantities(raw.resources.requests),
      ...(raw.resources.limits === undefined
        ? {}
        : { limits: Resources.fromQuantities(raw.resources.limits) }),
    },
  };
}
