/**
 * The zod schema of Berth documents as users write them: the single source of truth for
 * validation (field formats, ranges, enums, cross-field rules, each message naming the fix) and
 * for the JSON Schema editors use (`berthJsonSchema()`). Normalisation into the `types.ts`
 * shapes happens afterwards in `normalize.ts`.
 *
 * Cross-field checks run with `when: always` and read their input defensively, so a rule is
 * reported even when a sibling field has its own error: every problem is reported at once.
 */
import { z } from 'zod';
import { isBerthError } from '../cluster/errors.ts';
import { GPU_RESOURCE_NAME, parseQuantity, Resources } from '../resources/index.ts';
import { SPEC_DEFAULTS } from './defaults.ts';
import {
  DNS_LABEL,
  DNS_LABEL_MAX,
  ENV_NAME,
  LABEL_KEY,
  LABEL_NAME_MAX,
  LABEL_VALUE,
  labelKeyLengthOk,
  PORT_NAME,
  PORT_NAME_MAX,
  QUANTITY,
} from './patterns.ts';
import { didYouMean } from './suggest.ts';
import {
  API_VERSION,
  CONSTRAINT_OPERATORS,
  LABEL_SELECTOR_OPERATORS,
  NODE_SELECTOR_OPERATORS,
  PRIORITY_CLASSES,
} from './types.ts';

/** Largest replicas / completions / parallelism / maxReplicas a document may ask for. */
export const MAX_REPLICAS = 100_000;
/** Largest duration in seconds any field accepts (one year). */
export const MAX_SECONDS = 31_536_000;
/** Integer priorities above this are reserved for the `system-critical` class (as in Kubernetes). */
export const MAX_USER_PRIORITY = 1_000_000_000;
const MIN_PRIORITY = -2_147_483_648;

/** Resource names Berth knows; others must be qualified extended resources (`example.com/foo`). */
export const KNOWN_RESOURCE_NAMES = [
  'cpu',
  'memory',
  'disk',
  'ephemeral-storage',
  'gpus',
  'nvidia.com/gpu',
] as const;

// ---------------------------------------------------------------------------------------------
// small helpers

/**
 * Run a cross-field check even when sibling fields have errors (so every problem is reported at
 * once), as long as the value itself is a mapping / list; the checks read fields defensively.
 */
const always = { when: (payload: { value: unknown }) => isRecord(payload.value) };
const alwaysForLists = { when: (payload: { value: unknown }) => Array.isArray(payload.value) };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

function lastKey(path: readonly PropertyKey[] | undefined): string {
  const k = path?.at(-1);
  return typeof k === 'string' ? k : '';
}

const seconds = (min: number, max = MAX_SECONDS) => z.int().min(min).max(max);

function dnsLabel(what: string, example: string) {
  return z
    .string()
    .max(DNS_LABEL_MAX, { error: `${what} must be at most ${DNS_LABEL_MAX} characters` })
    .regex(DNS_LABEL, {
      error: (iss) =>
        `${show(iss.input)} is not a valid ${what}: use lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. ${JSON.stringify(example)})`,
    });
}

const labelKey = z
  .string()
  .regex(LABEL_KEY, {
    error: (iss) =>
      `${show(iss.input)} is not a valid label key: use letters, digits, '-', '_' and '.', optionally after a DNS prefix and '/' (e.g. "app" or "example.com/tier")`,
  })
  .refine(labelKeyLengthOk, {
    error: `label key is too long: at most ${LABEL_NAME_MAX} characters after the optional prefix/`,
  });

