/**
 * The JSON form of `mesos.v1.scheduler.Call` and `Event` (include/mesos/v1/scheduler/scheduler.proto):
 * a `type` plus the one field named after it in snake case (`{"type":"OFFERS","offers":{…}}`).
 */
import { z } from 'zod';
import {
  AgentIDSchema,
  BytesSchema,
  ExecutorIDSchema,
  FiltersSchema,
  FrameworkIDSchema,
  FrameworkInfoSchema,
  InverseOfferSchema,
  KillPolicySchema,
  MasterInfoSchema,
  OfferIDSchema,
  OfferOperationSchema,
  OfferSchema,
  OperationIDSchema,
  obj,
  ResourceProviderIDSchema,
  TaskIDSchema,
  TaskStatusSchema,
} from './common.ts';

// --- Events --------------------------------------------------------------------------------------

export const SubscribedSchema = obj({
  framework_id: FrameworkIDSchema,
  heartbeat_interval_seconds: z.number().optional(),
  master_info: MasterInfoSchema.optional(),
});

/** A union member: `type` plus the field named after it (`UPDATE_OPERATION_STATUS` → `update_operation_status`). */
const event = <const T extends string, S extends z.ZodType>(type: T, schema: S) =>
  obj({ type: z.literal(type), [type.toLowerCase()]: schema }) as unknown as z.ZodObject<
    { type: z.ZodLiteral<T> } & { [K in Lowercase<T>]: S },
    z.core.$strip
  >;

export const SchedulerEventSchema = z.discriminatedUnion('type', [
  event('SUBSCRIBED', SubscribedSchema),
  event('OFFERS', obj({ offers: z.array(OfferSchema).optional() })),
  event('INVERSE_OFFERS', obj({ inverse_offers: z.array(InverseOfferSchema).optional() })),
  event('RESCIND', obj({ offer_id: OfferIDSchema })),
  event('RESCIND_INVERSE_OFFER', obj({ inverse_offer_id: OfferIDSchema })),
  event('UPDATE', obj({ status: TaskStatusSchema })),
  event('UPDATE_OPERATION_STATUS', obj({ status: obj({}) })),
  event('MESSAGE', obj({ agent_id: AgentIDSchema, executor_id: ExecutorIDSchema, data: BytesSchema })),
  event(
    'FAILURE',
    obj({
      agent_id: AgentIDSchema.optional(),
      executor_id: ExecutorIDSchema.optional(),
      status: z.number().int().optional(),
    }),
  ),
  event('ERROR', obj({ message: z.string() })),
  obj({ type: z.literal('HEARTBEAT') }),
]);
export type SchedulerEvent = z.infer<typeof SchedulerEventSchema>;
export type SchedulerEventType = SchedulerEvent['type'];
/** The event of one type, e.g. `SchedulerEventOf<'OFFERS'>`. */
export type SchedulerEventOf<T extends SchedulerEventType> = Extract<SchedulerEvent, { type: T }>;
export type Subscribed = z.infer<typeof SubscribedSchema>;

// --- Calls ---------------------------------------------------------------------------------------

const call = <const T extends string, S extends z.ZodType>(type: T, schema: S) =>
  obj({
    framework_id: FrameworkIDSchema.optional(),
    type: z.literal(type),
    [type.toLowerCase()]: schema,
  }) as unknown as z.ZodObject<
    { framework_id: z.ZodOptional<typeof FrameworkIDSchema>; type: z.ZodLiteral<T> } & {
      [K in Lowercase<T>]: S;
    },
    z.core.$strip
  >;
const bare = <const T extends string>(type: T) =>
  obj({ framework_id: FrameworkIDSchema.optional(), type: z.literal(type) });
const rolesSchema = obj({ roles: z.array(z.string()).optional() });

export const SubscribeSchema = obj({
  framework_info: FrameworkInfoSchema,
  suppressed_roles: z.array(z.string()).optional(),
  offer_constraints: obj({}).optional(),
});

export const SchedulerCallSchema = z
  .discriminatedUnion('type', [
    call('SUBSCRIBE', SubscribeSchema),
    bare('TEARDOWN'),
    call(
      'ACCEPT',
      obj({
        offer_ids: z.array(OfferIDSchema).optional(),
        operations: z.array(OfferOperationSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    call('DECLINE', obj({ offer_ids: z.array(OfferIDSchema).optional(), filters: FiltersSchema.optional() })),
    call(
      'ACCEPT_INVERSE_OFFERS',
      obj({
        inverse_offer_ids: z.array(OfferIDSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    call(
      'DECLINE_INVERSE_OFFERS',
      obj({
        inverse_offer_ids: z.array(OfferIDSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    // REVIVE and SUPPRESS carry an optional body (no roles = all of the framework's roles).
    obj({
      framework_id: FrameworkIDSchema.optional(),
      type: z.literal('REVIVE'),
      revive: rolesSchema.optional(),
    }),
    obj({
      framework_id: FrameworkIDSchema.optional(),
      type: z.literal('SUPPRESS'),
      suppress: rolesSchema.optional(),
    }),
    call(
      'KILL',
      obj({
        task_id: TaskIDSchema,
        agent_id: AgentIDSchema.optional(),
        kill_policy: KillPolicySchema.optional(),
      }),
    ),
    call('SHUTDOWN', obj({ executor_id: ExecutorIDSchema, agent_id: AgentIDSchema })),
    call('ACKNOWLEDGE', obj({ agent_id: AgentIDSchema, task_id: TaskIDSchema, uuid: BytesSchema })),
    call(
      'ACKNOWLEDGE_OPERATION_STATUS',
      obj({
        agent_id: AgentIDSchema.optional(),
        resource_provider_id: ResourceProviderIDSchema.optional(),
        uuid: BytesSchema,
        operation_id: OperationIDSchema,
      }),
    ),
    call(
      'RECONCILE',
      obj({
        tasks: z.array(obj({ task_id: TaskIDSchema, agent_id: AgentIDSchema.optional() })).optional(),
      }),
    ),
    call('RECONCILE_OPERATIONS', obj({ operations: z.array(obj({})).optional() })),
    call('MESSAGE', obj({ agent_id: AgentIDSchema, executor_id: ExecutorIDSchema, data: BytesSchema })),
    call('REQUEST', obj({ requests: z.array(obj({})).optional() })),
    call('UPDATE_FRAMEWORK', SubscribeSchema),
  ])
  .superRefine((value, ctx) => {
    // The two cross-field rules the master enforces on every call (recorded as 400s in fixtures 18, 40).
    if (value.type !== 'SUBSCRIBE') {
      if (value.framework_id === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['framework_id'],
          message: "Expecting 'framework_id' to be present",
        });
      }
      return;
    }
    const top = value.framework_id?.value;
    const inner = value.subscribe.framework_info.id?.value;
    if (top !== inner) {
      ctx.addIssue({
        code: 'custom',
        path: ['framework_id'],
        message:
          "'framework_id' differs from 'subscribe.framework_info.id' (a re-SUBSCRIBE sets both to the same id)",
      });
    }
  });
export type SchedulerCall = z.infer<typeof SchedulerCallSchema>;
export type SchedulerCallType = SchedulerCall['type'];
export type SchedulerCallOf<T extends SchedulerCallType> = Extract<SchedulerCall, { type: T }>;
