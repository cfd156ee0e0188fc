/**
 * Resource scores with the kube-scheduler `noderesources` formulas, integer arithmetic included:
 * LeastAllocated (spread), MostAllocated (binpack), RequestedToCapacityRatio (a shape of points)
 * and BalancedAllocation. "Requested" is what the node already has allocated plus the task's
 * request. A resource the node does not have is left out, and so are GPUs and extended resources
 * the task does not ask for.
 */
import { BerthError, type BerthErrorIssue } from '../../cluster/errors.ts';
import { stateKey } from '../cycle-state.ts';
import type { PlacementContext, PreScorePlugin, ScorePlugin } from '../plugin.ts';
import { MAX_NODE_SCORE } from '../plugin.ts';
import type { JsonValue } from '../registry.ts';
import { SKIP } from '../status.ts';
import type { PlacementTask } from '../task.ts';

export interface ResourceWeight {
  /** `cpu`, `memory`, `disk`, `gpus` or an extended resource name. */
  readonly name: string;
  /** 1–100. */
  readonly weight: number;
}

export interface ShapePoint {
  /** Utilisation in percent, 0–100, strictly increasing along the shape. */
  readonly utilization: number;
  /** 0–10 (scaled to 0–100 like upstream's MaxCustomPriorityScore). */
  readonly score: number;
}