const labelValue = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number' || typeof iss.input === 'boolean'
        ? `must be a string (got ${show(iss.input)}); quote it: "${String(iss.input)}"`
        : `must be a string (got ${show(iss.input)})`,
  })
  .max(LABEL_NAME_MAX, { error: `label value must be at most ${LABEL_NAME_MAX} characters` })
  .regex(LABEL_VALUE, {
    error: (iss) =>
      `${show(iss.input)} is not a valid label value: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
  });

const labelMap = (description: string) => z.record(labelKey, labelValue).describe(description);

/** Label keys Berth writes itself on tasks, pods and Mesos tasks (task id, service, tenant, spec hash). */
export const RESERVED_LABEL_PREFIX = 'berth.dev/';

/** Labels the user puts on their own tasks: the reserved prefix is refused. */
const ownLabelMap = (description: string) =>
  z
    .record(
      labelKey.refine((k) => !k.startsWith(RESERVED_LABEL_PREFIX), {
        error: (iss) =>
          `${show(iss.input)}: the ${RESERVED_LABEL_PREFIX} prefix is reserved for labels Berth sets (task id, service, tenant, spec hash); use another prefix`,
      }),
      labelValue,
    )
    .describe(description);

// ---------------------------------------------------------------------------------------------
// resources

function quantityExample(resource: string): string {
  if (resource === 'cpu') return '(e.g. "2" or "1500m")';
  if (resource === 'memory' || resource === 'disk' || resource === 'ephemeral-storage')
    return '(e.g. "512Mi" or "2Gi")';
  return '(e.g. 1 or "2")';
}

const notAQuantity = (iss: { input?: unknown; path?: PropertyKey[] | undefined }) =>
  `${show(iss.input)} is not a quantity ${quantityExample(lastKey(iss.path))}`;

const quantityString = z
  .string()
  .regex(QUANTITY, { error: notAQuantity })
  .superRefine((s, ctx) => {
    try {
      parseQuantity(s);
    } catch (err) {
      if (!isBerthError(err)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message.replace(/^\[berth\] (\[[^\]]*\] )?/, '') });
    }
  });

const quantity = z
  .union(
    [quantityString, z.number().min(0, { error: (iss) => `must not be negative (got ${show(iss.input)})` })],
    {
      error: notAQuantity,
    },
  )
  .describe(
    'A Kubernetes quantity: a number, or a string such as "500m", "2", "1.5", "512Mi", "1Gi", "1e3".',
  );

/** A known resource name, or an extended resource qualified by a DNS domain (`example.com/fpga`). */
const RESOURCE_NAME =
  /^(cpu|memory|disk|ephemeral-storage|gpus|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

const resourceName = z.string().regex(RESOURCE_NAME, {
  error: (iss) =>
    `unknown resource ${show(iss.input)}${typeof iss.input === 'string' ? didYouMean(iss.input, KNOWN_RESOURCE_NAMES) : ''}: use cpu, memory, disk, gpus or an extended resource such as "example.com/fpga"`,
});

/** The canonical name of a resource: `gpus` is `nvidia.com/gpu`, `ephemeral-storage` is `disk`. */
export function canonicalResourceName(name: string): string {
  return name === 'gpus' ? GPU_RESOURCE_NAME : name === 'ephemeral-storage' ? 'disk' : name;
}

/** The list as `Resources.fromQuantities` takes it, under canonical names. */
export function toResourceQuantities(list: Record<string, string | number>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(list)) out[canonicalResourceName(k)] = v;
  return out;
}

/** GPUs and extended resources come in whole units, as in Kubernetes. */
function isWhole(v: string | number): boolean {
  if (typeof v === 'number') return Number.isInteger(v);
  try {
    const q = parseQuantity(v);
    return q.scaledValueBig(-3) === q.scaledValueBig(0) * 1000n;
  } catch {
    return true; // reported as "not a quantity"
  }
}

function resourceListProblems(list: Record<string, unknown>): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const seen = new Map<string, string>();
  for (const key of Object.keys(list)) {
    const first = seen.get(canonicalResourceName(key));
    if (first !== undefined)
      problems.push({ path: [key], message: `${first} and ${key} are the same resource: keep one` });
    else seen.set(canonicalResourceName(key), key);
  }
  if (problems.length > 0) return problems;
  for (const [name, v] of Object.entries(list)) {
    if (name === 'cpu' || name === 'memory' || name === 'disk' || name === 'ephemeral-storage') continue;
    if ((typeof v === 'string' || typeof v === 'number') && !isWhole(v))
      problems.push({
        path: [name],
        message: `${name} comes in whole units (got ${show(v)}): use a whole number`,
      });
  }
  if (problems.length > 0) return problems;
  const clean = Object.entries(list).every(
    ([k, v]) =>
      RESOURCE_NAME.test(k) &&
      ((typeof v === 'number' && v >= 0 && Number.isFinite(v)) ||
        (typeof v === 'string' && QUANTITY.test(v))),
  );
  if (!clean) return []; // the entries' own errors are reported
  try {
    Resources.fromQuantities(toResourceQuantities(list as Record<string, string | number>));
    return [];
  } catch (err) {
    if (!isBerthError(err)) throw err;
    // core/resources names the resource as `resources.<name>`: point at that entry.
    const named = /^resources\.([^ ]+?)(?: = |: | must )/.exec(
      err.message.replace(/^\[berth\] (\[[^\]]*\] )?/, ''),
    );
    const name = named?.[1];
    const key =
      name !== undefined && Object.hasOwn(list, name)
        ? name
        : name === GPU_RESOURCE_NAME && Object.hasOwn(list, 'gpus')
          ? 'gpus'
          : undefined;
    const message = err.message
      .replace(/^\[berth\] (\[[^\]]*\] )?/, '')
      .replace(/^resources\.[^ ]+? = /, '')
      .replace(/^resources\.[^ ]+?: /, '');
    return [{ path: key === undefined ? [] : [key], message }];
  }
}

const resourceList = (description: string) =>
  z
    .record(resourceName, quantity)
    .superRefine((list, ctx) => {
      for (const p of resourceListProblems(list))
        ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    }, always)
    .describe(description);

/** A resource's amount in base units for comparison, or undefined when it cannot be parsed. */
function amountOf(name: string, v: unknown): Resources | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return Resources.fromQuantities(toResourceQuantities({ [name]: v }));
  } catch {
    return undefined;
  }
}

/** Entries keyed by the resource they name (`gpus` = `nvidia.com/gpu`, `ephemeral-storage` = `disk`). */
function byCanonicalName(list: Record<string, unknown>): Map<string, [string, unknown]> {
  const out = new Map<string, [string, unknown]>();
  for (const [key, value] of Object.entries(list)) {
    out.set(canonicalResourceName(key), [key, value]);
  }
  return out;
}

const resourcesSchema = z
  .strictObject({
    requests: resourceList(
      'What the task needs to be placed: cpu (cores or millicores), memory and disk (bytes), gpus, extended resources. A resource with only a limit requests that limit.',
    ).optional(),
    limits: resourceList('The most the task may use; never below its request.').optional(),
  })
  .superRefine((r, ctx) => {
    if (!isRecord(r.requests) || !isRecord(r.limits)) return;
    const requests = byCanonicalName(r.requests);
    for (const [canonical, [limitKey, limitValue]] of byCanonicalName(r.limits)) {
      const request = requests.get(canonical);
      if (request === undefined) continue;
      const [requestKey, requestValue] = request;
      const req = amountOf(requestKey, requestValue);
      const lim = amountOf(limitKey, limitValue);
      if (req === undefined || lim === undefined) continue;
      const countable = canonical !== 'cpu' && canonical !== 'memory' && canonical !== 'disk';
      if (countable && !req.equals(lim))
        ctx.addIssue({
          code: 'custom',
          path: ['limits', limitKey],
          message: `${limitKey} cannot be overcommitted: its limit ${show(limitValue)} must equal its request ${show(requestValue)}`,
        });
      else if (!req.fits(lim))
        ctx.addIssue({
          code: 'custom',
          path: ['limits', limitKey],
          message: `limit ${show(limitValue)} is below the request ${show(requestValue)}: raise the limit or lower the request`,
        });
    }
  }, always)
  .describe('Resource requests and limits, as in Kubernetes.');

// ---------------------------------------------------------------------------------------------
// ports

const portNumber = z.int().min(1).max(65535);

const portName = z
  .string()
  .max(PORT_NAME_MAX, { error: `port name must be at most ${PORT_NAME_MAX} characters` })
  .regex(PORT_NAME, {
    error: (iss) =>
      `${show(iss.input)} is not a valid port name: lowercase letters, digits and single '-', at least one letter, at most ${PORT_NAME_MAX} characters (e.g. "http")`,
  });

const portSchema = z
  .strictObject({
    name: portName.describe('Unique name of the port (an IANA service name, e.g. "http").'),
    hostPort: z
      .int()
      .min(1, { error: (iss) => `${show(iss.input)} is not a port: omit hostPort for a dynamic port` })
      .max(65535)
      .optional()
      .describe('A fixed port on the node; omit it for a dynamic port.'),
    containerPort: portNumber
      .optional()
      .describe('The port the process listens on inside its container, when it differs from the host port.'),
    protocol: z.enum(['tcp', 'udp']).default(SPEC_DEFAULTS.protocol).describe('tcp (default) or udp.'),
  })
  .describe('A named port; Marathon-style PORT0..n environment variables carry the host ports.');

const portsSchema = z
  .array(portSchema)
  .superRefine((ports, ctx) => {
    const names = new Map<string, number>();
    const hostPorts = new Map<number, number>();
    ports.forEach((p: unknown, i) => {
      if (!isRecord(p)) return;
      if (typeof p.name === 'string') {
        const first = names.get(p.name);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `port name ${JSON.stringify(p.name)} is already used by ports[${first}]: give each port its own name`,
          });
        else names.set(p.name, i);
      }
      if (typeof p.hostPort === 'number') {
        const first = hostPorts.get(p.hostPort);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'hostPort'],
            message: `host port ${p.hostPort} is already used by ports[${first}]: use another port, or omit hostPort for a dynamic one`,
          });
        else hostPorts.set(p.hostPort, i);
      }
    });
  }, alwaysForLists)
  .describe('Named ports, dynamic (no hostPort) or fixed.');

// ---------------------------------------------------------------------------------------------
// priority

const PRIORITY_CLASS_NAMES = Object.keys(PRIORITY_CLASSES) as (keyof typeof PRIORITY_CLASSES)[];
const classList = PRIORITY_CLASS_NAMES.map((n) => JSON.stringify(n)).join(', ');

const priorityClassName = z.enum(PRIORITY_CLASS_NAMES as [string, ...string[]]);

const prioritySchema = z
  .union(
    [
      z
        .int()
        .min(MIN_PRIORITY)
        .max(MAX_USER_PRIORITY, {
          error: `integer priorities above ${MAX_USER_PRIORITY} are reserved: use "system-critical"`,
        }),
      priorityClassName,
    ],
    {
      error: (iss) =>
        `${show(iss.input)} is not a priority: use an integer or one of ${classList}${typeof iss.input === 'string' ? didYouMean(iss.input, PRIORITY_CLASS_NAMES) : ''}`,
    },
  )
  .describe(
    `Integer (higher is placed first and may preempt lower) or a class: ${PRIORITY_CLASS_NAMES.map((n) => `${n} = ${PRIORITY_CLASSES[n]}`).join(', ')}. Default 0.`,
  );

// ---------------------------------------------------------------------------------------------
// constraints

const constraintValue = z.union([z.string(), z.number()], {
  error: (iss) => `must be a string or a number (got ${show(iss.input)})`,
});

function positiveIntegerString(v: unknown): boolean {
  return (
    (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) ||
    (typeof v === 'string' && /^[1-9]\d{0,8}$/.test(v))
  );
}

const constraintSchema = z
  .tuple(
    [
      z.string().min(1).describe('`hostname` or an agent attribute / node label name.'),
      z.enum(CONSTRAINT_OPERATORS),
      constraintValue.optional(),
    ],
    {
      error: (iss) =>
        iss.code === 'invalid_type'
          ? `a constraint is a list [field, OPERATOR] or [field, OPERATOR, value] (got ${show(iss.input)}), e.g. [hostname, UNIQUE]`
          : 'a constraint is [field, OPERATOR] or [field, OPERATOR, value], e.g. [hostname, UNIQUE] or [rack, GROUP_BY, 3]',
    },
  )
  .superRefine((c, ctx) => {
    const [field, op, value] = c;
    const has = value !== undefined;
    switch (op) {
      case 'UNIQUE':
        if (has)
          ctx.addIssue({
            code: 'custom',
            path: [2],
            message: `UNIQUE takes no value: write [${field}, UNIQUE]`,
          });
        break;
      case 'LIKE':
      case 'UNLIKE':
        if (!has)
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: `${op} needs a regular expression: [${field}, ${op}, "rack-[1-3]"]`,
          });
        else {
          try {
            new RegExp(`^(?:${String(value)})$`);
          } catch (err) {
            ctx.addIssue({
              code: 'custom',
              path: [2],
              message: `${show(value)} is not a valid regular expression (${err instanceof Error ? err.message : String(err)}): fix the pattern`,
            });
          }
        }
        break;
      case 'MAX_PER':
        if (!has || !positiveIntegerString(value))
          ctx.addIssue({
            code: 'custom',
            path: has ? [2] : [],
            message: `MAX_PER needs a positive integer value${has ? ` (got ${show(value)})` : ''}: [${field}, MAX_PER, 2]`,
          });
        break;
      case 'GROUP_BY':
        if (has && !positiveIntegerString(value))
          ctx.addIssue({
            code: 'custom',
            path: [2],
            message: `GROUP_BY's value is the number of groups, a positive integer (got ${show(value)}): [${field}, GROUP_BY, 3]`,
          });
        break;
      case 'IS':
        if (!has)
          ctx.addIssue({ code: 'custom', path: [], message: `IS needs a value: [${field}, IS, "value"]` });
        break;
      case 'CLUSTER':
        break;
    }
  })
  .describe(
    'A Marathon constraint [field, OPERATOR, value?]: UNIQUE, CLUSTER (value optional), GROUP_BY (optional number of groups), LIKE / UNLIKE (regex), MAX_PER (positive integer), IS (exact value).',
  );

