/**
 * The JSON form of the `mesos.v1` messages Berth reads and writes (include/mesos/v1/mesos.proto).
 *
 * Field names are exactly the protobuf field names, as Mesos' JSON mapping emits them. Every object
 * schema is *loose*: fields Berth does not model are kept as they are, so a parsed message
 * re-serialises to the same JSON. Nothing is defaulted or transformed for the same reason.
 *
 * Encoding rules observed on a real 1.12 master: int64/uint64 arrive as JSON numbers but may be
 * sent as decimal strings (both are accepted and kept as given); `bytes` fields (TaskStatus.uuid,
 * data) are base64 strings; enums are their upper-case names. Enum fields accept any string so a
 * newer master's values pass through; the known names are in the TypeScript types.
 */
import { MESOS_TASK_STATES } from '@berth/core';
import { z } from 'zod';

/**
 * A message schema: unknown fields are kept at runtime (lossless), while the TypeScript type lists
 * only the modelled fields (an index signature would defeat `Omit`, `Pick` and excess-property checks).
 */
export function obj<S extends z.ZodRawShape>(shape: S): z.ZodObject<S, z.core.$strip> {
  return z.looseObject(shape) as unknown as z.ZodObject<S, z.core.$strip>;
}

/**
 * A protobuf int64/uint64: Mesos emits numbers and accepts numbers or decimal strings. Read JSON
 * with `parseMesosJson` so integers beyond 2^53 arrive as exact decimal strings.
 */
export const Int64Schema = z.union([
  z.number().refine(Number.isInteger, 'expected an integer'),
  z.string().regex(/^-?\d+$/, 'expected a decimal integer'),
]);
export type Int64 = z.infer<typeof Int64Schema>;

/** An enum field: the known names for TypeScript, any string at runtime (forward compatible). */
export function openEnum<const T extends readonly string[]>(
  _values: T,
): z.ZodType<T[number] | (string & {})> {
  return z.string() as z.ZodType<T[number] | (string & {})>;
}

/** A protobuf `bytes` field: base64 text in JSON. */
export const BytesSchema = z.string();

const id = () => obj({ value: z.string() });
export const FrameworkIDSchema = id();
export const OfferIDSchema = id();
export const AgentIDSchema = id();
export const TaskIDSchema = id();
export const ExecutorIDSchema = id();
/** `parent` nests further parents; the loose schema keeps them as sent. */
export const ContainerIDSchema = obj({
  value: z.string(),
  parent: obj({ value: z.string() }).optional(),
});
export const OperationIDSchema = id();
export const ResourceProviderIDSchema = id();
export type FrameworkID = z.infer<typeof FrameworkIDSchema>;
export type OfferID = z.infer<typeof OfferIDSchema>;
export type AgentID = z.infer<typeof AgentIDSchema>;
export type TaskID = z.infer<typeof TaskIDSchema>;
export type ExecutorID = z.infer<typeof ExecutorIDSchema>;

export const TimeInfoSchema = obj({ nanoseconds: Int64Schema });
export const DurationInfoSchema = obj({ nanoseconds: Int64Schema });
export type TimeInfo = z.infer<typeof TimeInfoSchema>;
export type DurationInfo = z.infer<typeof DurationInfoSchema>;

export const LabelSchema = obj({ key: z.string(), value: z.string().optional() });
export const LabelsSchema = obj({ labels: z.array(LabelSchema).optional() });
export type Label = z.infer<typeof LabelSchema>;
export type Labels = z.infer<typeof LabelsSchema>;

export const ParameterSchema = obj({ key: z.string(), value: z.string() });

// --- Value -------------------------------------------------------------------------------------

export const VALUE_TYPES = ['SCALAR', 'RANGES', 'SET', 'TEXT'] as const;
export const ValueTypeSchema = openEnum(VALUE_TYPES);
export const ScalarSchema = obj({ value: z.number() });
export const RangeSchema = obj({ begin: Int64Schema, end: Int64Schema });
export const RangesSchema = obj({ range: z.array(RangeSchema).optional() });
export const SetSchema = obj({ item: z.array(z.string()).optional() });
export const TextSchema = obj({ value: z.string() });
export const ValueSchema = obj({
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: SetSchema.optional(),
  text: TextSchema.optional(),
});
export type Scalar = z.infer<typeof ScalarSchema>;
export type Range = z.infer<typeof RangeSchema>;
export type Ranges = z.infer<typeof RangesSchema>;
export type ValueSet = z.infer<typeof SetSchema>;
export type Text = z.infer<typeof TextSchema>;
export type Value = z.infer<typeof ValueSchema>;