export const DEFAULT_RESOURCE_WEIGHTS: readonly ResourceWeight[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

const COMPONENT = 'core/placement';
const MAX_CUSTOM_PRIORITY_SCORE = 10;
const ALWAYS_SCORED = new Set(['cpu', 'memory', 'disk']);

/** Per task: the columns, requests and weights of the resources that take part. */
interface Active {
  readonly alloc: readonly Float64Array[];
  readonly used: readonly Float64Array[];
  readonly request: readonly number[];
  readonly weight: readonly number[];
  readonly allZero: boolean;
}

function requestOf(task: PlacementTask, name: string): number {
  switch (name) {
    case 'cpu':
      return task.requests.cpu;
    case 'memory':
      return task.requests.memory;
    case 'disk':
      return task.requests.disk;
    case 'gpus':
      return task.requests.gpus;
    default:
      return task.requests.extended.get(name) ?? 0;
  }
}

function active(ctx: PlacementContext, resources: readonly ResourceWeight[]): Active {
  const alloc: Float64Array[] = [];
  const used: Float64Array[] = [];
  const request: number[] = [];
  const weight: number[] = [];
  let allZero = true;
  for (const r of resources) {
    const q = requestOf(ctx.task, r.name);
    if (q !== 0) allZero = false;
    if (q === 0 && !ALWAYS_SCORED.has(r.name)) continue;
    const col = ctx.snapshot.resource(r.name);
    if (col === undefined) continue;
    alloc.push(col.alloc);
    used.push(col.used);
    request.push(q);
    weight.push(r.weight);
  }
  return { alloc, used, request, weight, allZero };
}

function fail(plugin: string, issues: BerthErrorIssue[]): never {
  throw new BerthError(
    'SPEC_INVALID',
    `${plugin} args: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    {
      component: COMPONENT,
      issues,
      hint: 'Give resources as [{ name: "cpu", weight: 1 }, …] with weights from 1 to 100.',
    },
  );
}

function isObject(v: JsonValue | undefined): v is { readonly [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseResources(
  plugin: string,
  args: JsonValue | undefined,
  issues: BerthErrorIssue[],
): ResourceWeight[] {
  if (args === undefined || args === null) return [...DEFAULT_RESOURCE_WEIGHTS];
  if (!isObject(args)) {
    issues.push({ path: '', message: 'args must be an object' });
    return [];
  }
  const list = args.resources;
  if (list === undefined) return [...DEFAULT_RESOURCE_WEIGHTS];
  if (!Array.isArray(list) || list.length === 0) {
    issues.push({ path: 'resources', message: 'must be a non-empty list of { name, weight }' });
    return [];
  }
  const out: ResourceWeight[] = [];
  const seen = new Set<string>();
  (list as readonly JsonValue[]).forEach((r, i) => {
    if (!isObject(r) || typeof r.name !== 'string' || r.name === '') {
      issues.push({ path: `resources[${i}].name`, message: 'needs a resource name such as cpu or memory' });
      return;
    }
    if (seen.has(r.name)) issues.push({ path: `resources[${i}].name`, message: `${r.name} is listed twice` });
    seen.add(r.name);
    const w = r.weight ?? 1;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 100) {
      issues.push({
        path: `resources[${i}].weight`,
        message: `weight must be an integer from 1 to 100, got ${String(w)}`,
      });
      return;
    }
    out.push({ name: r.name, weight: w });
  });
  void plugin;
  return out;
}

/** Upstream `leastRequestedScore`: unused share of the capacity, 0–100. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Upstream `mostRequestedScore`: used share of the capacity, 0–100 (requests above capacity count as full). */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  const r = Math.min(requested, capacity);
  return Math.floor((r * MAX_NODE_SCORE) / capacity);
}

/** Upstream `BuildBrokenLinearFunction` over already scaled points (integer, truncating division). */
export function brokenLinear(shape: readonly ShapePoint[], p: number): number {
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i]!;
    if (p <= s.utilization) {
      if (i === 0) return s.score;
      const prev = shape[i - 1]!;
      return (
        prev.score +
        Math.trunc(((s.score - prev.score) * (p - prev.utilization)) / (s.utilization - prev.utilization))
      );
    }
  }
  return shape[shape.length - 1]!.score;
}

type PerNode = (a: Active, node: number) => number;
/** Optional fast path: scores all candidates, resource by resource (tight loops, no closures per node). */
type AllNodes = (
  a: Active,
  cand: Int32Array,
  count: number,
  out: Float64Array,
  weights: Float64Array,
) => void;

function resourceScorer(
  name: string,
  resources: readonly ResourceWeight[],
  perNode: PerNode,
  skipBestEffort: boolean,
  allNodes?: AllNodes,
) {
  const key = stateKey<Active>(`${name}/active`);
  let weights = new Float64Array(0);
  const get = (ctx: PlacementContext): Active => {
    let a = ctx.state.read(key);
    if (a === undefined) {
      a = active(ctx, resources);
      ctx.state.write(key, a);
    }
    return a;
  };
  return {
    name,
    shapeKey(ctx: PlacementContext) {
      let key = '';
      for (const r of resources) key += `${requestOf(ctx.task, r.name)},`;
      return key;
    },
    preScore(ctx: PlacementContext) {
      return skipBestEffort && get(ctx).allZero ? SKIP : undefined;
    },
    score(ctx: PlacementContext, node: number) {
      return perNode(get(ctx), node);
    },
    scoreAll(ctx: PlacementContext, cand: Int32Array, count: number, out: Float64Array) {
      const a = get(ctx);
      if (allNodes === undefined) {
        for (let k = 0; k < count; k++) out[k] = perNode(a, cand[k]!);
        return;
      }
      if (weights.length < count) weights = new Float64Array(ctx.snapshot.size);
      allNodes(a, cand, count, out, weights);
    },
  } satisfies PreScorePlugin & ScorePlugin;
}

function weightedAverage(score: (requested: number, capacity: number) => number): PerNode {
  return (a, node) => {
    let sum = 0;
    let weights = 0;
    for (let j = 0; j < a.alloc.length; j++) {
      const cap = a.alloc[j]![node]!;
      if (cap === 0) continue;
      const w = a.weight[j]!;
      sum += score(a.used[j]![node]! + a.request[j]!, cap) * w;
      weights += w;
    }
    return weights === 0 ? 0 : Math.floor(sum / weights);
  };
}

/** The weighted average of least- or most-requested scores, one tight loop per resource. */
function weightedAverageAll(most: boolean): AllNodes {
  return (a, cand, count, out, ws) => {
    out.fill(0, 0, count);
    ws.fill(0, 0, count);
    for (let j = 0; j < a.alloc.length; j++) {
      const alloc = a.alloc[j]!;
      const used = a.used[j]!;
      const q = a.request[j]!;
      const w = a.weight[j]!;
      for (let k = 0; k < count; k++) {
        const i = cand[k]!;
        const cap = alloc[i]!;
        if (cap === 0) continue;
        const r = used[i]! + q;
        let s: number;
        if (most) s = Math.floor((Math.min(r, cap) * MAX_NODE_SCORE) / cap);
        else s = r > cap ? 0 : Math.floor(((cap - r) * MAX_NODE_SCORE) / cap);
        out[k]! += s * w;
        ws[k]! += w;
      }
    }
    for (let k = 0; k < count; k++) {
      const w = ws[k]!;
      out[k] = w === 0 ? 0 : Math.floor(out[k]! / w);
    }
  };
}

/** Favours nodes with more room left (Berth's `spread`). Args: `{ resources?: [{ name, weight }] }`. */
export function leastAllocated(args?: JsonValue): PreScorePlugin & ScorePlugin {
  const issues: BerthErrorIssue[] = [];
  const resources = parseResources('LeastAllocated', args, issues);
  if (issues.length > 0) fail('LeastAllocated', issues);
  return resourceScorer(
    'LeastAllocated',
    resources,
    weightedAverage(leastRequestedScore),
    false,
    weightedAverageAll(false),
  );
}

/** Favours fuller nodes (Berth's `binpack`). Args: `{ resources?: [{ name, weight }] }`. */
export function mostAllocated(args?: JsonValue): PreScorePlugin & ScorePlugin {
  const issues: BerthErrorIssue[] = [];
  const resources = parseResources('MostAllocated', args, issues);
  if (issues.length > 0) fail('MostAllocated', issues);
  return resourceScorer(
    'MostAllocated',
    resources,
    weightedAverage(mostRequestedScore),
    false,
    weightedAverageAll(true),
  );
}

/**
 * Scores utilisation through a piecewise-linear shape. Args:
 * `{ resources?: [{ name, weight }], shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] }`.
 */
export function requestedToCapacityRatio(args?: JsonValue): PreScorePlugin & ScorePlugin {
  const issues: BerthErrorIssue[] = [];
  const resources = parseResources('RequestedToCapacityRatio', args, issues);
  const raw = isObject(args) ? args.shape : undefined;
  const shape: ShapePoint[] = [];
  if (!Array.isArray(raw) || raw.length === 0) {
    issues.push({ path: 'shape', message: 'needs at least one point { utilization: 0–100, score: 0–10 }' });
  } else {
    (raw as readonly JsonValue[]).forEach((p, i) => {
      const u = isObject(p) ? p.utilization : undefined;
      const s = isObject(p) ? p.score : undefined;
      if (typeof u !== 'number' || !Number.isInteger(u) || u < 0 || u > 100) {
        issues.push({
          path: `shape[${i}].utilization`,
          message: `must be an integer from 0 to 100, got ${String(u)}`,
        });
        return;
      }
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_CUSTOM_PRIORITY_SCORE) {
        issues.push({
          path: `shape[${i}].score`,
          message: `must be an integer from 0 to 10, got ${String(s)}`,
        });
        return;
      }
      const prev = shape[shape.length - 1];
      if (prev !== undefined && u <= prev.utilization) {
        issues.push({
          path: `shape[${i}].utilization`,
          message: 'utilization must increase strictly along the shape',
        });
        return;
      }
      shape.push({ utilization: u, score: s * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE) });
    });
  }
  if (issues.length > 0) fail('RequestedToCapacityRatio', issues);
  const resourceScore = (requested: number, capacity: number): number => {
    if (capacity === 0 || requested > capacity) return brokenLinear(shape, 100);
    const util = requested >= capacity ? 100 : requested <= 0 ? 0 : Math.floor((requested * 100) / capacity);
    return brokenLinear(shape, util);
  };
  const perNode: PerNode = (a, node) => {
    let sum = 0;
    let weights = 0;
    for (let j = 0; j < a.alloc.length; j++) {
      const cap = a.alloc[j]![node]!;
      if (cap === 0) continue;
      const s = resourceScore(a.used[j]![node]! + a.request[j]!, cap);
      if (s > 0) {
        sum += s * a.weight[j]!;
        weights += a.weight[j]!;
      }
    }
    return weights === 0 ? 0 : Math.round(sum / weights);
  };
  return resourceScorer('RequestedToCapacityRatio', resources, perNode, false);
}

/**
 * Favours nodes whose resources end up used in equal shares: (1 − standard deviation of the
 * requested/allocatable fractions) × 100. Tasks requesting nothing are skipped (as upstream).
 */
export function balancedAllocation(args?: JsonValue): PreScorePlugin & ScorePlugin {
  const issues: BerthErrorIssue[] = [];
  const resources = parseResources('BalancedAllocation', args, issues);
  if (issues.length > 0) fail('BalancedAllocation', issues);
  const fractions: number[] = [];
  const perNode: PerNode = (a, node) => {
    fractions.length = 0;
    let total = 0;
    for (let j = 0; j < a.alloc.length; j++) {
      const cap = a.alloc[j]![node]!;
      if (cap === 0) continue;
      let f = (a.used[j]![node]! + a.request[j]!) / cap;
      if (f > 1) f = 1;
      total += f;
      fractions.push(f);
    }
    let std = 0;
    if (fractions.length === 2) std = Math.abs((fractions[0]! - fractions[1]!) / 2);
    else if (fractions.length > 2) {
      const mean = total / fractions.length;
      let sum = 0;
      for (const f of fractions) sum += (f - mean) * (f - mean);
      std = Math.sqrt(sum / fractions.length);
    }
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  };
  return resourceScorer('BalancedAllocation', resources, perNode, true);
}

export const LeastAllocated = leastAllocated();
export const MostAllocated = mostAllocated();
export const BalancedAllocation = balancedAllocation();
