// Public surface of core/placement; re-exported from the package root.
export { type Cloneable, CycleState, type StateKey, stateKey } from './cycle-state.ts';
export type {
  Explanation,
  NodeRejection,
  PlacedExplanation,
  PluginScore,
  ReasonCount,
  ScoredNode,
  UnplaceableExplanation,
} from './explanation.ts';
export { type CycleOptions, type CycleResult, Framework, NodeStatuses } from './framework.ts';
export {
  type Placement,
  type PlacementResult,
  type PlaceOptions,
  place,
  resolveFramework,
  type Unplaceable,
} from './place.ts';
export {
  type AnyPlugin,
  type BatchPlugin,
  type FilterPlugin,
  type FrameworkHandle,
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  type NodeStatusMap,
  type PermitPlugin,
  type PlacementContext,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterPlugin,
  type PreScorePlugin,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
  type ShapeAware,
  type WaitingTask,
  type WaitingTasks,
} from './plugin.ts';
export {
  type FairQueueSortArgs,
  FairQueueSortPlugin,
  fairQueueSort,
  placeFairly,
  requestResources,
  TenantLedger,
  TenantQuotaPlugin,
  tenantLedger,
  tenantOf,
  tenantQuota,
} from './plugins/fair-queue.ts';
export { GANG_SIZE_LABEL, GangPlugin, gang, gangTasks } from './plugins/gang.ts';
export { appCounter, evaluateConstraint, MarathonConstraints } from './plugins/marathon-constraints.ts';
/** The NodeAffinity plugin (the constant is suffixed: `NodeAffinity` is the spec type). */
export { NodeAffinityPlugin } from './plugins/node-affinity.ts';
export { NodeUnschedulable, UNSCHEDULABLE_TAINT } from './plugins/node-unschedulable.ts';
export { normalizeMinMax, normalizeToMax } from './plugins/normalize.ts';
export {
  bindPreemption,
  compareCandidates,
  type DefaultPreemptionOptions,
  DefaultPreemptionPlugin,
  type DisruptionBudget,
  defaultPreemption,
  moreImportant,
  type PreemptionCandidate,
} from './plugins/preemption.ts';
export { PrioritySort } from './plugins/priority-sort.ts';
export {
  BalancedAllocation,
  balancedAllocation,
  brokenLinear,
  DEFAULT_RESOURCE_WEIGHTS,
  LeastAllocated,
  leastAllocated,
  leastRequestedScore,
  MostAllocated,
  mostAllocated,
  mostRequestedScore,
  type ResourceWeight,
  requestedToCapacityRatio,
  type ShapePoint,
} from './plugins/resource-scoring.ts';
export { ResourcesFit } from './plugins/resources-fit.ts';
export { TaintToleration } from './plugins/taint-toleration.ts';
export { TaskAffinity } from './plugins/task-affinity.ts';
export {
  BUILT_IN_PROFILES,
  type BuiltInProfileName,
  defaultRegistry,
  isBuiltInProfileName,
} from './profiles.ts';
export {
  type JsonValue,
  type PlacementProfile,
  type PluginFactory,
  PluginRegistry,
  type PluginSetting,
} from './registry.ts';
export { SeededRandom } from './seeded-random.ts';
export {
  matchesLabelSelector,
  matchesNodeSelector,
  matchesNodeSelectorTerm,
  matchesNodeSelectorTerms,
  toleratesTaint,
} from './selectors.ts';
export {
  type AntiAffinityHolder,
  type Assumption,
  type AttributeColumn,
  createSnapshot,
  EVICTABLE,
  EVICTABLE_FIELDS,
  type EvictableByLevel,
  type Eviction,
  type NodeView,
  type PriorityTotals,
  type ResourceColumn,
  type RunningTask,
  Snapshot,
  type SnapshotNodeInput,
  type Taint,
  TaskCounter,
} from './snapshot.ts';
export { snapshotFromCluster } from './snapshot-cluster.ts';
export {
  APP_LABELS,
  type KubernetesNode,
  type KubernetesPod,
  type KubernetesPodAffinityTerm,
  podRequests,
  snapshotFromKubernetes,
} from './snapshot-kubernetes.ts';
export {
  type MesosAttribute,
  type MesosOffer,
  type MesosSnapshotOptions,
  mesosAttributeValue,
  snapshotFromMesosOffers,
} from './snapshot-mesos.ts';
export {
  formatStatus,
  isRejection,
  isSuccess,
  type PluginStatus,
  SKIP,
  STATUS_CODES,
  type Status,
  type StatusCode,
  SUCCESS,
  status,
  unresolvable,
  unschedulable,
  withPlugin,
} from './status.ts';
export {
  type CompiledConstraint,
  createPlacementTask,
  type PlacementPort,
  type PlacementResources,
  type PlacementResourcesInput,
  type PlacementTask,
  type PlacementTaskFromSpecOptions,
  type PlacementTaskInput,
  placementTaskFromSpec,
  type TaskAffinityRule,
} from './task.ts';