// --- Resource, Attribute -------------------------------------------------------------------------

export const AllocationInfoSchema = obj({ role: z.string().optional() });
export const ReservationInfoSchema = obj({
  type: openEnum(['UNKNOWN', 'STATIC', 'DYNAMIC'] as const).optional(),
  role: z.string().optional(),
  principal: z.string().optional(),
  labels: LabelsSchema.optional(),
});
export const ResourceSchema = obj({
  provider_id: ResourceProviderIDSchema.optional(),
  name: z.string(),
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: SetSchema.optional(),
  /** Deprecated (pre-MULTI_ROLE); real masters still send `"*"` next to `allocation_info`. */
  role: z.string().optional(),
  allocation_info: AllocationInfoSchema.optional(),
  reservation: ReservationInfoSchema.optional(),
  reservations: z.array(ReservationInfoSchema).optional(),
  disk: obj({}).optional(),
  revocable: obj({}).optional(),
  shared: obj({}).optional(),
});
export type AllocationInfo = z.infer<typeof AllocationInfoSchema>;
export type ReservationInfo = z.infer<typeof ReservationInfoSchema>;
export type Resource = z.infer<typeof ResourceSchema>;

export const AttributeSchema = obj({
  name: z.string(),
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: SetSchema.optional(),
  text: TextSchema.optional(),
});
export type Attribute = z.infer<typeof AttributeSchema>;

// --- Addresses, masters, agents ----------------------------------------------------------------

export const AddressSchema = obj({
  hostname: z.string().optional(),
  ip: z.string().optional(),
  port: z.number().int(),
});
export const URLSchema = obj({
  scheme: z.string(),
  address: AddressSchema,
  path: z.string().optional(),
  query: z.array(ParameterSchema).optional(),
  fragment: z.string().optional(),
});
export const DomainInfoSchema = obj({
  fault_domain: z
    .looseObject({
      region: obj({ name: z.string() }),
      zone: obj({ name: z.string() }),
    })
    .optional(),
});
const capability = <const T extends readonly string[]>(values: T) =>
  obj({ type: openEnum(values).optional() });

export const MasterInfoSchema = obj({
  id: z.string(),
  /** IPv4 as a uint32 in network byte order read little-endian (127.0.0.1 → 16777343). */
  ip: z.number().int(),
  port: z.number().int(),
  pid: z.string().optional(),
  hostname: z.string().optional(),
  version: z.string().optional(),
  address: AddressSchema.optional(),
  domain: DomainInfoSchema.optional(),
  capabilities: z
    .array(capability(['UNKNOWN', 'AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'] as const))
    .optional(),
});
export type Address = z.infer<typeof AddressSchema>;
export type URL = z.infer<typeof URLSchema>;
export type MasterInfo = z.infer<typeof MasterInfoSchema>;

