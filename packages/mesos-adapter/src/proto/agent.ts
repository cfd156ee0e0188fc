/**
 * The JSON form of the agent operator API messages Berth reads (`POST <agent>/api/v1`,
 * include/mesos/v1/agent/agent.proto): GET_CONTAINERS with each container's ResourceStatistics.
 * Loose like every schema here: unknown fields are kept.
 */
import { z } from 'zod';
import {
  ContainerIDSchema,
  ContainerStatusSchema,
  ExecutorIDSchema,
  FrameworkIDSchema,
  obj,
} from './common.ts';

/** `mesos.v1.ResourceStatistics`: cumulative cpu seconds and current memory of one container. */
export const ResourceStatisticsSchema = obj({
  /** Seconds since the epoch, fractional: when the agent took the sample. */
  timestamp: z.number(),
  processes: z.number().int().optional(),
  threads: z.number().int().optional(),
  /** Cumulative user cpu time (seconds) of every process in the container. */
  cpus_user_time_secs: z.number().optional(),
  /** Cumulative system cpu time (seconds). */
  cpus_system_time_secs: z.number().optional(),
  cpus_limit: z.number().optional(),
  mem_rss_bytes: z.number().optional(),
  mem_total_bytes: z.number().optional(),
  mem_limit_bytes: z.number().optional(),
});
export type ResourceStatistics = z.infer<typeof ResourceStatisticsSchema>;

/** One entry of `GET_CONTAINERS`. Nested containers (task groups) carry a `container_id.parent`. */
export const AgentContainerSchema = obj({
  framework_id: FrameworkIDSchema.optional(),
  executor_id: ExecutorIDSchema.optional(),
  executor_name: z.string().optional(),
  container_id: ContainerIDSchema,
  container_status: ContainerStatusSchema.optional(),
  resource_statistics: ResourceStatisticsSchema.optional(),
});
export type AgentContainer = z.infer<typeof AgentContainerSchema>;

export const GetContainersSchema = obj({ containers: z.array(AgentContainerSchema).optional() });
export type GetContainers = z.infer<typeof GetContainersSchema>;

/** The agent's `Response` for the calls Berth makes. */
export const AgentResponseSchema = z.discriminatedUnion('type', [
  obj({ type: z.literal('GET_CONTAINERS'), get_containers: GetContainersSchema }),
]);
export type AgentResponse = z.infer<typeof AgentResponseSchema>;
