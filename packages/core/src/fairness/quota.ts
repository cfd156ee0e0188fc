/**
 * Per-tenant quota with the Mesos semantics: a *guarantee* is headroom the allocator holds back
 * for a tenant until the tenant uses it (other tenants may not eat into an unmet guarantee), and
 * a *limit* is an allocation the tenant never exceeds. Both name the resources they cover; a
 * resource a quota does not name is neither guaranteed nor limited.
 */
import { BerthError, type BerthErrorIssue } from '../cluster/errors.ts';
import { type ResourceQuantities, Resources } from '../resources/resources.ts';

const COMPONENT = 'core/fairness';

/** Amounts per resource name (`cpu` in millicpu, `memory`/`disk` in bytes, `gpus`, extended). */
export type QuotaAmounts = ReadonlyMap<string, number>;

export interface TenantQuota {
  readonly guarantee: QuotaAmounts;
  readonly limit: QuotaAmounts;
}

/** Quota as written in a profile: Kubernetes quantities (`cpu: "8"`, `memory: "16Gi"`). */
export interface TenantQuotaInput {
  readonly guarantee?: ResourceQuantities;
  readonly limit?: ResourceQuantities;
}

/** The amount of one named resource in `r` (`cpu`, `memory`, `disk`, `gpus` or extended). */
export function resourceAmount(r: Resources, name: string): number {
  switch (name) {
    case 'cpu':
      return r.cpu;
    case 'memory':
      return r.memory;
    case 'disk':
      return r.disk;
    case 'gpus':
      return r.gpus;
    default:
      return r.extendedAmount(name);
  }
}

/** `8`, `16Gi`: an amount of `name` printed the way a user writes it. */
export function formatAmount(name: string, amount: number): string {
  const r =
    name === 'cpu' || name === 'memory' || name === 'disk' || name === 'gpus'
      ? Resources.of({ [name]: amount })
      : Resources.of({ extended: { [name]: amount } });
  const q = r.toQuantities();
  const key = name === 'disk' ? 'ephemeral-storage' : name === 'gpus' ? 'nvidia.com/gpu' : name;
  return q[key] ?? '0';
}

function canonicalName(key: string): string {
  if (key === 'ephemeral-storage') return 'disk';
  if (key === 'nvidia.com/gpu') return 'gpus';
  return key;
}

function parseAmounts(
  q: ResourceQuantities | undefined,
  path: string,
  issues: BerthErrorIssue[],
): Map<string, number> {
  const out = new Map<string, number>();
  if (q === undefined) return out;
  if (typeof q !== 'object' || q === null || Array.isArray(q)) {
    issues.push({ path, message: 'must be an object of quantities, e.g. { cpu: "8", memory: "16Gi" }' });
    return out;
  }
  for (const [key, raw] of Object.entries(q)) {
    if (raw === undefined) continue;
    if (key === 'ports') {
      issues.push({ path: `${path}.ports`, message: 'ports cannot have a quota; remove it' });
      continue;
    }
    try {
      const r = Resources.fromQuantities({ [key]: raw });
      const name = canonicalName(key);
      out.set(name, resourceAmount(r, name));
    } catch (err) {
      issues.push({
        path: `${path}.${key}`,
        message:
          err instanceof BerthError ? err.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '') : String(err),
      });
    }
  }
  return out;
}

/**
 * Checks and converts quotas written as quantities. Throws one SPEC_INVALID listing every
 * problem (bad quantities, a guarantee above the limit of the same resource, as Mesos refuses).
 */