// ---------------------------------------------------------------------------------------------
// affinity and tolerations

function requirementValueCheck(r: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const values = Array.isArray(r.values) ? r.values : undefined;
  const op = r.operator;
  if (op === 'In' || op === 'NotIn') {
    if (values === undefined || values.length === 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${op} needs at least one value` });
  } else if (op === 'Exists' || op === 'DoesNotExist') {
    if (values !== undefined && values.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${op} takes no values: remove values`,
      });
  } else if (op === 'Gt' || op === 'Lt') {
    const v = values?.[0];
    if (
      values?.length !== 1 ||
      (typeof v !== 'string' && typeof v !== 'number') ||
      !/^-?\d+$/.test(String(v))
    )
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${op} needs exactly one integer value, e.g. values: ["4"]`,
      });
  }
}

const requirementValues = z.array(
  z.union([z.string(), z.number()], {
    error: (iss) => `must be a string or a number (got ${show(iss.input)})`,
  }),
);

const nodeSelectorRequirement = z
  .strictObject({
    key: labelKey.describe('Node label / agent attribute name.'),
    operator: z
      .enum(NODE_SELECTOR_OPERATORS)
      .describe('In, NotIn (values), Exists, DoesNotExist (no values), Gt, Lt (one integer).'),
    values: requirementValues
      .optional()
      .describe('In/NotIn: one or more; Exists/DoesNotExist: none; Gt/Lt: one integer.'),
  })
  .superRefine((r, ctx) => requirementValueCheck(r, ctx), always);

const nodeSelectorTerm = z
  .strictObject({
    matchExpressions: z.array(nodeSelectorRequirement).min(1).describe('All must match (AND).'),
  })
  .describe('A node selector term; terms in a list are alternatives (OR).');

const weight = z.int().min(1).max(100).describe('1–100, added to the score of nodes that match.');

const nodeAffinity = z.strictObject({
  required: z.array(nodeSelectorTerm).min(1).optional().describe('The node must match one of these terms.'),
  preferred: z
    .array(z.strictObject({ weight, preference: nodeSelectorTerm }))
    .min(1)
    .optional()
    .describe('Nodes matching these terms score higher.'),
});

const labelSelectorRequirement = z
  .strictObject({
    key: labelKey,
    operator: z
      .enum(LABEL_SELECTOR_OPERATORS)
      .describe('In, NotIn (values), Exists, DoesNotExist (no values).'),
    values: requirementValues.optional(),
  })
  .superRefine((r, ctx) => requirementValueCheck(r, ctx), always);

const labelSelector = z
  .strictObject({
    matchLabels: labelMap('Labels the other tasks must all have.').optional(),
    matchExpressions: z
      .array(labelSelectorRequirement)
      .optional()
      .describe('Expressions the labels must all match.'),
  })
  .superRefine((s, ctx) => {
    const n =
      (isRecord(s.matchLabels) ? Object.keys(s.matchLabels).length : 0) +
      (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0);
    if (n === 0)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          'an empty labelSelector selects nothing useful: add matchLabels (e.g. {app: web}) or matchExpressions',
      });
  }, always);

const taskAffinityTerm = z
  .strictObject({
    labelSelector: labelSelector.describe('Selects the other tasks by their labels.'),
    topologyKey: labelKey.describe(
      'Node label / agent attribute defining a domain: hostname, topology.kubernetes.io/zone, rack...',
    ),
    tenants: z
      .array(dnsLabel('tenant', 'team-a'))
      .min(1)
      .optional()
      .describe('Tenants whose tasks count; default: own.'),
    weight: weight.optional().describe('Absent: a hard rule. 1–100: a soft preference with this weight.'),
  })
  .describe('Task (pod) affinity term: tasks matching labelSelector in the same topology domain.');

const affinitySchema = z.strictObject({
  nodeAffinity: nodeAffinity.optional().describe('Rules on node labels / agent attributes.'),
  taskAffinity: z
    .array(taskAffinityTerm)
    .min(1)
    .optional()
    .describe('Place near tasks matching these terms.'),
  taskAntiAffinity: z
    .array(taskAffinityTerm)
    .min(1)
    .optional()
    .describe('Place away from tasks matching these terms.'),
});

const tolerationSchema = z
  .strictObject({
    key: labelKey.optional().describe('Taint key; absent with operator Exists tolerates every taint.'),
    operator: z
      .enum(['Equal', 'Exists'])
      .default('Equal')
      .describe('Equal: the taint has this key and value. Exists: any taint with this key.'),
    value: z.string().optional().describe('Taint value, with operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Absent: all effects.'),
    tolerationSeconds: z.int().min(0).max(MAX_SECONDS).optional().describe('Only with effect NoExecute.'),
  })
  .superRefine((t, ctx) => {
    const op = t.operator ?? 'Equal';
    if ((t.key === undefined || t.key === '') && op !== 'Exists')
      ctx.addIssue({
        code: 'custom',
        path: ['operator'],
        message: 'a toleration without a key must use operator Exists (it then tolerates every taint)',
      });
    if (op === 'Exists' && t.value !== undefined && t.value !== '')
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: 'operator Exists takes no value: remove value',
      });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      ctx.addIssue({
        code: 'custom',
        path: ['tolerationSeconds'],
        message: 'tolerationSeconds only applies to effect NoExecute: set effect: NoExecute or remove it',
      });
  }, always)
  .describe('A Kubernetes toleration.');

// ---------------------------------------------------------------------------------------------
// restart policy and health check

const backoff = {
  backoffSeconds: seconds(1, 86_400)
    .optional()
    .describe(`First retry delay; doubles each time. Default ${SPEC_DEFAULTS.backoffSeconds}.`),
  maxBackoffSeconds: seconds(1, 86_400)
    .optional()
    .describe(`Cap on the retry delay. Default ${SPEC_DEFAULTS.maxBackoffSeconds}.`),
};

const restartPolicyObject = z
  .discriminatedUnion(
    'policy',
    [
      z.strictObject({ policy: z.literal('never').describe('Never restart.') }),
      z.strictObject({
        policy: z.literal('on-failure').describe('Restart after a failure, up to maxRetries times.'),
        maxRetries: z.int().min(0).max(10_000).optional().describe(`Default ${SPEC_DEFAULTS.maxRetries}.`),
        ...backoff,
      }),
      z.strictObject({ policy: z.literal('always').describe('Restart whenever the task ends.'), ...backoff }),
    ],
    {
      error: (iss) => {
        const policy = isRecord(iss.input) ? iss.input.policy : iss.input;
        return `${show(policy)} is not a restart policy: use never, on-failure or always${typeof policy === 'string' ? didYouMean(policy, ['never', 'on-failure', 'always']) : ''}`;
      },
    },
  )
  .superRefine((p, ctx) => {
    if (p.policy === 'never') return;
    const b = p.backoffSeconds ?? SPEC_DEFAULTS.backoffSeconds;
    const m = p.maxBackoffSeconds ?? SPEC_DEFAULTS.maxBackoffSeconds;
    if (m < b)
      ctx.addIssue({
        code: 'custom',
        path: [p.maxBackoffSeconds === undefined ? 'backoffSeconds' : 'maxBackoffSeconds'],
        message: `maxBackoffSeconds (${m}) must be at least backoffSeconds (${b})`,
      });
  });

export const restartPolicySchema = z
  .union([z.enum(['never', 'on-failure', 'always']), restartPolicyObject], {
    error: (iss) =>
      `${show(iss.input)} is not a restart policy: use never, on-failure or always${typeof iss.input === 'string' ? didYouMean(iss.input, ['never', 'on-failure', 'always']) : ''}`,
  })
  .describe(
    'never | on-failure | always, or {policy, maxRetries, backoffSeconds, maxBackoffSeconds}. Default: never for a Task, always for a Service, on-failure for a Job.',
  );

const portRef = z
  .union([portName, portNumber], {
    error: (iss) => `${show(iss.input)} is not a port: use a declared port name or a port number (1-65535)`,
  })
  .describe('A declared port name or a container port number.');

export const healthCheckSchema = z
  .strictObject({
    command: z.string().min(1).optional().describe('Healthy when this shell command exits 0.'),
    http: z
      .strictObject({
        port: portRef,
        path: z
          .string()
          .regex(/^\//, { error: (iss) => `${show(iss.input)} must start with "/" (e.g. "/healthz")` })
          .default(SPEC_DEFAULTS.httpPath)
          .describe('Path to GET.'),
        scheme: z.enum(['http', 'https']).default(SPEC_DEFAULTS.httpScheme).describe('http or https.'),
      })
      .optional()
      .describe('Healthy on an HTTP status 200–399.'),
    tcp: z.strictObject({ port: portRef }).optional().describe('Healthy when a TCP connection opens.'),
    intervalSeconds: seconds(1, 86_400)
      .default(SPEC_DEFAULTS.healthCheck.intervalSeconds)
      .describe('Seconds between checks.'),
    timeoutSeconds: seconds(1, 86_400)
      .default(SPEC_DEFAULTS.healthCheck.timeoutSeconds)
      .describe('Seconds before a check counts as failed.'),
    gracePeriodSeconds: seconds(0, 86_400)
      .default(SPEC_DEFAULTS.healthCheck.gracePeriodSeconds)
      .describe('Failures during this time after start are not counted.'),
    maxConsecutiveFailures: z
      .int()
      .min(1)
      .max(1000)
      .default(SPEC_DEFAULTS.healthCheck.maxConsecutiveFailures)
      .describe('Failures in a row after which the task is killed (and restarted by its policy).'),
  })
  .superRefine((h, ctx) => {
    const kinds = (['command', 'http', 'tcp'] as const).filter((k) => h[k] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          kinds.length === 0
            ? 'a health check needs one of command, http or tcp'
            : `a health check has exactly one of command, http or tcp (got ${kinds.join(' and ')}): keep one`,
      });
  }, always)
  .describe('One probe (command, http or tcp) and its timing.');

// ---------------------------------------------------------------------------------------------
// task

const envValue = z.union([z.string(), z.number(), z.boolean()], {
  error: (iss) => `must be a string, number or boolean (got ${show(iss.input)})`,
});

const envName = z.string().regex(ENV_NAME, {
  error: (iss) =>
    `${show(iss.input)} is not a valid environment variable name: letters, digits and '_', not starting with a digit`,
});

function taskChecks(t: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(t)) return;
  if (t.command === undefined && t.args === undefined && t.image === undefined)
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'nothing to run: set command (e.g. command: "./server"), args, or image',
    });
  if (t.priority !== undefined && t.priorityClassName !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['priorityClassName'],
      message: 'set either priority or priorityClassName, not both',
    });
  const hc = t.healthCheck;
  if (isRecord(hc)) {
    const ports = Array.isArray(t.ports) ? t.ports : [];
    const names = [
      ...new Set(ports.flatMap((p: unknown) => (isRecord(p) && typeof p.name === 'string' ? [p.name] : []))),
    ];
    for (const kind of ['http', 'tcp'] as const) {
      const probe = hc[kind];
      if (isRecord(probe) && typeof probe.port === 'string' && !names.includes(probe.port))
        ctx.addIssue({
          code: 'custom',
          path: ['healthCheck', kind, 'port'],
          message:
            names.length === 0
              ? `port ${JSON.stringify(probe.port)} is not declared: add it under ports or use a port number`
              : `port ${JSON.stringify(probe.port)} is not declared${didYouMean(probe.port, names)}: use one of ${names.map((n) => JSON.stringify(n)).join(', ')} or a port number`,
        });
    }
  }
}

export const taskSpecSchema = z
  .strictObject({
    command: z.string().min(1).optional().describe('Shell command line (run with sh -c).'),
    args: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        "Argument vector: the container's args with an image, else the executable and its arguments.",
      ),
    image: z
      .string()
      .regex(/^\S+$/, { error: (iss) => `${show(iss.input)} is not an image reference (e.g. "nginx:1.27")` })
      .optional()
      .describe(
        'Container image, e.g. "nginx:1.27". Without it the command runs on the host (Mesos) or a default image.',
      ),
    env: z
      .record(envName, envValue)
      .optional()
      .describe('Environment variables; numbers and booleans become strings.'),
    resources: resourcesSchema.optional(),
    ports: portsSchema.optional(),
    priority: prioritySchema.optional(),
    priorityClassName: priorityClassName
      .optional()
      .describe('A named priority class; alternative to priority.'),
    constraints: z.array(constraintSchema).optional().describe('Marathon-style placement constraints.'),
    nodeSelector: labelMap('Node labels / agent attributes the node must have (exact values).').optional(),
    affinity: affinitySchema
      .optional()
      .describe('Kubernetes-style node affinity and task (pod) (anti-)affinity.'),
    tolerations: z.array(tolerationSchema).optional().describe('Taints this task tolerates.'),
    restartPolicy: restartPolicySchema.optional(),
    healthCheck: healthCheckSchema.optional(),
    killGracePeriodSeconds: seconds(0)
      .default(SPEC_DEFAULTS.killGracePeriodSeconds)
      .describe('Seconds between SIGTERM and SIGKILL.'),
    labels: ownLabelMap('Labels of the task, over metadata.labels.').optional(),
  })
  .superRefine(taskChecks, always)
  .describe('What to run and how to place it.');

// ---------------------------------------------------------------------------------------------
// documents

const metadataSchema = z
  .strictObject({
    name: dnsLabel('name', 'web').describe(
      'Name of the task, service or job: a DNS-1123 label, unique per kind and tenant.',
    ),
    tenant: dnsLabel('tenant', 'team-a')
      .default(SPEC_DEFAULTS.tenant)
      .describe('Mesos role and Kubernetes namespace. Default "default".'),
    labels: ownLabelMap('Labels of the document; tasks inherit them.').optional(),
    annotations: z.record(labelKey, z.string()).optional().describe('Free-form notes for tools.'),
  })
  .describe('Name, tenant and labels.');

const apiVersion = z.literal(API_VERSION, {
  error: (iss) =>
    iss.input === undefined
      ? `is required: apiVersion: ${API_VERSION}`
      : `must be ${JSON.stringify(API_VERSION)} (got ${show(iss.input)})`,
});

const replicas = (description: string) => z.int().min(0).max(MAX_REPLICAS).describe(description);

const scalingRules = z.strictObject({
  stabilizationWindowSeconds: seconds(0, 3600)
    .optional()
    .describe('Use the most conservative recommendation of this window. Default 0 up, 300 down.'),
  selectPolicy: z
    .enum(['Max', 'Min', 'Disabled'])
    .default('Max')
    .describe('Use the policy allowing the most (Max) or least (Min) change, or none (Disabled).'),
  policies: z
    .array(
      z.strictObject({
        type: z.enum(['Pods', 'Percent']).describe('Change by a number of replicas or a percentage.'),
        value: z.int().min(1).describe('Replicas or percent per period.'),
        periodSeconds: seconds(1, 1800).describe('Length of the period, 1–1800 s.'),
      }),
    )
    .min(1)
    .optional()
    .describe('Kubernetes HPA v2 scaling policies. Default: up 100% or 4 pods per 15 s, down 100% per 15 s.'),
});

export const autoscalingSchema = z
  .strictObject({
    minReplicas: z
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .default(SPEC_DEFAULTS.minReplicas)
      .describe('Fewest replicas the autoscaler keeps.'),
    maxReplicas: z
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .describe('Most replicas the autoscaler starts; at least minReplicas.'),
    metrics: z
      .array(
        z.strictObject({
          resource: z
            .enum(['cpu', 'memory'])
            .describe('The requested resource whose utilization is targeted.'),
          targetAverageUtilization: z
            .int()
            .min(1)
            .max(1000)
            .describe('Percent of the request, averaged over replicas.'),
        }),
      )
      .min(1)
      .optional()
      .describe(`Default: cpu at ${SPEC_DEFAULTS.targetCpuUtilization}%.`),
    behavior: z
      .strictObject({
        scaleUp: scalingRules.optional().describe('How fast to add replicas.'),
        scaleDown: scalingRules.optional().describe('How fast to remove replicas.'),
      })
      .optional()
      .describe('Scaling speed limits, as Kubernetes HPA v2 behavior.'),
  })
  .superRefine((a, ctx) => {
    const min = typeof a.minReplicas === 'number' ? a.minReplicas : SPEC_DEFAULTS.minReplicas;
    if (typeof a.maxReplicas === 'number' && a.maxReplicas < min)
      ctx.addIssue({
        code: 'custom',
        path: ['maxReplicas'],
        message: `maxReplicas (${a.maxReplicas}) must be at least minReplicas (${min})`,
      });
    if (Array.isArray(a.metrics)) {
      const seen = new Set<unknown>();
      a.metrics.forEach((m: unknown, i) => {
        if (!isRecord(m)) return;
        if (seen.has(m.resource))
          ctx.addIssue({
            code: 'custom',
            path: ['metrics', i, 'resource'],
            message: `${show(m.resource)} has more than one metric: keep one target per resource`,
          });
        seen.add(m.resource);
      });
    }
  }, always)
  .describe('Horizontal autoscaling, with Kubernetes HPA v2 semantics.');

function templateRestart(spec: unknown): unknown {
  if (!isRecord(spec) || !isRecord(spec.template)) return undefined;
  const p = spec.template.restartPolicy;
  return isRecord(p) ? p.policy : p;
}

function declaredPortNames(spec: unknown): string[] | undefined {
  if (!isRecord(spec) || !isRecord(spec.template)) return undefined;
  const ports = spec.template.ports;
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) return undefined;
  return ports.flatMap((p: unknown) => (isRecord(p) && typeof p.name === 'string' ? [p.name] : []));
}

function requestsOf(spec: unknown): Record<string, unknown> | undefined {
  if (!isRecord(spec) || !isRecord(spec.template)) return undefined;
  const r = spec.template.resources;
  if (r === undefined) return {};
  if (!isRecord(r)) return undefined;
  const req = isRecord(r.requests) ? { ...r.requests } : {};
  // A limit without a request requests the limit.
  if (isRecord(r.limits))
    for (const [k, v] of Object.entries(r.limits))
      if (!Object.keys(req).some((name) => canonicalResourceName(name) === canonicalResourceName(k)))
        req[k] = v;
  return req;
}

export const serviceSpecSchema = z
  .strictObject({
    replicas: replicas('Tasks to run. Default 1, or autoscaling.minReplicas.').optional(),
    template: taskSpecSchema,
    discovery: z
      .strictObject({
        name: dnsLabel('discovery name', 'web').describe('DNS label the service is published under.'),
        ports: z.array(portName).min(1).optional().describe('Port names to publish; default all.'),
      })
      .optional()
      .describe('Publish the service under a DNS name.'),
    autoscaling: autoscalingSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const policy = templateRestart(s);
    if (policy === 'never' || policy === 'on-failure')
      ctx.addIssue({
        code: 'custom',
        path: ['template', 'restartPolicy'],
        message: `a Service keeps its tasks running, so its restart policy must be always (got ${show(policy)}); use a Job for run-to-completion work`,
      });
    const a = s.autoscaling;
    if (isRecord(a)) {
      const min = typeof a.minReplicas === 'number' ? a.minReplicas : SPEC_DEFAULTS.minReplicas;
      const max = typeof a.maxReplicas === 'number' ? a.maxReplicas : undefined;
      if (typeof s.replicas === 'number' && max !== undefined && (s.replicas < min || s.replicas > max))
        ctx.addIssue({
          code: 'custom',
          path: ['replicas'],
          message: `replicas (${s.replicas}) must be within autoscaling's ${min}–${max}, or omitted to start at minReplicas`,
        });
      const requests = requestsOf(s);
      const metrics = Array.isArray(a.metrics) ? a.metrics : [{ resource: 'cpu' }];
      if (requests !== undefined)
        metrics.forEach((m: unknown, i) => {
          if (!isRecord(m) || (m.resource !== 'cpu' && m.resource !== 'memory')) return;
          const amount = requests[m.resource];
          if (amount === undefined || amount === 0 || amount === '0')
            ctx.addIssue({
              code: 'custom',
              path: a.metrics === undefined ? ['autoscaling'] : ['autoscaling', 'metrics', i, 'resource'],
              message: `autoscaling on ${m.resource} utilization needs a ${m.resource} request: set template.resources.requests.${m.resource}`,
            });
        });
    }
    const d = s.discovery;
    const names = declaredPortNames(s);
    if (isRecord(d) && Array.isArray(d.ports) && names !== undefined)
      d.ports.forEach((p: unknown, i) => {
        if (typeof p === 'string' && !names.includes(p))
          ctx.addIssue({
            code: 'custom',
            path: ['discovery', 'ports', i],
            message: `port ${JSON.stringify(p)} is not declared in template.ports${didYouMean(p, names)}`,
          });
      });
  }, always)
  .describe('Long-running replicas of a task template.');

