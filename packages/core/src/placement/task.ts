/**
 * `PlacementTask`: the engine's input for one task. Built from a validated `TaskSpec` with
 * `placementTaskFromSpec`, or directly with `createPlacementTask` (which checks its input and
 * throws one SPEC_INVALID `BerthError` listing every problem).
 */
import { BerthError, type BerthErrorIssue } from '../cluster/errors.ts';
import type {
  ConstraintOperator,
  LabelSelector,
  MarathonConstraint,
  NodeSelectorTerm,
  PreferredNodeSelectorTerm,
  TaskSpec,
  Toleration,
} from '../spec/index.ts';
import { CONSTRAINT_OPERATORS } from '../spec/index.ts';

/** Amounts in integer base units: millicpu, bytes, whole GPUs, extended units. A `Resources` fits. */
export interface PlacementResources {
  readonly cpu: number;
  readonly memory: number;
  readonly disk: number;
  readonly gpus: number;
  readonly extended: ReadonlyMap<string, number>;
}

/** Any subset of amounts; missing ones are 0. */
export interface PlacementResourcesInput {
  readonly cpu?: number;
  readonly memory?: number;
  readonly disk?: number;
  readonly gpus?: number;
  readonly extended?: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
}

export interface PlacementPort {
  readonly name: string;
  /** Fixed host port; absent = dynamic (taken from the node's free ranges). */
  readonly hostPort?: number;
}

/** A Marathon constraint made ready for evaluation (regex compiled, counts parsed). */
export interface CompiledConstraint {
  readonly field: string;
  readonly operator: ConstraintOperator;
  readonly value?: string;
  /** LIKE/UNLIKE: the value as a full-match regex. */
  readonly regex?: RegExp;
  /** MAX_PER limit, or GROUP_BY minimum group count (0 when absent). */
  readonly count?: number;
  /** `rack:UNIQUE`, `rack:GROUP_BY:3`, as used in reasons. */
  readonly label: string;
}

export interface TaskAffinityRule {
  readonly labelSelector: LabelSelector;
  readonly topologyKey: string;
  /** Tenants whose tasks count; absent = the task's own tenant. */
  readonly tenants?: readonly string[];
  /** Present for preferred (soft) rules. */
  readonly weight?: number;
}

export interface PlacementTask {
  readonly id: string;
  /** The service/app the task belongs to; Marathon constraints count tasks of the same app. */
  readonly app: string;
  readonly tenant: string;
  readonly priority: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: PlacementResources;
  readonly ports: readonly PlacementPort[];
  /** Number of ports without a hostPort. */
  readonly dynamicPorts: number;
  /** The hostPorts asked for, in port order. */
  readonly fixedPorts: readonly number[];
  readonly constraints: readonly CompiledConstraint[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly requiredNodeAffinity?: readonly NodeSelectorTerm[];
  readonly preferredNodeAffinity: readonly PreferredNodeSelectorTerm[];
  readonly taskAffinity: readonly TaskAffinityRule[];
  readonly preferredTaskAffinity: readonly TaskAffinityRule[];
  readonly taskAntiAffinity: readonly TaskAffinityRule[];
  readonly preferredTaskAntiAffinity: readonly TaskAffinityRule[];
  readonly tolerations: readonly Toleration[];
  /** Gang group: tasks of one group are placed all-or-nothing (by a permit plugin). */
  readonly group?: string;
  /** Arrival order, the queue's tie-breaker after priority. */
  readonly sequence: number;
}

export interface PlacementTaskInput {
  readonly id: string;
  readonly app?: string;
  readonly tenant?: string;
  readonly priority?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly requests?: PlacementResourcesInput;
  readonly ports?: readonly PlacementPort[];
  readonly constraints?: readonly MarathonConstraint[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly nodeAffinity?: {
    readonly required?: readonly NodeSelectorTerm[];
    readonly preferred?: readonly PreferredNodeSelectorTerm[];
  };
  readonly taskAffinity?: readonly TaskAffinityRule[];
  readonly taskAntiAffinity?: readonly TaskAffinityRule[];
  readonly tolerations?: readonly Toleration[];
  readonly group?: string;
  readonly sequence?: number;
}

const COMPONENT = 'core/placement';
const EMPTY_MAP: ReadonlyMap<string, number> = new Map();

export function constraintLabel(c: MarathonConstraint): string {
  return c.value === undefined || c.value === ''
    ? `${c.field}:${c.operator}`
    : `${c.field}:${c.operator}:${c.value}`;
}

function compileConstraint(
  c: MarathonConstraint,
  path: string,
  issues: BerthErrorIssue[],
): CompiledConstraint {
  const label = constraintLabel(c);
  const base = {
    field: c.field,
    operator: c.operator,
    label,
    ...(c.value === undefined ? {} : { value: c.value }),
  };
  if (typeof c.field !== 'string' || c.field === '') {
    issues.push({ path: `${path}.field`, message: 'a constraint needs a field, e.g. `hostname` or `rack`' });
  }
  if (!(CONSTRAINT_OPERATORS as readonly string[]).includes(c.operator)) {
    issues.push({
      path: `${path}.operator`,
      message: `unknown operator ${JSON.stringify(c.operator)}; use one of ${CONSTRAINT_OPERATORS.join(', ')}`,
    });
    return base;
  }
  switch (c.operator) {
    case 'LIKE':
    case 'UNLIKE': {
      if (c.value === undefined) {
        issues.push({ path: `${path}.value`, message: `${c.operator} needs a regular expression value` });
        return base;
      }
      try {
        return { ...base, regex: new RegExp(`^(?:${c.value})$`) };
      } catch (err) {
        issues.push({
          path: `${path}.value`,
          message: `invalid regular expression: ${(err as Error).message}`,
        });
        return base;
      }
    }
    case 'MAX_PER':
    case 'GROUP_BY': {
      if (c.value === undefined || c.value === '') {
        if (c.operator === 'MAX_PER')
          issues.push({ path: `${path}.value`, message: 'MAX_PER needs a positive integer value' });
        return { ...base, count: 0 };
      }
      const n = Number(c.value);
      if (!/^\d+$/.test(c.value) || !Number.isSafeInteger(n) || n < 1) {
        issues.push({
          path: `${path}.value`,
          message: `${c.operator} value must be a positive integer, got ${JSON.stringify(c.value)}`,
        });
        return { ...base, count: 0 };
      }
      return { ...base, count: n };
    }
    case 'IS':
      if (c.value === undefined)
        issues.push({ path: `${path}.value`, message: 'IS needs the value to compare with' });
      return base;
    default:
      return base;
  }
}

function amount(v: number | undefined, path: string, issues: BerthErrorIssue[]): number {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v) || v < 0) {
    issues.push({ path, message: `must be a non-negative integer in base units, got ${v}` });
    return 0;
  }
  return v;
}