export function parseTenantQuotas(
  input: Readonly<Record<string, TenantQuotaInput>>,
  path = 'tenants',
): Map<string, TenantQuota> {
  const issues: BerthErrorIssue[] = [];
  const out = new Map<string, TenantQuota>();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    issues.push({ path, message: 'must map tenant names to { guarantee, limit }' });
  } else {
    for (const [tenant, q] of Object.entries(input)) {
      const at = `${path}.${tenant}`;
      if (typeof q !== 'object' || q === null) {
        issues.push({ path: at, message: 'must be { guarantee?: {...}, limit?: {...} }' });
        continue;
      }
      for (const key of Object.keys(q)) {
        if (key !== 'guarantee' && key !== 'limit' && key !== 'weight')
          issues.push({ path: `${at}.${key}`, message: `unknown field ${key}; use guarantee or limit` });
      }
      const guarantee = parseAmounts(q.guarantee, `${at}.guarantee`, issues);
      const limit = parseAmounts(q.limit, `${at}.limit`, issues);
      for (const [name, g] of guarantee) {
        const l = limit.get(name);
        if (l !== undefined && g > l) {
          issues.push({
            path: `${at}.guarantee.${name}`,
            message: `guarantee ${formatAmount(name, g)} is above the limit ${formatAmount(name, l)}; lower the guarantee or raise the limit`,
          });
        }
      }
      out.set(tenant, { guarantee, limit });
    }
  }
  if (issues.length > 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `invalid tenant quota: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { component: COMPONENT, issues, hint: 'Write quotas as Kubernetes quantities, guarantee ≤ limit.' },
    );
  }
  return out;
}

export type QuotaViolation =
  | {
      readonly kind: 'limit';
      readonly tenant: string;
      readonly resource: string;
      readonly limit: number;
      readonly allocated: number;
      readonly request: number;
    }
  | {
      readonly kind: 'guarantee';
      readonly tenant: string;
      /** Tenants whose unmet guarantee of `resource` the task would eat into. */
      readonly holders: readonly string[];
      readonly resource: string;
      /** Unallocated amount of `resource` in the cluster. */
      readonly free: number;
      /** Headroom held for the other tenants' unmet guarantees. */
      readonly headroom: number;
      readonly request: number;
    };

function unmet(quota: TenantQuota | undefined, allocation: Resources | undefined, name: string): number {
  const g = quota?.guarantee.get(name);
  if (g === undefined) return 0;
  const used = allocation === undefined ? 0 : resourceAmount(allocation, name);
  return g > used ? g - used : 0;
}

/**
 * Headroom per resource the allocator must keep unallocated: Σ over tenants of
 * max(guarantee − allocation, 0) — Mesos' "required headroom".
 */
export function requiredHeadroom(
  quotas: ReadonlyMap<string, TenantQuota>,
  allocations: ReadonlyMap<string, Resources>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [tenant, q] of quotas) {
    for (const name of q.guarantee.keys()) {
      const u = unmet(q, allocations.get(tenant), name);
      if (u > 0) out.set(name, (out.get(name) ?? 0) + u);
    }
  }
  return out;
}

const NAMES = ['cpu', 'memory', 'disk', 'gpus'] as const;

/**
 * Whether giving `request` to `tenant` respects every quota: the tenant's limit (allocation +
 * request ≤ limit for each resource the limit names) and the other tenants' guarantees (what
 * the request takes beyond the tenant's own unmet guarantee must leave the unallocated pool at
 * least as large as the headroom the other tenants' unmet guarantees hold). A request within the
 * tenant's own unmet guarantee is never refused for headroom. `undefined` when it is allowed.
 */
export function quotaViolation(
  tenant: string,
  request: Resources,
  quotas: ReadonlyMap<string, TenantQuota>,
  allocations: ReadonlyMap<string, Resources>,
  unallocated: Resources,
): QuotaViolation | undefined {
  const own = quotas.get(tenant);
  const mine = allocations.get(tenant);
  if (own !== undefined) {
    for (const [name, limit] of own.limit) {
      const r = resourceAmount(request, name);
      if (r === 0) continue;
      const allocated = mine === undefined ? 0 : resourceAmount(mine, name);
      if (allocated + r > limit)
        return { kind: 'limit', tenant, resource: name, limit, allocated, request: r };
    }
  }
  const names: string[] = [...NAMES, ...request.extended.keys()];
  for (const name of names) {
    const r = resourceAmount(request, name);
    if (r === 0 || r <= unmet(own, mine, name)) continue;
    let headroom = 0;
    const holders: string[] = [];
    for (const [other, q] of quotas) {
      if (other === tenant) continue;
      const u = unmet(q, allocations.get(other), name);
      if (u > 0) {
        headroom += u;
        holders.push(other);
      }
    }
    if (headroom === 0) continue;
    const free = resourceAmount(unallocated, name);
    if (free - r < headroom) {
      return {
        kind: 'guarantee',
        tenant,
        holders: holders.sort(),
        resource: name,
        free,
        headroom,
        request: r,
      };
    }
  }
  return undefined;
}

/**
 * `tenant analytics quota limit cpu 8 reached`, or
 * `cpu 4 held for the guarantee of tenant analytics (free 5, task needs 2)`.
 */
export function formatQuotaViolation(v: QuotaViolation): string {
  if (v.kind === 'limit')
    return `tenant ${v.tenant} quota limit ${v.resource} ${formatAmount(v.resource, v.limit)} reached`;
  const who = v.holders.length === 1 ? `tenant ${v.holders[0]}` : `tenants ${v.holders.join(', ')}`;
  return `${v.resource} ${formatAmount(v.resource, v.headroom)} held for the guarantee of ${who} (free ${formatAmount(v.resource, v.free)}, task needs ${formatAmount(v.resource, v.request)})`;
}
