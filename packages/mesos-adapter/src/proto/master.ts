/**
 * The JSON form of the operator API (`POST /api/v1`, include/mesos/v1/master/master.proto) that Berth
 * uses, plus the two legacy JSON endpoints it reads (`/version`, `/master/state`).
 * Responses are wrapped as `{"type":"GET_X","get_x":{…}}`.
 */
import { z } from 'zod';
import {
  AgentCapabilitySchema,
  AgentIDSchema,
  AgentInfoSchema,
  DurationInfoSchema,
  ExecutorInfoSchema,
  FrameworkIDSchema,
  FrameworkInfoSchema,
  InverseOfferSchema,
  OfferSchema,
  obj,
  ResourceSchema,
  TaskSchema,
  TaskStateSchema,
  TaskStatusSchema,
  TimeInfoSchema,
  VersionInfoSchema,
} from './common.ts';

/** A union member: `type` plus the field named after it in lower case. */
const member = <const T extends string, S extends z.ZodType>(type: T, schema: S) =>
  obj({ type: z.literal(type), [type.toLowerCase()]: schema }) as unknown as z.ZodObject<
    { type: z.ZodLiteral<T> } & { [K in Lowercase<T>]: S },
    z.core.$strip
  >;
const bare = <const T extends string>(type: T) => obj({ type: z.literal(type) });

// --- Response payloads ---------------------------------------------------------------------------

export const OperatorAgentSchema = obj({
  agent_info: AgentInfoSchema,
  active: z.boolean(),
  deactivated: z.boolean().optional(),
  version: z.string(),
  pid: z.string().optional(),
  registered_time: TimeInfoSchema.optional(),
  reregistered_time: TimeInfoSchema.optional(),
  total_resources: z.array(ResourceSchema).optional(),
  allocated_resources: z.array(ResourceSchema).optional(),
  offered_resources: z.array(ResourceSchema).optional(),
  capabilities: z.array(AgentCapabilitySchema).optional(),
  resource_providers: z.array(obj({})).optional(),
  drain_info: obj({}).optional(),
  estimated_drain_start_time: TimeInfoSchema.optional(),
});
export type OperatorAgent = z.infer<typeof OperatorAgentSchema>;

export const GetAgentsSchema = obj({
  agents: z.array(OperatorAgentSchema).optional(),
  recovered_agents: z.array(AgentInfoSchema).optional(),
});

export const OperatorFrameworkSchema = obj({
  framework_info: FrameworkInfoSchema,
  active: z.boolean(),
  connected: z.boolean(),
  recovered: z.boolean(),
  registered_time: TimeInfoSchema.optional(),
  reregistered_time: TimeInfoSchema.optional(),
  unregistered_time: TimeInfoSchema.optional(),
  offers: z.array(OfferSchema).optional(),
  inverse_offers: z.array(InverseOfferSchema).optional(),
  allocated_resources: z.array(ResourceSchema).optional(),
  offered_resources: z.array(ResourceSchema).optional(),
  offer_constraints: obj({}).optional(),
});
export type OperatorFramework = z.infer<typeof OperatorFrameworkSchema>;

export const GetFrameworksSchema = obj({
  frameworks: z.array(OperatorFrameworkSchema).optional(),
  completed_frameworks: z.array(OperatorFrameworkSchema).optional(),
  recovered_frameworks: z.array(FrameworkInfoSchema).optional(),
});

export const GetTasksSchema = obj({
  pending_tasks: z.array(TaskSchema).optional(),
  tasks: z.array(TaskSchema).optional(),
  unreachable_tasks: z.array(TaskSchema).optional(),
  completed_tasks: z.array(TaskSchema).optional(),
  orphan_tasks: z.array(TaskSchema).optional(),
});

export const GetExecutorsSchema = obj({
  executors: z.array(obj({ executor_info: ExecutorInfoSchema, agent_id: AgentIDSchema })).optional(),
  orphan_executors: z.array(obj({ executor_info: ExecutorInfoSchema, agent_id: AgentIDSchema })).optional(),
});

export const GetStateSchema = obj({
  get_tasks: GetTasksSchema.optional(),
  get_executors: GetExecutorsSchema.optional(),
  get_frameworks: GetFrameworksSchema.optional(),
  get_agents: GetAgentsSchema.optional(),
});

export const GetHealthSchema = obj({ healthy: z.boolean() });
export const GetVersionSchema = obj({ version_info: VersionInfoSchema });
export const GetMetricsSchema = obj({
  metrics: z.array(obj({ name: z.string(), value: z.number().optional() })).optional(),
});

