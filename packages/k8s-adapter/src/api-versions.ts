/**
 * Berth serves Kubernetes 1.20 (the control plane built in CI) and today's 1.28+ clusters with the
 * same code by choosing each API group's version from discovery instead of hard-coding it.
 */
import { BerthError } from '@berth/core';

/** The group versions Berth can speak, most preferred first. */
export const SUPPORTED_GROUP_VERSIONS = {
  autoscaling: ['v2', 'v2beta2'],
  'discovery.k8s.io': ['v1', 'v1beta1'],
  policy: ['v1', 'v1beta1'],
  batch: ['v1'],
  apps: ['v1'],
  'coordination.k8s.io': ['v1'],
  'scheduling.k8s.io': ['v1'],
  'metrics.k8s.io': ['v1beta1'],
} as const;

export type ApiGroupName = keyof typeof SUPPORTED_GROUP_VERSIONS;

/** The subset of the `/apis` discovery document (an `APIGroupList`) that version choice needs. */
export interface DiscoveredGroup {
  readonly name: string;
  readonly versions: readonly { readonly groupVersion: string; readonly version: string }[];
}

export type ApiVersionChoice = {
  readonly [G in ApiGroupName]?: (typeof SUPPORTED_GROUP_VERSIONS)[G][number];
};

/** For each group Berth knows, the most preferred version the server serves; groups absent from the server are omitted. */
export function chooseApiVersions(groups: readonly DiscoveredGroup[]): ApiVersionChoice {
  const served = new Map(groups.map((g) => [g.name, new Set(g.versions.map((v) => v.version))]));
  const choice: Record<string, string> = {};
  for (const [group, wanted] of Object.entries(SUPPORTED_GROUP_VERSIONS)) {
    const have = served.get(group);
    const pick = have && wanted.find((v) => have.has(v));
    if (pick) choice[group] = pick;
  }
  return choice as ApiVersionChoice;
}

/** Like `chooseApiVersions(...)[group]` but fails with a clear error when the server serves no usable version. */
export function requireApiVersion<G extends ApiGroupName>(
  choice: ApiVersionChoice,
  group: G,
  feature: string,
): NonNullable<ApiVersionChoice[G]> {
  const v = choice[group];
  if (v === undefined) {
    throw new BerthError(
      'UNSUPPORTED',
      `${feature} needs the ${group} API (${SUPPORTED_GROUP_VERSIONS[group].join(' or ')}), which this cluster does not serve`,
      {
        component: 'k8s-adapter',
        hint: 'Check `kubectl api-versions`; enable the API group or use a newer cluster.',
      },
    );
  }
  return v as NonNullable<ApiVersionChoice[G]>;
}