/** Normalises resource amounts (missing = 0), collecting problems into `issues`. */
export function toPlacementResources(
  input: PlacementResourcesInput | undefined,
  path: string,
  issues: BerthErrorIssue[],
): PlacementResources {
  const ext = input?.extended;
  let extended = EMPTY_MAP;
  if (ext !== undefined) {
    const m = new Map<string, number>();
    const entries = ext instanceof Map ? [...ext.entries()] : Object.entries(ext as Record<string, number>);
    for (const [k, v] of entries) {
      const n = amount(v, `${path}.extended.${k}`, issues);
      if (n > 0) m.set(k, n);
    }
    extended = m;
  }
  return {
    cpu: amount(input?.cpu, `${path}.cpu`, issues),
    memory: amount(input?.memory, `${path}.memory`, issues),
    disk: amount(input?.disk, `${path}.disk`, issues),
    gpus: amount(input?.gpus, `${path}.gpus`, issues),
    extended,
  };
}

let nextSequence = 0;

/** Checks and normalises a task for the engine. Throws SPEC_INVALID listing every problem. */
export function createPlacementTask(input: PlacementTaskInput): PlacementTask {
  const issues: BerthErrorIssue[] = [];
  if (typeof input.id !== 'string' || input.id === '')
    issues.push({ path: 'id', message: 'a task needs a non-empty id' });
  const priority = input.priority ?? 0;
  if (!Number.isSafeInteger(priority))
    issues.push({ path: 'priority', message: `must be an integer, got ${priority}` });
  const requests = toPlacementResources(input.requests, 'requests', issues);
  const ports = input.ports ?? [];
  const fixedPorts: number[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (names.has(p.name))
      issues.push({ path: `ports[${i}].name`, message: `duplicate port name ${p.name}` });
    names.add(p.name);
    if (p.hostPort === undefined) return;
    if (!Number.isInteger(p.hostPort) || p.hostPort < 1 || p.hostPort > 65535) {
      issues.push({ path: `ports[${i}].hostPort`, message: `must be 1–65535, got ${p.hostPort}` });
    } else if (fixedPorts.includes(p.hostPort)) {
      issues.push({ path: `ports[${i}].hostPort`, message: `host port ${p.hostPort} is asked for twice` });
    } else fixedPorts.push(p.hostPort);
  });
  const constraints = (input.constraints ?? []).map((c, i) =>
    compileConstraint(c, `constraints[${i}]`, issues),
  );
  const checkTerms = (terms: readonly NodeSelectorTerm[], path: string) => {
    terms.forEach((t, i) => {
      t.matchExpressions.forEach((e, j) => {
        const p = `${path}[${i}].matchExpressions[${j}]`;
        if ((e.operator === 'In' || e.operator === 'NotIn') && e.values.length === 0)
          issues.push({ path: `${p}.values`, message: `${e.operator} needs at least one value` });
        if (
          (e.operator === 'Gt' || e.operator === 'Lt') &&
          (e.values.length !== 1 || !/^-?\d+$/.test(e.values[0]!))
        )
          issues.push({ path: `${p}.values`, message: `${e.operator} needs exactly one integer value` });
      });
    });
  };
  const required = input.nodeAffinity?.required;
  if (required !== undefined) checkTerms(required, 'nodeAffinity.required');
  const preferred = input.nodeAffinity?.preferred ?? [];
  checkTerms(
    preferred.map((p) => p.preference),
    'nodeAffinity.preferred',
  );
  preferred.forEach((p, i) => {
    if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 100)
      issues.push({
        path: `nodeAffinity.preferred[${i}].weight`,
        message: `weight must be 1–100, got ${p.weight}`,
      });
  });
  const split = (rules: readonly TaskAffinityRule[] | undefined, path: string) => {
    const hard: TaskAffinityRule[] = [];
    const soft: TaskAffinityRule[] = [];
    (rules ?? []).forEach((r, i) => {
      if (r.topologyKey === '')
        issues.push({ path: `${path}[${i}].topologyKey`, message: 'needs a topology key, e.g. `hostname`' });
      if (r.weight === undefined) hard.push(r);
      else if (!Number.isInteger(r.weight) || r.weight < 1 || r.weight > 100)
        issues.push({ path: `${path}[${i}].weight`, message: `weight must be 1–100, got ${r.weight}` });
      else soft.push(r);
    });
    return [hard, soft] as const;
  };
  const [affinity, preferredAffinity] = split(input.taskAffinity, 'taskAffinity');
  const [anti, preferredAnti] = split(input.taskAntiAffinity, 'taskAntiAffinity');
  if (issues.length > 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `task ${input.id}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      {
        component: COMPONENT,
        issues,
        hint: 'Fix the listed fields of the task and place it again.',
      },
    );
  }
  return {
    id: input.id,
    app: input.app ?? input.id,
    tenant: input.tenant ?? 'default',
    priority,
    labels: input.labels ?? {},
    requests,
    ports,
    dynamicPorts: ports.length - fixedPorts.length,
    fixedPorts,
    constraints,
    nodeSelector: input.nodeSelector ?? {},
    ...(required === undefined || required.length === 0 ? {} : { requiredNodeAffinity: required }),
    preferredNodeAffinity: preferred,
    taskAffinity: affinity,
    preferredTaskAffinity: preferredAffinity,
    taskAntiAffinity: anti,
    preferredTaskAntiAffinity: preferredAnti,
    tolerations: input.tolerations ?? [],
    ...(input.group === undefined ? {} : { group: input.group }),
    sequence: input.sequence ?? nextSequence++,
  };
}

export interface PlacementTaskFromSpecOptions {
  /** Extra labels (e.g. `berth.dev/task-id`) merged over the spec's labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Gang group (a JobSpec with `gang: true` puts all its tasks in one group). */
  readonly group?: string;
  readonly sequence?: number;
}

/** The engine's view of one instance `id` of a validated `TaskSpec`; `app` is the spec's name. */
export function placementTaskFromSpec(
  spec: TaskSpec,
  id: string,
  labels?: Readonly<Record<string, string>>,
  options: PlacementTaskFromSpecOptions = {},
): PlacementTask {
  const rule = (
    t: NonNullable<NonNullable<TaskSpec['affinity']>['taskAffinity']>[number],
  ): TaskAffinityRule => ({
    labelSelector: t.labelSelector,
    topologyKey: t.topologyKey,
    ...(t.tenants === undefined ? {} : { tenants: t.tenants }),
    ...(t.required ? {} : { weight: t.weight }),
  });
  const na = spec.affinity?.nodeAffinity;
  return createPlacementTask({
    id,
    app: spec.name,
    tenant: spec.tenant,
    priority: spec.priority,
    labels: { ...spec.labels, ...labels, ...options.labels },
    requests: spec.resources.requests,
    ports: spec.ports.map((p) =>
      p.hostPort === undefined ? { name: p.name } : { name: p.name, hostPort: p.hostPort },
    ),
    constraints: spec.constraints,
    nodeSelector: spec.nodeSelector,
    ...(na === undefined
      ? {}
      : {
          nodeAffinity: {
            ...(na.required === undefined ? {} : { required: na.required }),
            ...(na.preferred === undefined ? {} : { preferred: na.preferred }),
          },
        }),
    taskAffinity: (spec.affinity?.taskAffinity ?? []).map(rule),
    taskAntiAffinity: (spec.affinity?.taskAntiAffinity ?? []).map(rule),
    tolerations: spec.tolerations,
    ...(options.group === undefined ? {} : { group: options.group }),
    ...(options.sequence === undefined ? {} : { sequence: options.sequence }),
  });
}