export const AGENT_CAPABILITIES = [
  'UNKNOWN',
  'MULTI_ROLE',
  'HIERARCHICAL_ROLE',
  'RESERVATION_REFINEMENT',
  'RESOURCE_PROVIDER',
  'RESIZE_VOLUME',
  'AGENT_OPERATION_FEEDBACK',
  'AGENT_DRAINING',
  'TASK_RESOURCE_LIMITS',
] as const;
export const AgentCapabilitySchema = capability(AGENT_CAPABILITIES);
export const AgentInfoSchema = obj({
  hostname: z.string(),
  port: z.number().int().optional(),
  resources: z.array(ResourceSchema).optional(),
  attributes: z.array(AttributeSchema).optional(),
  id: AgentIDSchema.optional(),
  domain: DomainInfoSchema.optional(),
  checkpoint: z.boolean().optional(),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

// --- FrameworkInfo, Filters ----------------------------------------------------------------------

export const FRAMEWORK_CAPABILITIES = [
  'UNKNOWN',
  'REVOCABLE_RESOURCES',
  'TASK_KILLING_STATE',
  'GPU_RESOURCES',
  'SHARED_RESOURCES',
  'PARTITION_AWARE',
  'MULTI_ROLE',
  'RESERVATION_REFINEMENT',
  'REGION_AWARE',
] as const;
export type FrameworkCapabilityType = (typeof FRAMEWORK_CAPABILITIES)[number];
export const FrameworkCapabilitySchema = capability(FRAMEWORK_CAPABILITIES);
export const FrameworkInfoSchema = obj({
  user: z.string(),
  name: z.string(),
  id: FrameworkIDSchema.optional(),
  failover_timeout: z.number().optional(),
  checkpoint: z.boolean().optional(),
  /** Deprecated single role; use `roles` with the MULTI_ROLE capability. */
  role: z.string().optional(),
  roles: z.array(z.string()).optional(),
  hostname: z.string().optional(),
  principal: z.string().optional(),
  webui_url: z.string().optional(),
  capabilities: z.array(FrameworkCapabilitySchema).optional(),
  labels: LabelsSchema.optional(),
  offer_filters: z.record(z.string(), obj({})).optional(),
});
export type FrameworkInfo = z.infer<typeof FrameworkInfoSchema>;

export const FiltersSchema = obj({ refuse_seconds: z.number().optional() });
export type Filters = z.infer<typeof FiltersSchema>;

// --- CommandInfo, ContainerInfo, health, discovery ------------------------------------------------

export const EnvironmentSchema = obj({
  variables: z
    .array(
      obj({
        name: z.string(),
        type: openEnum(['UNKNOWN', 'VALUE', 'SECRET'] as const).optional(),
        value: z.string().optional(),
        secret: obj({}).optional(),
      }),
    )
    .optional(),
});
export const CommandURISchema = obj({
  value: z.string(),
  executable: z.boolean().optional(),
  extract: z.boolean().optional(),
  cache: z.boolean().optional(),
  output_file: z.string().optional(),
});
export const CommandInfoSchema = obj({
  uris: z.array(CommandURISchema).optional(),
  environment: EnvironmentSchema.optional(),
  /** Default true: `value` runs through `/bin/sh -c`. With false, `value` is the executable and `arguments` its argv. */
  shell: z.boolean().optional(),
  value: z.string().optional(),
  arguments: z.array(z.string()).optional(),
  user: z.string().optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;
export type CommandInfo = z.infer<typeof CommandInfoSchema>;

export const NETWORK_PROTOCOLS = ['IPv4', 'IPv6'] as const;
export const ImageSchema = obj({
  type: openEnum(['APPC', 'DOCKER'] as const),
  appc: z
    .looseObject({ name: z.string(), id: z.string().optional(), labels: LabelsSchema.optional() })
    .optional(),
  docker: obj({ name: z.string(), config: obj({}).optional() }).optional(),
  cached: z.boolean().optional(),
});
export const VolumeSchema = obj({
  mode: openEnum(['RW', 'RO'] as const),
  container_path: z.string(),
  host_path: z.string().optional(),
  image: ImageSchema.optional(),
  source: obj({}).optional(),
});
export const PortMappingSchema = obj({
  host_port: z.number().int(),
  container_port: z.number().int(),
  protocol: z.string().optional(),
});
export const NetworkInfoSchema = obj({
  ip_addresses: z
    .array(obj({ protocol: openEnum(NETWORK_PROTOCOLS).optional(), ip_address: z.string().optional() }))
    .optional(),
  name: z.string().optional(),
  groups: z.array(z.string()).optional(),
  labels: LabelsSchema.optional(),
  port_mappings: z.array(PortMappingSchema).optional(),
});
export const ContainerInfoSchema = obj({
  type: openEnum(['DOCKER', 'MESOS'] as const),
  volumes: z.array(VolumeSchema).optional(),
  hostname: z.string().optional(),
  docker: z
    .looseObject({
      image: z.string(),
      network: openEnum(['HOST', 'BRIDGE', 'NONE', 'USER'] as const).optional(),
      port_mappings: z.array(PortMappingSchema).optional(),
      privileged: z.boolean().optional(),
      parameters: z.array(ParameterSchema).optional(),
      force_pull_image: z.boolean().optional(),
    })
    .optional(),
  mesos: obj({ image: ImageSchema.optional() }).optional(),
  network_infos: z.array(NetworkInfoSchema).optional(),
  linux_info: obj({}).optional(),
  rlimit_info: obj({}).optional(),
  tty_info: obj({}).optional(),
});
export type Image = z.infer<typeof ImageSchema>;
export type Volume = z.infer<typeof VolumeSchema>;
export type NetworkInfo = z.infer<typeof NetworkInfoSchema>;
export type ContainerInfo = z.infer<typeof ContainerInfoSchema>;

export const HealthCheckSchema = obj({
  delay_seconds: z.number().optional(),
  interval_seconds: z.number().optional(),
  timeout_seconds: z.number().optional(),
  consecutive_failures: z.number().int().optional(),
  grace_period_seconds: z.number().optional(),
  type: openEnum(['UNKNOWN', 'COMMAND', 'HTTP', 'TCP'] as const).optional(),
  command: CommandInfoSchema.optional(),
  http: z
    .looseObject({
      protocol: openEnum(NETWORK_PROTOCOLS).optional(),
      scheme: z.string().optional(),
      port: z.number().int(),
      path: z.string().optional(),
      statuses: z.array(z.number().int()).optional(),
    })
    .optional(),
  tcp: obj({ protocol: openEnum(NETWORK_PROTOCOLS).optional(), port: z.number().int() }).optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export const CheckInfoSchema = obj({
  type: openEnum(['UNKNOWN', 'COMMAND', 'HTTP', 'TCP'] as const).optional(),
});

export const KillPolicySchema = obj({ grace_period: DurationInfoSchema.optional() });
export type KillPolicy = z.infer<typeof KillPolicySchema>;

export const DISCOVERY_VISIBILITIES = ['FRAMEWORK', 'CLUSTER', 'EXTERNAL'] as const;
export const PortSchema = obj({
  number: z.number().int(),
  name: z.string().optional(),
  protocol: z.string().optional(),
  visibility: openEnum(DISCOVERY_VISIBILITIES).optional(),
  labels: LabelsSchema.optional(),
});
export const DiscoveryInfoSchema = obj({
  visibility: openEnum(DISCOVERY_VISIBILITIES),
  name: z.string().optional(),
  environment: z.string().optional(),
  location: z.string().optional(),
  version: z.string().optional(),
  ports: obj({ ports: z.array(PortSchema).optional() }).optional(),
  labels: LabelsSchema.optional(),
});
export type Port = z.infer<typeof PortSchema>;
export type DiscoveryInfo = z.infer<typeof DiscoveryInfoSchema>;

// --- ExecutorInfo, TaskInfo, TaskStatus, Task ----------------------------------------------------

export const ExecutorInfoSchema = obj({
  type: openEnum(['UNKNOWN', 'DEFAULT', 'CUSTOM'] as const).optional(),
  executor_id: ExecutorIDSchema,
  framework_id: FrameworkIDSchema.optional(),
  command: CommandInfoSchema.optional(),
  container: ContainerInfoSchema.optional(),
  resources: z.array(ResourceSchema).optional(),
  name: z.string().optional(),
  data: BytesSchema.optional(),
  discovery: DiscoveryInfoSchema.optional(),
  shutdown_grace_period: DurationInfoSchema.optional(),
  labels: LabelsSchema.optional(),
});
export type ExecutorInfo = z.infer<typeof ExecutorInfoSchema>;

export const TaskInfoSchema = obj({
  name: z.string(),
  task_id: TaskIDSchema,
  agent_id: AgentIDSchema,
  resources: z.array(ResourceSchema).optional(),
  executor: ExecutorInfoSchema.optional(),
  command: CommandInfoSchema.optional(),
  container: ContainerInfoSchema.optional(),
  health_check: HealthCheckSchema.optional(),
  check: CheckInfoSchema.optional(),
  kill_policy: KillPolicySchema.optional(),
  data: BytesSchema.optional(),
  labels: LabelsSchema.optional(),
  discovery: DiscoveryInfoSchema.optional(),
  max_completion_time: DurationInfoSchema.optional(),
  limits: z.record(z.string(), ScalarSchema).optional(),
});
export type TaskInfo = z.infer<typeof TaskInfoSchema>;
export const TaskGroupInfoSchema = obj({ tasks: z.array(TaskInfoSchema).optional() });
export type TaskGroupInfo = z.infer<typeof TaskGroupInfoSchema>;

/** Every value of `mesos.v1.TaskState`; the list lives in core beside its mapping to Berth's states. */
export const TASK_STATES = MESOS_TASK_STATES;
export type KnownTaskState = (typeof TASK_STATES)[number];
export const TaskStateSchema = openEnum(TASK_STATES);
export type TaskState = z.infer<typeof TaskStateSchema>;

export const TASK_STATUS_SOURCES = ['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR'] as const;

export const ContainerStatusSchema = obj({
  container_id: ContainerIDSchema.optional(),
  network_infos: z.array(NetworkInfoSchema).optional(),
  cgroup_info: obj({}).optional(),
  executor_pid: z.number().int().optional(),
});

export const TaskStatusSchema = obj({
  task_id: TaskIDSchema,
  state: TaskStateSchema,
  message: z.string().optional(),
  source: openEnum(TASK_STATUS_SOURCES).optional(),
  /** A `REASON_*` name, e.g. `REASON_RECONCILIATION`, `REASON_TASK_INVALID`. */
  reason: z.string().optional(),
  data: BytesSchema.optional(),
  agent_id: AgentIDSchema.optional(),
  executor_id: ExecutorIDSchema.optional(),
  /** Seconds since the epoch, fractional. */
  timestamp: z.number().optional(),
  /** Base64; present only on updates that must be acknowledged (echo it unchanged). */
  uuid: BytesSchema.optional(),
  healthy: z.boolean().optional(),
  check_status: obj({}).optional(),
  labels: LabelsSchema.optional(),
  container_status: ContainerStatusSchema.optional(),
  unreachable_time: TimeInfoSchema.optional(),
  limitation: obj({}).optional(),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** A task as the master reports it (operator API, `mesos.v1.Task`). */
export const TaskSchema = obj({
  name: z.string(),
  task_id: TaskIDSchema,
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema.optional(),
  agent_id: AgentIDSchema,
  state: TaskStateSchema,
  resources: z.array(ResourceSchema).optional(),
  statuses: z.array(TaskStatusSchema).optional(),
  status_update_state: TaskStateSchema.optional(),
  status_update_uuid: BytesSchema.optional(),
  labels: LabelsSchema.optional(),
  discovery: DiscoveryInfoSchema.optional(),
  container: ContainerInfoSchema.optional(),
  health_check: HealthCheckSchema.optional(),
  check: CheckInfoSchema.optional(),
  kill_policy: KillPolicySchema.optional(),
  user: z.string().optional(),
  limits: z.record(z.string(), ScalarSchema).optional(),
});
export type Task = z.infer<typeof TaskSchema>;

// --- Offers and operations -----------------------------------------------------------------------

export const OFFER_OPERATION_TYPES = [
  'UNKNOWN',
  'LAUNCH',
  'LAUNCH_GROUP',
  'RESERVE',
  'UNRESERVE',
  'CREATE',
  'DESTROY',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'CREATE_DISK',
  'DESTROY_DISK',
] as const;
export const OfferOperationSchema = obj({
  type: openEnum(OFFER_OPERATION_TYPES),
  id: OperationIDSchema.optional(),
  launch: obj({ task_infos: z.array(TaskInfoSchema).optional() }).optional(),
  launch_group: obj({ executor: ExecutorInfoSchema, task_group: TaskGroupInfoSchema }).optional(),
  reserve: z
    .looseObject({
      source: z.array(ResourceSchema).optional(),
      resources: z.array(ResourceSchema).optional(),
    })
    .optional(),
  unreserve: obj({ resources: z.array(ResourceSchema).optional() }).optional(),
  create: obj({ volumes: z.array(ResourceSchema).optional() }).optional(),
  destroy: obj({ volumes: z.array(ResourceSchema).optional() }).optional(),
});
export type OfferOperation = z.infer<typeof OfferOperationSchema>;

export const OfferSchema = obj({
  id: OfferIDSchema,
  framework_id: FrameworkIDSchema,
  agent_id: AgentIDSchema,
  hostname: z.string(),
  url: URLSchema.optional(),
  domain: DomainInfoSchema.optional(),
  resources: z.array(ResourceSchema).optional(),
  attributes: z.array(AttributeSchema).optional(),
  executor_ids: z.array(ExecutorIDSchema).optional(),
  unavailability: obj({}).optional(),
  allocation_info: AllocationInfoSchema.optional(),
});
export type Offer = z.infer<typeof OfferSchema>;

export const InverseOfferSchema = obj({
  id: OfferIDSchema,
  url: URLSchema.optional(),
  framework_id: FrameworkIDSchema,
  agent_id: AgentIDSchema.optional(),
  unavailability: obj({}),
  resources: z.array(ResourceSchema).optional(),
});
export type InverseOffer = z.infer<typeof InverseOfferSchema>;

export const VersionInfoSchema = obj({
  version: z.string(),
  build_date: z.string().optional(),
  build_time: z.number().optional(),
  build_user: z.string().optional(),
  git_sha: z.string().optional(),
  git_branch: z.string().optional(),
  git_tag: z.string().optional(),
});
export type VersionInfo = z.infer<typeof VersionInfoSchema>;