export const jobSpecSchema = z
  .strictObject({
    completions: z
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .default(SPEC_DEFAULTS.completions)
      .describe('Successful tasks needed.'),
    parallelism: z
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .optional()
      .describe('Tasks running at once. Default: completions with gang, else 1.'),
    gang: z.boolean().default(false).describe('Place all parallel tasks at once or none of them.'),
    backoffLimit: z
      .int()
      .min(0)
      .max(MAX_REPLICAS)
      .default(SPEC_DEFAULTS.backoffLimit)
      .describe('Failed tasks tolerated.'),
    activeDeadlineSeconds: seconds(1).optional().describe('Fail the job after this long.'),
    template: taskSpecSchema,
  })
  .superRefine((j, ctx) => {
    if (templateRestart(j) === 'always')
      ctx.addIssue({
        code: 'custom',
        path: ['template', 'restartPolicy'],
        message:
          'a Job runs to completion, so its restart policy is never or on-failure; use a Service to keep tasks running',
      });
    const completions = typeof j.completions === 'number' ? j.completions : SPEC_DEFAULTS.completions;
    if (typeof j.parallelism === 'number' && j.parallelism > completions)
      ctx.addIssue({
        code: 'custom',
        path: ['parallelism'],
        message: `parallelism (${j.parallelism}) cannot exceed completions (${completions}): at most ${completions} tasks ever run`,
      });
  }, always)
  .describe('Run a task template to completion.');

