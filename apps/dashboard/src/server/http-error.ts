/** BerthErrors as JSON HTTP answers: `{ code, message, hint, issues }` with a status per code. */
import { type BerthErrorCode, toBerthError } from '@berth/core';
import type { ApiError, ApiIssue } from '../shared/api.ts';

export const HTTP_STATUS_BY_CODE = {
  SPEC_INVALID: 400,
  AUTH_FAILED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNSCHEDULABLE: 422,
  INTERNAL: 500,
  UNSUPPORTED: 501,
  BACKEND_UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const satisfies Record<BerthErrorCode, number>;

export type ErrorStatus = (typeof HTTP_STATUS_BY_CODE)[BerthErrorCode];

/**
 * The body and status for anything thrown by a handler. Only the code, the message, the hint and
 * the field issues leave the server: `details` and `cause` may carry URLs or backend internals.
 */
export function errorResponse(err: unknown): { status: ErrorStatus; body: ApiError } {
  const e = toBerthError(err, 'dashboard');
  const body: ApiError = {
    code: e.code,
    message: e.message,
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    ...(e.issues.length === 0 ? {} : { issues: e.issues.map(issueView) }),
  };
  return { status: HTTP_STATUS_BY_CODE[e.code], body };
}

/** Path, message and (for spec problems) line and column — nothing else an issue may carry. */
function issueView(i: { readonly path: string; readonly message: string }): ApiIssue {
  const pos = i as { line?: unknown; column?: unknown };
  return {
    path: i.path,
    message: i.message,
    ...(typeof pos.line === 'number' ? { line: pos.line } : {}),
    ...(typeof pos.column === 'number' ? { column: pos.column } : {}),
  };
}