export type GetAgents = z.infer<typeof GetAgentsSchema>;
export type GetFrameworks = z.infer<typeof GetFrameworksSchema>;
export type GetTasks = z.infer<typeof GetTasksSchema>;
export type GetExecutors = z.infer<typeof GetExecutorsSchema>;
export type GetState = z.infer<typeof GetStateSchema>;
export type GetHealth = z.infer<typeof GetHealthSchema>;
export type GetVersion = z.infer<typeof GetVersionSchema>;
export type GetMetrics = z.infer<typeof GetMetricsSchema>;

export const OperatorResponseSchema = z.discriminatedUnion('type', [
  member('GET_HEALTH', GetHealthSchema),
  member('GET_VERSION', GetVersionSchema),
  member('GET_METRICS', GetMetricsSchema),
  member('GET_STATE', GetStateSchema),
  member('GET_AGENTS', GetAgentsSchema),
  member('GET_FRAMEWORKS', GetFrameworksSchema),
  member('GET_EXECUTORS', GetExecutorsSchema),
  member('GET_TASKS', GetTasksSchema),
]);
export type OperatorResponse = z.infer<typeof OperatorResponseSchema>;
export type OperatorResponseType = OperatorResponse['type'];
export type OperatorResponseOf<T extends OperatorResponseType> = Extract<OperatorResponse, { type: T }>;

// --- Calls ---------------------------------------------------------------------------------------

export const OperatorCallSchema = z.discriminatedUnion('type', [
  bare('GET_HEALTH'),
  bare('GET_VERSION'),
  obj({
    type: z.literal('GET_METRICS'),
    get_metrics: obj({ timeout: DurationInfoSchema.optional() }).optional(),
  }),
  bare('GET_STATE'),
  bare('GET_AGENTS'),
  bare('GET_FRAMEWORKS'),
  bare('GET_EXECUTORS'),
  bare('GET_TASKS'),
  bare('SUBSCRIBE'),
]);
export type OperatorCall = z.infer<typeof OperatorCallSchema>;

// --- Events (operator SUBSCRIBE stream) ----------------------------------------------------------

export const OperatorEventSchema = z.discriminatedUnion('type', [
  member(
    'SUBSCRIBED',
    obj({
      get_state: GetStateSchema.optional(),
      heartbeat_interval_seconds: z.number().optional(),
    }),
  ),
  member('TASK_ADDED', obj({ task: TaskSchema })),
  member(
    'TASK_UPDATED',
    obj({ framework_id: FrameworkIDSchema, status: TaskStatusSchema, state: TaskStateSchema }),
  ),
  member('AGENT_ADDED', obj({ agent: OperatorAgentSchema })),
  member('AGENT_REMOVED', obj({ agent_id: AgentIDSchema })),
  member('FRAMEWORK_ADDED', obj({ framework: OperatorFrameworkSchema })),
  member('FRAMEWORK_UPDATED', obj({ framework: OperatorFrameworkSchema })),
  member('FRAMEWORK_REMOVED', obj({ framework_info: FrameworkInfoSchema })),
  bare('HEARTBEAT'),
]);
export type OperatorEvent = z.infer<typeof OperatorEventSchema>;
export type OperatorEventType = OperatorEvent['type'];
export type OperatorEventOf<T extends OperatorEventType> = Extract<OperatorEvent, { type: T }>;

// --- Legacy (non-v1) JSON endpoints --------------------------------------------------------------

/** `GET /version` (also served by agents). */
export const LegacyVersionSchema = VersionInfoSchema;

/** `GET /master/state`: the pre-v1 JSON. Only the fields Berth reads are typed; the rest is kept. */
export const LegacyMasterStateSchema = obj({
  version: z.string(),
  id: z.string(),
  pid: z.string(),
  hostname: z.string().optional(),
  leader: z.string().optional(),
  leader_info: z
    .looseObject({
      id: z.string(),
      pid: z.string().optional(),
      port: z.number().int(),
      hostname: z.string().optional(),
    })
    .optional(),
  elected_time: z.number().optional(),
  start_time: z.number().optional(),
  slaves: z.array(obj({ id: z.string(), hostname: z.string(), pid: z.string().optional() })).optional(),
  frameworks: z.array(obj({ id: z.string(), name: z.string() })).optional(),
});
export type LegacyMasterState = z.infer<typeof LegacyMasterStateSchema>;
