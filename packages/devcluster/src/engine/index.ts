// Public surface of devcluster/engine; re-exported from the package root.
export {
  createEngine,
  ENGINE_BACKEND,
  ENGINE_REASONS,
  Engine,
  type EngineEvents,
  type EngineFaults,
  type FailNodeOptions,
  type KillOptions,
  type StopOptions,
  startEngine,
} from './engine.ts';
export type { IterateOptions } from './event-log.ts';
export type { FollowOptions, LogChunk } from './log-files.ts';
export { expandGroups, type MachineInfo, NODE_LABELS, presetGroups } from './presets.ts';
export type {
  CapacityInput,
  EngineClock,
  EngineConfig,
  EngineEvent,
  EngineEventType,
  EngineNode,
  EnginePreset,
  EngineTask,
  NodeCondition,
  NodeGroupSpec,
  NodeSpec,
  NodeTaint,
  PortRequest,
  SimulatedBehaviour,
  StatusMatch,
  TaskLaunch,
  TaskMode,
  TaskStats,
} from './types.ts';
