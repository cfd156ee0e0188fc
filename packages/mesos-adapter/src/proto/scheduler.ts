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
  ResourceProviderIDSchema,
  TaskIDSchema,
  TaskStatusSchema,
} from './common.ts';

// --- Events --------------------------------------------------------------------------------------

export const SubscribedSchema = z.looseObject({
  framework_id: FrameworkIDSchema,
  heartbeat_interval_seconds: z.number().optional(),
  master_info: MasterInfoSchema.optional(),
});

/** A union member: `type` plus the field named after it (`UPDATE_OPERATION_STATUS` → `update_operation_status`). */
const event = <const T extends string, S extends z.ZodType>(type: T, schema: S) =>
  z.looseObject({ type: z.literal(type), [type.toLowerCase()]: schema }) as unknown as z.ZodObject<
    { type: z.ZodLiteral<T> } & { [K in Lowercase<T>]: S },
    z.core.$loose
  >;

export const SchedulerEventSchema = z.discriminatedUnion('type', [
  event('SUBSCRIBED', SubscribedSchema),
  event('OFFERS', z.looseObject({ offers: z.array(OfferSchema).optional() })),
  event('INVERSE_OFFERS', z.looseObject({ inverse_offers: z.array(InverseOfferSchema).optional() })),
  event('RESCIND', z.looseObject({ offer_id: OfferIDSchema })),
  event('RESCIND_INVERSE_OFFER', z.looseObject({ inverse_offer_id: OfferIDSchema })),
  event('UPDATE', z.looseObject({ status: TaskStatusSchema })),
  event('UPDATE_OPERATION_STATUS', z.looseObject({ status: z.looseObject({}) })),
  event(
    'MESSAGE',
    z.looseObject({ agent_id: AgentIDSchema, executor_id: ExecutorIDSchema, data: BytesSchema }),
  ),
  event(
    'FAILURE',
    z.looseObject({
      agent_id: AgentIDSchema.optional(),
      executor_id: ExecutorIDSchema.optional(),
      status: z.number().int().optional(),
    }),
  ),
  event('ERROR', z.looseObject({ message: z.string() })),
  z.looseObject({ type: z.literal('HEARTBEAT') }),
]);
export type SchedulerEvent = z.infer<typeof SchedulerEventSchema>;
export type SchedulerEventType = SchedulerEvent['type'];
/** The event of one type, e.g. `SchedulerEventOf<'OFFERS'>`. */
export type SchedulerEventOf<T extends SchedulerEventType> = Extract<SchedulerEvent, { type: T }>;
export type Subscribed = z.infer<typeof SubscribedSchema>;

// --- Calls ---------------------------------------------------------------------------------------

const call = <const T extends string, S extends z.ZodType>(type: T, schema: S) =>
  z.looseObject({
    framework_id: FrameworkIDSchema.optional(),
    type: z.literal(type),
    [type.toLowerCase()]: schema,
  }) as unknown as z.ZodObject<
    { framework_id: z.ZodOptional<typeof FrameworkIDSchema>; type: z.ZodLiteral<T> } & {
      [K in Lowercase<T>]: S;
    },
    z.core.$loose
  >;
const bare = <const T extends string>(type: T) =>
  z.looseObject({ framework_id: FrameworkIDSchema.optional(), type: z.literal(type) });
const rolesSchema = z.looseObject({ roles: z.array(z.string()).optional() });

export const SubscribeSchema = z.looseObject({
  framework_info: FrameworkInfoSchema,
  suppressed_roles: z.array(z.string()).optional(),
  offer_constraints: z.looseObject({}).optional(),
});

export const SchedulerCallSchema = z
  .discriminatedUnion('type', [
    call('SUBSCRIBE', SubscribeSchema),
    bare('TEARDOWN'),
    call(
      'ACCEPT',
      z.looseObject({
        offer_ids: z.array(OfferIDSchema).optional(),
        operations: z.array(OfferOperationSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    call(
      'DECLINE',
      z.looseObject({ offer_ids: z.array(OfferIDSchema).optional(), filters: FiltersSchema.optional() }),
    ),
    call(
      'ACCEPT_INVERSE_OFFERS',
      z.looseObject({
        inverse_offer_ids: z.array(OfferIDSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    call(
      'DECLINE_INVERSE_OFFERS',
      z.looseObject({
        inverse_offer_ids: z.array(OfferIDSchema).optional(),
        filters: FiltersSchema.optional(),
      }),
    ),
    // REVIVE and SUPPRESS carry an optional body (no roles = all of the framework's roles).
    z.looseObject({
      framework_id: FrameworkIDSchema.optional(),
      type: z.literal('REVIVE'),
      revive: rolesSchema.optional(),
    }),
    z.looseObject({
      framework_id: FrameworkIDSchema.optional(),
      type: z.literal('SUPPRESS'),
      suppress: rolesSchema.optional(),
    }),
    call(
      'KILL',
      z.looseObject({
        task_id: TaskIDSchema,
        agent_id: AgentIDSchema.optional(),
        kill_policy: KillPolicySchema.optional(),
      }),
    ),
    call('SHUTDOWN', z.looseObject({ executor_id: ExecutorIDSchema, agent_id: AgentIDSchema })),
    call('ACKNOWLEDGE', z.looseObject({ agent_id: AgentIDSchema, task_id: TaskIDSchema, uuid: BytesSchema })),
    call(
      'ACKNOWLEDGE_OPERATION_STATUS',
      z.looseObject({
        agent_id: AgentIDSchema.optional(),
        resource_provider_id: ResourceProviderIDSchema.optional(),
        uuid: BytesSchema,
        operation_id: OperationIDSchema,
      }),
    ),
    call(
      'RECONCILE',
      z.looseObject({
        tasks: z
          .array(z.looseObject({ task_id: TaskIDSchema, agent_id: AgentIDSchema.optional() }))
          .optional(),
      }),
    ),
    call('RECONCILE_OPERATIONS', z.looseObject({ operations: z.array(z.looseObject({})).optional() })),
    call(
      'MESSAGE',
      z.looseObject({ agent_id: AgentIDSchema, executor_id: ExecutorIDSchema, data: BytesSchema }),
    ),
    call('REQUEST', z.looseObject({ requests: z.array(z.looseObject({})).optional() })),
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
