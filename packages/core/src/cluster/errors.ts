/**
 * One error type for every failure Berth reports. A `BerthError` carries a stable `code`
 * (callers switch on it; the CLI maps it to an exit code), a message that says what went
 * wrong and what to do, the part of Berth that raised it, and the underlying cause.
 */

export const BERTH_ERROR_CODES = {
  SPEC_INVALID: { exitCode: 2, summary: 'The spec or the command line is invalid.' },
  UNSCHEDULABLE: { exitCode: 3, summary: 'No node can take the task.' },
  BACKEND_UNAVAILABLE: { exitCode: 4, summary: 'The cluster could not be reached.' },
  AUTH_FAILED: { exitCode: 5, summary: 'The cluster rejected the credentials.' },
  FORBIDDEN: { exitCode: 6, summary: 'The credentials are valid but not allowed to do this.' },
  CONFLICT: { exitCode: 7, summary: 'The object changed or already exists.' },
  NOT_FOUND: { exitCode: 8, summary: 'The object does not exist.' },
  TIMEOUT: { exitCode: 9, summary: 'The operation did not finish in time.' },
  UNSUPPORTED: { exitCode: 10, summary: 'The backend does not support this feature.' },
  INTERNAL: { exitCode: 70, summary: 'A bug in Berth.' },
} as const satisfies Record<string, { exitCode: number; summary: string }>;

export type BerthErrorCode = keyof typeof BERTH_ERROR_CODES;

export const DOCS_BASE_URL = 'https://berth.dev/errors';

/** One problem inside a larger error, e.g. one invalid field of a spec. */
export interface BerthErrorIssue {
  /** Path of the offending field, e.g. `spec.resources.requests.cpu` (empty for the whole input). */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export interface BerthErrorOptions {
  /** The part of Berth that raised the error, e.g. `mesos-adapter`. */
  readonly component?: string;
  /** What to do about it, shown by the CLI under the message. */
  readonly hint?: string;
  /** Field-level problems (SPEC_INVALID collects all of them at once). */
  readonly issues?: readonly BerthErrorIssue[];
  /** Structured context (URL tried, task id, HTTP status...). Never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class BerthError extends Error {
  override readonly name = 'BerthError';
  readonly code: BerthErrorCode;
  readonly component: string | undefined;
  readonly hint: string | undefined;
  readonly issues: readonly BerthErrorIssue[];
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: BerthErrorCode, message: string, options: BerthErrorOptions = {}) {
    const prefix = options.component ? `[berth] [${options.component}] ` : '[berth] ';
    super(prefix + message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.component = options.component;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }

  /** The process exit code the CLI uses for this error. */
  get exitCode(): number {
    return BERTH_ERROR_CODES[this.code].exitCode;
  }

  /** Where the documentation of this error code lives. */
  get docsUrl(): string {
    return `${DOCS_BASE_URL}#${this.code.toLowerCase().replaceAll('_', '-')}`;
  }

  toJSON(): {
    code: BerthErrorCode;
    message: string;
    component?: string;
    hint?: string;
    issues?: BerthErrorIssue[];
    details?: Record<string, unknown>;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.component === undefined ? {} : { component: this.component }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.issues.length === 0 ? {} : { issues: [...this.issues] }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: { ...this.details } }),
    };
  }
}

export function isBerthError(value: unknown, code?: BerthErrorCode): value is BerthError {
  return value instanceof BerthError && (code === undefined || value.code === code);
}

/**
 * Normalise anything thrown at an adapter boundary into a BerthError. BerthErrors pass through;
 * abort/timeouts become TIMEOUT; everything else INTERNAL with the original as `cause`.
 */
export function toBerthError(value: unknown, component?: string): BerthError {
  if (value instanceof BerthError) return value;
  const opts = component === undefined ? { cause: value } : { cause: value, component };
  if (value instanceof Error) {
    if (value.name === 'TimeoutError') return new BerthError('TIMEOUT', value.message, opts);
    if (value.name === 'AbortError') return new BerthError('TIMEOUT', `aborted: ${value.message}`, opts);
    return new BerthError('INTERNAL', value.message, opts);
  }
  return new BerthError('INTERNAL', `unexpected non-error value thrown: ${String(value)}`, opts);
}