const documentHeader = {
  apiVersion: apiVersion.describe(`Always ${API_VERSION}.`),
  metadata: metadataSchema,
};

export const taskDocumentSchema = z
  .strictObject({ ...documentHeader, kind: z.literal('Task').describe('One task.'), spec: taskSpecSchema })
  .describe('A Task: one task that runs once (restartPolicy never by default).');
export const serviceDocumentSchema = z
  .strictObject({
    ...documentHeader,
    kind: z.literal('Service').describe('Replicas kept running.'),
    spec: serviceSpecSchema,
  })
  .describe('A Service: replicas of a task template kept running, optionally published and autoscaled.');
export const jobDocumentSchema = z
  .strictObject({
    ...documentHeader,
    kind: z.literal('Job').describe('Run to completion.'),
    spec: jobSpecSchema,
  })
  .describe('A Job: a task template run to a number of successful completions, optionally as a gang.');

/** The schema of one Berth document as written (before normalisation). */
export const berthDocumentSchema = z
  .discriminatedUnion('kind', [taskDocumentSchema, serviceDocumentSchema, jobDocumentSchema], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      const kind = isRecord(iss.input) ? iss.input.kind : undefined;
      if (kind === undefined) return 'is required: Task, Service or Job';
      return `must be Task, Service or Job (got ${show(kind)})${typeof kind === 'string' ? didYouMean(kind, ['Task', 'Service', 'Job']) : ''}`;
    },
  })
  .describe('A Berth document: a Task, a Service or a Job.');

/** A document as written in YAML (the schema's input). */
export type BerthDocumentInput = z.input<typeof berthDocumentSchema>;
/** A document after schema validation, before normalisation. */
export type ParsedDocument = z.output<typeof berthDocumentSchema>;
export type ParsedTaskSpec = z.output<typeof taskSpecSchema>;
