/**
 * Kubernetes API failures as BerthErrors: 401 → AUTH_FAILED, 403 → FORBIDDEN naming the RBAC verb
 * and resource, 404 → NOT_FOUND, 409 → CONFLICT, 410 → the watch window expired, 422/400 →
 * SPEC_INVALID, connection refused → BACKEND_UNAVAILABLE naming the server URL.
 */
import { BerthError, type BerthErrorCode } from '@berth/core';

export const COMPONENT = 'k8s-adapter';

/** The fields of a `metav1.Status` body the mapping reads. */
export interface KubeStatusBody {
  readonly kind?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly retryAfterSeconds?: number; readonly name?: string; readonly kind?: string };
}

/** What RBAC would call this request: `{ verb: 'create', resource: 'pods/binding', namespace }`. */
export interface RbacRequest {
  readonly verb: string;
  readonly resource: string;
  readonly group: string;
  readonly namespace?: string;
}

/** Derives the RBAC verb and resource of a REST call from its method and path. */
export function rbacRequestOf(method: string, path: string, watch = false): RbacRequest {
  const clean = path
    .split('?')[0]!
    .split('/')
    .filter((s) => s !== '');
  let rest: string[];
  let group = '';
  if (clean[0] === 'api') rest = clean.slice(2);
  else {
    group = clean[1] ?? '';
    rest = clean.slice(3);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = rest[2] === undefined ? (rest[0] ?? '') : `${rest[0]}/${rest[2]}`;
  const named = rest[1] !== undefined;
  const verbs: Record<string, string> = {
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: named ? 'delete' : 'deletecollection',
  };
  const verb = method === 'GET' ? (watch ? 'watch' : named ? 'get' : 'list') : (verbs[method] ?? method);
  return { verb, resource, group, ...(namespace === undefined ? {} : { namespace }) };
}

/** An HTTP answer ≥ 400 from the API server, as a BerthError with the Status body in `details`. */
export function kubeHttpError(
  statusCode: number,
  body: unknown,
  method: string,
  path: string,
  server: string,
  watch = false,
): BerthError {
  const status = (typeof body === 'object' && body !== null ? body : {}) as KubeStatusBody;
  const text = typeof body === 'string' ? body.trim() : (status.message ?? '');
  const what = `${method} ${path.split('?')[0]}`;
  const details = { statusCode, method, path: path.split('?')[0], server, reason: status.reason };
  const rbac = rbacRequestOf(method, path, watch);
  let code: BerthErrorCode;
  let message: string;
  let hint: string | undefined;
  switch (statusCode) {
    case 401:
      code = 'AUTH_FAILED';
      message = `the API server ${server} rejected the credentials (${what}: 401 Unauthorized)`;
      hint = 'Refresh the kubeconfig credentials (token, client certificate or exec plugin) and retry.';
      break;
    case 403: {
      code = 'FORBIDDEN';
      const res = rbac.group === '' ? rbac.resource : `${rbac.resource}.${rbac.group}`;
      const ns = rbac.namespace === undefined ? '' : ` in namespace ${rbac.namespace}`;
      message = `not allowed to ${rbac.verb} ${res}${ns}${text === '' ? '' : `: ${text}`}`;
      hint = `Grant the verb "${rbac.verb}" on "${res}" to this identity (a Role/ClusterRole and binding); the package README lists every rule Berth needs.`;
      break;
    }
    case 404:
      code = 'NOT_FOUND';
      message = text === '' ? `${what}: not found` : text;
      break;
    case 409:
      code = 'CONFLICT';
      message = text === '' ? `${what}: conflict` : text;
      hint = 'Read the object again and retry the change.';
      break;
    case 410:
      code = 'CONFLICT';
      message = text === '' ? `${what}: resource version too old (410 Gone)` : text;
      hint = 'List again and watch from the new resource version.';
      break;
    case 400:
    case 422:
      code = 'SPEC_INVALID';
      message = `the API server refused ${what}: ${text || `HTTP ${statusCode}`}`;
      hint = 'Fix the field the message names; Berth validates specs first, so this may be a cluster policy.';
      break;
    case 429:
      code = 'BACKEND_UNAVAILABLE';
      message = `the API server ${server} is throttling requests (${what}: 429 Too Many Requests)`;
      hint = 'Retry later, or raise the API priority and fairness limits for this identity.';
      break;
    case 504:
      code = 'TIMEOUT';
      message = `${what}: the API server timed out${text === '' ? '' : `: ${text}`}`;
      break;
    default:
      code = statusCode >= 500 ? 'BACKEND_UNAVAILABLE' : 'INTERNAL';
      message = `${what}: HTTP ${statusCode}${text === '' ? '' : `: ${text}`}`;
  }
  return new BerthError(code, message, { component: COMPONENT, details, ...(hint ? { hint } : {}) });
}

/** A failure to reach the server at all (connection refused, reset, DNS, TLS). */
export function connectionError(error: unknown, server: string, method: string, path: string): BerthError {
  const errno = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  const refused = errno === 'ECONNREFUSED';
  return new BerthError(
    'BACKEND_UNAVAILABLE',
    refused
      ? `cannot reach the Kubernetes API server at ${server}: connection refused`
      : `cannot reach the Kubernetes API server at ${server}: ${detail}`,
    {
      component: COMPONENT,
      cause: error,
      details: { server, method, path: path.split('?')[0], errno },
      hint: 'Check that the cluster is running and that the kubeconfig context points at it (`kubectl cluster-info`).',
    },
  );
}

/** The HTTP status a mapped error came from (0 when there was no answer). */
export function httpStatusOf(error: unknown): number {
  if (!(error instanceof BerthError)) return 0;
  const s = error.details.statusCode;
  return typeof s === 'number' ? s : 0;
}
