/**
 * `metav1.Status` failures shaped exactly as kube-apiserver sends them: HTTP code, `reason`,
 * the message clients print (`pods "x" not found`), and `details` with kind/name/group/causes.
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Timeout'
  | 'RequestEntityTooLarge';

/** One field-level problem of a 422 Invalid (`details.causes[]`). */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
}

export interface StatusObject {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** A request failure that the HTTP layer turns into a `Status` body with `code` as HTTP status. */
export class KubeStatusError extends Error {
  override readonly name = 'KubeStatusError';
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): StatusObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** The identity apiserver messages use: `pods` or `deployments.apps`. */
export interface ResourceRef {
  readonly group: string;
  readonly plural: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

function refDetails(ref: ResourceRef, name: string): StatusDetails {
  return ref.group === '' ? { name, kind: ref.plural } : { name, group: ref.group, kind: ref.plural };
}

export function successStatus(code = 200, details?: StatusDetails): StatusObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details === undefined ? {} : { details }),
    code,
  };
}

export function notFound(ref: ResourceRef, name: string): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, refDetails(ref, name));
}

/** 404 for a URL that names no resource at all (apiserver answers with a bare message). */
export function pathNotFound(): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(ref: ResourceRef, name: string): KubeStatusError {
  return new KubeStatusError(
    409,
    'AlreadyExists',
    `${qualified(ref)} "${name}" already exists`,
    refDetails(ref, name),
  );
}

export function conflict(ref: ResourceRef, name: string, why: string): KubeStatusError {
  return new KubeStatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
    refDetails(ref, name),
  );
}

export const STALE_OBJECT_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid: `Pod "x" is invalid: spec.containers: Required value` (several: `[a, b]`). */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: readonly StatusCause[],
): KubeStatusError {
  const parts = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`));
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const groupKind = group === '' ? kind : `${kind}.${group}`;
  return new KubeStatusError(422, 'Invalid', `${groupKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, 'BadRequest', message);
}

export function unauthorized(): KubeStatusError {
  return new KubeStatusError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(ref: ResourceRef, name: string, why: string): KubeStatusError {
  const what = name === '' ? qualified(ref) : `${qualified(ref)} "${name}"`;
  return new KubeStatusError(403, 'Forbidden', `${what} is forbidden: ${why}`, refDetails(ref, name));
}

export function methodNotAllowed(): KubeStatusError {
  return new KubeStatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );
}

export function unsupportedMediaType(contentType: string): KubeStatusError {
  return new KubeStatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || 'none'})`,
  );
}

/** 410 Expired, as sent for a watch or list from a resourceVersion outside the retained window. */
export function expired(requested: number, oldest: number): KubeStatusError {
  return new KubeStatusError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/** Field-level cause helpers with the reasons and messages of apimachinery's field.Error. */
export const cause = {
  required(field: string, detail = ''): StatusCause {
    return {
      reason: 'FieldValueRequired',
      message: detail === '' ? 'Required value' : `Required value: ${detail}`,
      field,
    };
  },
  invalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${renderValue(value)}: ${detail}`, field };
  },
  duplicate(field: string, value: unknown): StatusCause {
    return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${renderValue(value)}`, field };
  },
  notSupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${renderValue(value)}: supported values: ${list}`,
      field,
    };
  },
  forbidden(field: string, detail: string): StatusCause {
    return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
  },
} as const;

function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
