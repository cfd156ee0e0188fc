export {
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ConformanceCaseId,
  type ConformanceContext,
  type ConformanceTimeouts,
  describeStatus,
} from './cases.ts';
export {
  type ChildFixture,
  type ChildFixtureOptions,
  type ChildFixtureServer,
  serveChildFixture,
  startChildFixture,
} from './child-fixture.ts';
export {
  ConformanceError,
  type ConformanceOptions,
  type ConformanceOutcome,
  describeAdapterConformance,
  runConformanceCase,
} from './conformance.ts';
export {
  type AutoscaledServiceOptions,
  autoscaledServiceDocument,
  type ConformanceCommands,
  type CpuAutoscalingOptions,
  cpuAutoscaling,
  cpuBurnCommand,
  DEFAULT_COMMANDS,
  IMPOSSIBLE_REQUEST,
  SMALL_REQUEST,
  serviceDocument,
  type TaskFixtureOptions,
  taskDocument,
  taskSpec,
} from './fixtures.ts';
export {
  createMemoryAdapter,
  MEMORY_ADAPTER_FAULTS,
  type MemoryAdapterFault,
  type MemoryAdapterOptions,
} from './memory-adapter.ts';
export {
  MemoryCluster,
  type MemoryClusterEvent,
  type MemoryClusterOptions,
  type MemoryLaunch,
  type MemoryLogLine,
  type MemoryNodeInit,
} from './memory-cluster.ts';
export type { BackendProbe } from './probe.ts';
export { type WaitForOptions, WaitForTimeoutError, waitFor } from './wait-for.ts';
