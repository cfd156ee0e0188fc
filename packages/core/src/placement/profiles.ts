/**
 * The built-in plugin registry and profiles. Profiles are plain JSON: copy one, change weights or
 * plugins, and pass it to `place`.
 */
import { BerthError } from '../cluster/errors.ts';
import type { AnyPlugin } from './plugin.ts';
import { fairQueueSort, tenantQuota } from './plugins/fair-queue.ts';
import { gang } from './plugins/gang.ts';
import { MarathonConstraints } from './plugins/marathon-constraints.ts';
import { NodeAffinityPlugin } from './plugins/node-affinity.ts';
import { NodeUnschedulable } from './plugins/node-unschedulable.ts';
import { defaultPreemption } from './plugins/preemption.ts';
import { PrioritySort } from './plugins/priority-sort.ts';
import {
  balancedAllocation,
  leastAllocated,
  mostAllocated,
  requestedToCapacityRatio,
} from './plugins/resource-scoring.ts';
import { ResourcesFit } from './plugins/resources-fit.ts';
import { TaintToleration } from './plugins/taint-toleration.ts';
import { TaskAffinity } from './plugins/task-affinity.ts';
import { type JsonValue, type PlacementProfile, PluginRegistry, type PluginSetting } from './registry.ts';

function noArgs(plugin: AnyPlugin) {
  return (args: JsonValue | undefined): AnyPlugin => {
    if (args !== undefined && args !== null) {
      throw new BerthError('SPEC_INVALID', `${plugin.name} takes no args`, {
        component: 'core/placement',
        issues: [{ path: '', message: `${plugin.name} takes no args; remove them` }],
      });
    }
    return plugin;
  };
}

/** A fresh registry holding every built-in plugin; register your own on it. */
export function defaultRegistry(): PluginRegistry {
  return new PluginRegistry()
    .register('PrioritySort', noArgs(PrioritySort))
    .register('NodeUnschedulable', noArgs(NodeUnschedulable))
    .register('TaintToleration', noArgs(TaintToleration))
    .register('NodeAffinity', noArgs(NodeAffinityPlugin))
    .register('ResourcesFit', noArgs(ResourcesFit))
    .register('TaskAffinity', noArgs(TaskAffinity))
    .register('MarathonConstraints', noArgs(MarathonConstraints))
    .register('LeastAllocated', leastAllocated)
    .register('MostAllocated', mostAllocated)
    .register('RequestedToCapacityRatio', requestedToCapacityRatio)
    .register('BalancedAllocation', balancedAllocation)
    .register('FairQueueSort', fairQueueSort)
    .register('TenantQuota', tenantQuota)
    .register('DefaultPreemption', defaultPreemption)
    .register('Gang', gang);
}

/** Queue sort and every hard rule, cheapest and most selective first (as kube-scheduler orders them). */
const BASE: readonly PluginSetting[] = [
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'TaintToleration' },
  { name: 'NodeAffinity' },
  { name: 'ResourcesFit' },
  { name: 'TaskAffinity' },
  { name: 'MarathonConstraints' },
];

export const BUILT_IN_PROFILES = {
  /** Spread load: LeastAllocated over cpu and memory. */
  spread: { name: 'spread', plugins: [...BASE, { name: 'LeastAllocated' }] },
  /** Pack nodes full: MostAllocated over cpu and memory. */
  binpack: { name: 'binpack', plugins: [...BASE, { name: 'MostAllocated' }] },
  /** Keep cpu and memory use of each node in proportion: BalancedAllocation. */
  balanced: { name: 'balanced', plugins: [...BASE, { name: 'BalancedAllocation' }] },
  /** The kube-scheduler default weights: taints 3, node affinity 2, task affinity 2, resources 1 + 1. */
  'kubernetes-default': {
    name: 'kubernetes-default',
    plugins: [
      { name: 'PrioritySort' },
      { name: 'NodeUnschedulable' },
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'ResourcesFit' },
      { name: 'TaskAffinity', weight: 2 },
      { name: 'MarathonConstraints' },
      { name: 'LeastAllocated' },
      { name: 'BalancedAllocation' },
    ],
  },
} as const satisfies Record<string, PlacementProfile>;

export type BuiltInProfileName = keyof typeof BUILT_IN_PROFILES;

export function isBuiltInProfileName(name: string): name is BuiltInProfileName {
  return Object.hasOwn(BUILT_IN_PROFILES, name);
}
