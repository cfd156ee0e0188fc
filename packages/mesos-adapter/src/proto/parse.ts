/**
 * Runtime validation of Mesos JSON against the schemas in this folder. Every parser returns the
 * input's own fields (unknown ones included) and throws one `BerthError` listing every problem,
 * each with its JSON path, when the shape is wrong.
 */
import { BerthError, type BerthErrorCode, type BerthErrorIssue } from '@berth/core';
import type { z } from 'zod';
import { AgentResponseSchema } from './agent.ts';
import { OfferSchema, TaskInfoSchema, TaskStatusSchema } from './common.ts';
import {
  LegacyMasterStateSchema,
  LegacyVersionSchema,
  OperatorCallSchema,
  OperatorEventSchema,
  OperatorResponseSchema,
} from './master.ts';
import { isOffersEvent } from './offers-check.ts';
import { SchedulerCallSchema, type SchedulerEvent, SchedulerEventSchema } from './scheduler.ts';

export interface ParseOptions {
  /** Error code for a shape mismatch (default BACKEND_UNAVAILABLE: the master sent something unexpected). */
  readonly code?: BerthErrorCode;
}

/** Validate `value` against `schema`; `what` names the message in errors, e.g. `scheduler Event`. */
export function parseMesos<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  options: ParseOptions = {},
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: BerthErrorIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const code = options.code ?? 'BACKEND_UNAVAILABLE';
  const first = issues[0];
  const summary = first ? `${first.path === '' ? '(root)' : first.path}: ${first.message}` : 'invalid';
  throw new BerthError(
    code,
    `invalid Mesos ${what}: ${summary}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    {
      component: 'mesos-adapter',
      issues,
      hint:
        code === 'BACKEND_UNAVAILABLE'
          ? 'The master sent JSON Berth does not understand; check that the URL points at a Mesos 1.x master.'
          : `Fix the listed fields of the ${what} (names as in the Mesos v1 protos).`,
    },
  );
}

const received = { code: 'BACKEND_UNAVAILABLE' } as const;
const built = { code: 'SPEC_INVALID' } as const;

/**
 * An OFFERS event that passes the copy-free structural check is returned as it is (the schema would
 * return the same fields); anything else, including every malformed OFFERS event, goes through the
 * schema and its errors.
 */
export const parseSchedulerEvent = (value: unknown): SchedulerEvent =>
  isOffersEvent(value) ? value : parseMesos(SchedulerEventSchema, value, 'scheduler Event', received);
export const parseSchedulerCall = (value: unknown) =>
  parseMesos(SchedulerCallSchema, value, 'scheduler Call', built);
export const parseOperatorResponse = (value: unknown) =>
  parseMesos(OperatorResponseSchema, value, 'operator Response', received);
export const parseOperatorEvent = (value: unknown) =>
  parseMesos(OperatorEventSchema, value, 'operator Event', received);
export const parseOperatorCall = (value: unknown) =>
  parseMesos(OperatorCallSchema, value, 'operator Call', built);
export const parseAgentResponse = (value: unknown) =>
  parseMesos(AgentResponseSchema, value, 'agent Response', received);
export const parseOffer = (value: unknown) => parseMesos(OfferSchema, value, 'Offer', received);
export const parseTaskStatus = (value: unknown) =>
  parseMesos(TaskStatusSchema, value, 'TaskStatus', received);
export const parseTaskInfo = (value: unknown) => parseMesos(TaskInfoSchema, value, 'TaskInfo', built);
export const parseLegacyVersion = (value: unknown) =>
  parseMesos(LegacyVersionSchema, value, '/version response', received);
export const parseLegacyMasterState = (value: unknown) =>
  parseMesos(LegacyMasterStateSchema, value, '/master/state response', received);
