import { describe, expect, it } from 'vitest';
import { isBerthError } from '../cluster/errors.ts';
import { Resources } from '../resources/index.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from './defaults.ts';
import type { JobDocument, ServiceDocument, TaskDocument } from './types.ts';
import { formatPath, type SpecIssue, validateDocument, validateDocuments } from './validate.ts';

type Obj = Record<string, unknown>;

const task = (spec: Obj = {}, metadata: Obj = {}): Obj => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Task',
  metadata: { name: 'web', ...metadata },
  spec: { command: './run', ...spec },
});
const service = (spec: Obj = {}, template: Obj = {}): Obj => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: { template: { command: './serve', ...template }, ...spec },
});
const job = (spec: Obj = {}, template: Obj = {}): Obj => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Job',
  metadata: { name: 'batch' },
  spec: { template: { command: './work', ...template }, ...spec },
});

function problems(value: unknown): readonly SpecIssue[] {
  try {
    validateDocument(value);
  } catch (err) {
    if (!isBerthError(err, 'SPEC_INVALID')) throw err;
    return err.issues;
  }
  throw new Error('expected the document to be rejected');
}

const resources = (requests: Obj, limits?: Obj) => ({
  resources: { requests, ...(limits ? { limits } : {}) },
});

describe('validateDocument rejects each broken rule with the field path and a fix', () => {
  // [rule, document, path, message]
  const cases: [string, unknown, string, string][] = [
    // resources
    [
      'cpu quantity syntax',
      task(resources({ cpu: '2 cores' })),
      'spec.resources.requests.cpu',
      '"2 cores" is not a quantity (e.g. "2" or "1500m")',
    ],
    [
      'memory quantity syntax',
      task(resources({ memory: '1 GB' })),
      'spec.resources.requests.memory',
      '"1 GB" is not a quantity (e.g. "512Mi" or "2Gi")',
    ],
    [
      'quantity type',
      task(resources({ cpu: true })),
      'spec.resources.requests.cpu',
      'true is not a quantity (e.g. "2" or "1500m")',
    ],
    [
      'negative quantity',
      task(resources({ cpu: -1 })),
      'spec.resources.requests.cpu',
      'must not be negative (got -1)',
    ],
    [
      'quantity too large to count',
      task(resources({ cpu: '1e400' })),
      'spec.resources.requests.cpu',
      '10e399 is too large to count exactly',
    ],
    [
      'unknown resource name',
      task(resources({ cpus: 1 })),
      'spec.resources.requests.cpus',
      'unknown resource "cpus" (did you mean "cpu"?): use cpu, memory, disk, gpus or an extended resource such as "example.com/fpga"',
    ],
    [
      'whole GPUs',
      task(resources({ 'nvidia.com/gpu': 0.5 })),
      'spec.resources.requests["nvidia.com/gpu"]',
      'nvidia.com/gpu comes in whole units (got 0.5): use a whole number',
    ],
    [
      'whole extended resources',
      task(resources({ 'example.com/fpga': '500m' })),
      'spec.resources.requests["example.com/fpga"]',
      'example.com/fpga comes in whole units (got "500m"): use a whole number',
    ],
    [
      'gpus given twice',
      task(resources({ gpus: 1, 'nvidia.com/gpu': 1 })),
      'spec.resources.requests["nvidia.com/gpu"]',
      'gpus and nvidia.com/gpu are the same resource: keep one',
    ],
    [
      'limits below requests',
      task(resources({ cpu: '2', memory: '1Gi' }, { cpu: '2', memory: '512Mi' })),
      'spec.resources.limits.memory',
      'limit "512Mi" is below the request "1Gi": raise the limit or lower the request',
    ],
    [
      'limits below requests (cpu, mixed notation)',
      task(resources({ cpu: 1.5 }, { cpu: '1200m' })),
      'spec.resources.limits.cpu',
      'limit "1200m" is below the request 1.5: raise the limit or lower the request',
    ],
    [
      'GPUs cannot be overcommitted',
      task(resources({ gpus: 1 }, { 'nvidia.com/gpu': 2 })),
      'spec.resources.limits["nvidia.com/gpu"]',
      'nvidia.com/gpu cannot be overcommitted: its limit 2 must equal its request 1',
    ],
    [
      'limits below requests under another name of the resource',
      task(resources({ disk: '10Gi' }, { 'ephemeral-storage': '1Gi' })),
      'spec.resources.limits.ephemeral-storage',
      'limit "1Gi" is below the request "10Gi": raise the limit or lower the request',
    ],
    [
      'disk given twice',
      task(resources({ disk: '1Gi', 'ephemeral-storage': '1Gi' })),
      'spec.resources.requests.ephemeral-storage',
      'disk and ephemeral-storage are the same resource: keep one',
    ],
    // unknown fields
    [
      'unknown field with a close name',
      task({ comand: 'x' }),
      'spec.comand',
      'unknown field "comand" (did you mean "command"?)',
    ],
    [
      'unknown field with a Kubernetes name',
      task({ terminationGracePeriodSeconds: 5 }),
      'spec.terminationGracePeriodSeconds',
      'unknown field "terminationGracePeriodSeconds" (did you mean "killGracePeriodSeconds"?)',
    ],
    [
      'unknown field in the wrong place',
      task({ tenant: 'a' }),
      'spec.tenant',
      'unknown field "tenant" here: set the tenant in metadata.tenant',
    ],
    [
      'unknown field nowhere near a known one',
      task({}, { zzz: 1 }),
      'metadata.zzz',
      'unknown field "zzz": remove it (allowed here: name, tenant, labels, annotations)',
    ],
    [
      'Kubernetes affinity field names',
      task({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [] } } }),
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution',
      'unknown field "requiredDuringSchedulingIgnoredDuringExecution" (did you mean "required"?)',
    ],
    // document header and names
    ['document is a mapping', 'hello', '', 'must be a mapping (key: value) (got "hello")'],
    [
      'apiVersion',
      { ...task(), apiVersion: 'berth.dev/v2' },
      'apiVersion',
      'must be "berth.dev/v1" (got "berth.dev/v2")',
    ],
    [
      'kind',
      { ...task(), kind: 'Srvice' },
      'kind',
      'must be Task, Service or Job (got "Srvice") (did you mean "Service"?)',
    ],
    [
      'kind is required',
      { apiVersion: 'berth.dev/v1', metadata: { name: 'x' } },
      'kind',
      'is required: Task, Service or Job',
    ],
    ['metadata.name is required', task({}, { name: undefined }), 'metadata.name', 'is required'],
    [
      'metadata.name is a DNS-1123 label',
      task({}, { name: 'Web_1' }),
      'metadata.name',
      `"Web_1" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. "web")`,
    ],
    [
      'metadata.name length',
      task({}, { name: 'a'.repeat(64) }),
      'metadata.name',
      'name must be at most 63 characters',
    ],
    [
      'tenant is a DNS-1123 label',
      task({}, { tenant: 'Team A' }),
      'metadata.tenant',
      `"Team A" is not a valid tenant: use lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. "team-a")`,
    ],
    [
      'label keys',
      task({}, { labels: { 'bad key': 'x' } }),
      'metadata.labels["bad key"]',
      `"bad key" is not a valid label key: use letters, digits, '-', '_' and '.', optionally after a DNS prefix and '/' (e.g. "app" or "example.com/tier")`,
    ],
    [
      'reserved label prefix',
      task({ labels: { 'berth.dev/task-id': 'x' } }),
      'spec.labels["berth.dev/task-id"]',
      '"berth.dev/task-id": the berth.dev/ prefix is reserved for labels Berth sets (task id, service, tenant, spec hash); use another prefix',
    ],
    [
      'label values are strings',
      task({}, { labels: { version: 2 } }),
      'metadata.labels.version',
      'must be a string (got 2); quote it: "2"',
    ],
    [
      'label values format',
      task({ labels: { app: 'a b' } }),
      'spec.labels.app',
      `"a b" is not a valid label value: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
    ],
    // what to run
    [
      'something to run',
      task({ command: undefined }),
      'spec',
      'nothing to run: set command (e.g. command: "./server"), args, or image',
    ],
    ['command not empty', task({ command: '' }), 'spec.command', 'must not be empty'],
    ['args is a list', task({ args: 'ls -l' }), 'spec.args', 'must be a list (got "ls -l")'],
    [
      'image reference',
      task({ image: 'nginx latest' }),
      'spec.image',
      '"nginx latest" is not an image reference (e.g. "nginx:1.27")',
    ],
    [
      'env names',
      task({ env: { '1X': 'a' } }),
      'spec.env["1X"]',
      `"1X" is not a valid environment variable name: letters, digits and '_', not starting with a digit`,
    ],
    [
      'env values',
      task({ env: { X: { a: 1 } } }),
      'spec.env.X',
      'must be a string, number or boolean (got a mapping)',
    ],
    // ports
    [
      'port names unique',
      task({ ports: [{ name: 'http' }, { name: 'http' }] }),
      'spec.ports[1].name',
      'port name "http" is already used by ports[0]: give each port its own name',
    ],
    [
      'port names are IANA service names',
      task({ ports: [{ name: 'HTTP_port' }] }),
      'spec.ports[0].name',
      `"HTTP_port" is not a valid port name: lowercase letters, digits and single '-', at least one letter, at most 15 characters (e.g. "http")`,
    ],
    [
      'port name length',
      task({ ports: [{ name: 'a-very-long-port-name' }] }),
      'spec.ports[0].name',
      'port name must be at most 15 characters',
    ],
    [
      'fixed host ports unique',
      task({
        ports: [
          { name: 'a', hostPort: 80 },
          { name: 'b', hostPort: 80, protocol: 'udp' },
        ],
      }),
      'spec.ports[1].hostPort',
      'host port 80 is already used by ports[0]: use another port, or omit hostPort for a dynamic one',
    ],
    [
      'port range',
      task({ ports: [{ name: 'a', hostPort: 70000 }] }),
      'spec.ports[0].hostPort',
      'must be ≤ 65535 (got 70000)',
    ],
    [
      'dynamic ports omit hostPort',
      task({ ports: [{ name: 'a', hostPort: 0 }] }),
      'spec.ports[0].hostPort',
      '0 is not a port: omit hostPort for a dynamic port',
    ],
    [
      'port protocol',
      task({ ports: [{ name: 'a', protocol: 'TCP' }] }),
      'spec.ports[0].protocol',
      'must be one of tcp, udp (got "TCP") (did you mean "tcp"?)',
    ],
    // priority
    [
      'priority class names',
      task({ priority: 'hihg' }),
      'spec.priority',
      '"hihg" is not a priority: use an integer or one of "system-critical", "high", "default", "low", "batch" (did you mean "high"?)',
    ],
    [
      'priority integers',
      task({ priority: 1.5 }),
      'spec.priority',
      '1.5 is not a priority: use an integer or one of "system-critical", "high", "default", "low", "batch"',
    ],
    [
      'reserved priorities',
      task({ priority: 2_000_000_000 }),
      'spec.priority',
      'integer priorities above 1000000000 are reserved: use "system-critical"',
    ],
    [
      'priority given twice',
      task({ priority: 5, priorityClassName: 'high' }),
      'spec.priorityClassName',
      'set either priority or priorityClassName, not both',
    ],
    // constraints
    [
      'constraint shape',
      task({ constraints: ['hostname:UNIQUE'] }),
      'spec.constraints[0]',
      'a constraint is a list [field, OPERATOR] or [field, OPERATOR, value] (got "hostname:UNIQUE"), e.g. [hostname, UNIQUE]',
    ],
    [
      'constraint length',
      task({ constraints: [['hostname']] }),
      'spec.constraints[0]',
      'a constraint is [field, OPERATOR] or [field, OPERATOR, value], e.g. [hostname, UNIQUE] or [rack, GROUP_BY, 3]',
    ],
    [
      'constraint operator',
      task({ constraints: [['hostname', 'unique']] }),
      'spec.constraints[0][1]',
      'must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS (got "unique") (did you mean "UNIQUE"?)',
    ],
    [
      'UNIQUE takes no value',
      task({ constraints: [['hostname', 'UNIQUE', 'x']] }),
      'spec.constraints[0][2]',
      'UNIQUE takes no value: write [hostname, UNIQUE]',
    ],
    [
      'LIKE needs a value',
      task({ constraints: [['rack', 'LIKE']] }),
      'spec.constraints[0]',
      'LIKE needs a regular expression: [rack, LIKE, "rack-[1-3]"]',
    ],
    [
      'LIKE regex compiles',
      task({ constraints: [['rack', 'LIKE', '[a-']] }),
      'spec.constraints[0][2]',
      '"[a-" is not a valid regular expression (Invalid regular expression: /^(?:[a-)$/: Range out of order in character class): fix the pattern',
    ],
    [
      'UNLIKE regex compiles',
      task({ constraints: [['rack', 'UNLIKE', '(x']] }),
      'spec.constraints[0][2]',
      '"(x" is not a valid regular expression (Invalid regular expression: /^(?:(x)$/: Unterminated group): fix the pattern',
    ],
    [
      'MAX_PER needs a value',
      task({ constraints: [['rack', 'MAX_PER']] }),
      'spec.constraints[0]',
      'MAX_PER needs a positive integer value: [rack, MAX_PER, 2]',
    ],
    [
      'MAX_PER value is a positive integer',
      task({ constraints: [['rack', 'MAX_PER', 0]] }),
      'spec.constraints[0][2]',
      'MAX_PER needs a positive integer value (got 0): [rack, MAX_PER, 2]',
    ],
    [
      'GROUP_BY value is a positive integer',
      task({ constraints: [['rack', 'GROUP_BY', 'abc']] }),
      'spec.constraints[0][2]',
      `GROUP_BY's value is the number of groups, a positive integer (got "abc"): [rack, GROUP_BY, 3]`,
    ],
    [
      'IS needs a value',
      task({ constraints: [['disk', 'IS']] }),
      'spec.constraints[0]',
      'IS needs a value: [disk, IS, "value"]',
    ],
    [
      'constraint values are scalars',
      task({ constraints: [['disk', 'IS', ['ssd']]] }),
      'spec.constraints[0][2]',
      'must be a string or a number (got a list)',
    ],
    // affinity
    [
      'In needs values',
      task({
        affinity: { nodeAffinity: { required: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] } },
      }),
      'spec.affinity.nodeAffinity.required[0].matchExpressions[0].values',
      'operator In needs at least one value',
    ],
    [
      'Exists takes no values',
      task({
        affinity: {
          nodeAffinity: {
            required: [{ matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] }],
          },
        },
      }),
      'spec.affinity.nodeAffinity.required[0].matchExpressions[0].values',
      'operator Exists takes no values: remove values',
    ],
    [
      'Gt takes one integer',
      task({
        affinity: {
          nodeAffinity: {
            required: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['many'] }] }],
          },
        },
      }),
      'spec.affinity.nodeAffinity.required[0].matchExpressions[0].values',
      'operator Gt needs exactly one integer value, e.g. values: ["4"]',
    ],
    [
      'node selector operators',
      task({
        affinity: {
          nodeAffinity: {
            required: [{ matchExpressions: [{ key: 'zone', operator: 'in', values: ['a'] }] }],
          },
        },
      }),
      'spec.affinity.nodeAffinity.required[0].matchExpressions[0].operator',
      'must be one of In, NotIn, Exists, DoesNotExist, Gt, Lt (got "in") (did you mean "In"?)',
    ],
    [
      'node selector terms are not empty',
      task({ affinity: { nodeAffinity: { required: [{ matchExpressions: [] }] } } }),
      'spec.affinity.nodeAffinity.required[0].matchExpressions',
      'needs at least 1 item',
    ],
    [
      'preference weights',
      task({
        affinity: {
          nodeAffinity: {
            preferred: [{ weight: 0, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } }],
          },
        },
      }),
      'spec.affinity.nodeAffinity.preferred[0].weight',
      'must be ≥ 1 (got 0)',
    ],
    [
      'task affinity selects something',
      task({ affinity: { taskAntiAffinity: [{ labelSelector: {}, topologyKey: 'hostname' }] } }),
      'spec.affinity.taskAntiAffinity[0].labelSelector',
      'an empty labelSelector selects nothing useful: add matchLabels (e.g. {app: web}) or matchExpressions',
    ],
    [
      'task affinity needs a topology key',
      task({ affinity: { taskAffinity: [{ labelSelector: { matchLabels: { app: 'db' } } }] } }),
      'spec.affinity.taskAffinity[0].topologyKey',
      'is required',
    ],
    [
      'task affinity weights',
      task({
        affinity: {
          taskAffinity: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone', weight: 101 }],
        },
      }),
      'spec.affinity.taskAffinity[0].weight',
      'must be ≤ 100 (got 101)',
    ],
    [
      'nodeSelector values are strings',
      task({ nodeSelector: { ssd: true } }),
      'spec.nodeSelector.ssd',
      'must be a string (got true); quote it: "true"',
    ],
    // tolerations
    [
      'toleration without key uses Exists',
      task({ tolerations: [{ operator: 'Equal', value: 'x' }] }),
      'spec.tolerations[0].operator',
      'a toleration without a key must use operator Exists (it then tolerates every taint)',
    ],
    [
      'Exists tolerations take no value',
      task({ tolerations: [{ key: 'k', operator: 'Exists', value: 'x' }] }),
      'spec.tolerations[0].value',
      'operator Exists takes no value: remove value',
    ],
    [
      'tolerationSeconds needs NoExecute',
      task({ tolerations: [{ key: 'k', value: 'v', effect: 'NoSchedule', tolerationSeconds: 5 }] }),
      'spec.tolerations[0].tolerationSeconds',
      'tolerationSeconds only applies to effect NoExecute: set effect: NoExecute or remove it',
    ],
    [
      'taint effects',
      task({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedul' }] }),
      'spec.tolerations[0].effect',
      'must be one of NoSchedule, PreferNoSchedule, NoExecute (got "NoSchedul") (did you mean "NoSchedule"?)',
    ],
    // restart policy, health check, kill grace
    [
      'restart policy names',
      task({ restartPolicy: 'sometimes' }),
      'spec.restartPolicy',
      '"sometimes" is not a restart policy: use never, on-failure or always',
    ],
    [
      'restart policy object names',
      task({ restartPolicy: { policy: 'onfailure' } }),
      'spec.restartPolicy.policy',
      '"onfailure" is not a restart policy: use never, on-failure or always (did you mean "on-failure"?)',
    ],
    [
      'restart backoff order',
      task({ restartPolicy: { policy: 'on-failure', backoffSeconds: 60, maxBackoffSeconds: 30 } }),
      'spec.restartPolicy.maxBackoffSeconds',
      'maxBackoffSeconds (30) must be at least backoffSeconds (60)',
    ],
    [
      'restart fields per policy',
      task({ restartPolicy: { policy: 'always', maxRetries: 3 } }),
      'spec.restartPolicy.maxRetries',
      'unknown field "maxRetries": remove it (allowed here: policy, backoffSeconds, maxBackoffSeconds)',
    ],
    [
      'health check has a probe',
      task({ healthCheck: { intervalSeconds: 5 } }),
      'spec.healthCheck',
      'a health check needs one of command, http or tcp',
    ],
    [
      'health check has one probe',
      task({ ports: [{ name: 'http' }], healthCheck: { http: { port: 'http' }, tcp: { port: 'http' } } }),
      'spec.healthCheck',
      'a health check has exactly one of command, http or tcp (got http and tcp): keep one',
    ],
    [
      'health check port is declared',
      task({ ports: [{ name: 'http' }], healthCheck: { http: { port: 'htp' } } }),
      'spec.healthCheck.http.port',
      'port "htp" is not declared (did you mean "http"?): use one of "http" or a port number',
    ],
    [
      'health check port without ports',
      task({ healthCheck: { tcp: { port: 'db' } } }),
      'spec.healthCheck.tcp.port',
      'port "db" is not declared: add it under ports or use a port number',
    ],
    [
      'health check path',
      task({ healthCheck: { http: { port: 8080, path: 'healthz' } } }),
      'spec.healthCheck.http.path',
      '"healthz" must start with "/" (e.g. "/healthz")',
    ],
    [
      'health check interval',
      task({ healthCheck: { command: 'true', intervalSeconds: 0 } }),
      'spec.healthCheck.intervalSeconds',
      'must be ≥ 1 (got 0)',
    ],
    [
      'kill grace period',
      task({ killGracePeriodSeconds: -1 }),
      'spec.killGracePeriodSeconds',
      'must be ≥ 0 (got -1)',
    ],
    [
      'whole seconds',
      task({ killGracePeriodSeconds: 2.5 }),
      'spec.killGracePeriodSeconds',
      'must be a whole number (got 2.5)',
    ],
    // Service
    ['service template is required', { ...service(), spec: { replicas: 2 } }, 'spec.template', 'is required'],
    ['service replicas', service({ replicas: -1 }), 'spec.replicas', 'must be ≥ 0 (got -1)'],
    [
      'service replicas (misspelt)',
      service({ replica: 3 }),
      'spec.replica',
      'unknown field "replica" (did you mean "replicas"?)',
    ],
    [
      'service restart policy',
      service({}, { restartPolicy: 'never' }),
      'spec.template.restartPolicy',
      'a Service keeps its tasks running, so its restart policy must be always (got "never"); use a Job for run-to-completion work',
    ],
    [
      'minReplicas ≤ maxReplicas',
      service({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }, resources({ cpu: 1 })),
      'spec.autoscaling.maxReplicas',
      'maxReplicas (2) must be at least minReplicas (5)',
    ],
    [
      'maxReplicas ≤ the cap',
      service({ autoscaling: { maxReplicas: 1_000_000 } }, resources({ cpu: 1 })),
      'spec.autoscaling.maxReplicas',
      'must be ≤ 100000 (got 1000000)',
    ],
    [
      'replicas within the autoscaling range',
      service({ replicas: 1, autoscaling: { minReplicas: 2, maxReplicas: 4 } }, resources({ cpu: 1 })),
      'spec.replicas',
      "replicas (1) must be within autoscaling's 2–4, or omitted to start at minReplicas",
    ],
    [
      'autoscaling needs requests',
      service({
        autoscaling: { maxReplicas: 4, metrics: [{ resource: 'memory', targetAverageUtilization: 70 }] },
      }),
      'spec.autoscaling.metrics[0].resource',
      'autoscaling on memory utilization needs a memory request: set template.resources.requests.memory',
    ],
    [
      'default cpu autoscaling needs a cpu request',
      service({ autoscaling: { maxReplicas: 4 } }),
      'spec.autoscaling',
      'autoscaling on cpu utilization needs a cpu request: set template.resources.requests.cpu',
    ],
    [
      'one metric per resource',
      service(
        {
          autoscaling: {
            maxReplicas: 4,
            metrics: [
              { resource: 'cpu', targetAverageUtilization: 50 },
              { resource: 'cpu', targetAverageUtilization: 70 },
            ],
          },
        },
        resources({ cpu: 1 }),
      ),
      'spec.autoscaling.metrics[1].resource',
      '"cpu" has more than one metric: keep one target per resource',
    ],
    [
      'scaling policy type',
      service(
        {
          autoscaling: {
            maxReplicas: 4,
            behavior: { scaleUp: { policies: [{ type: 'Pod', value: 1, periodSeconds: 15 }] } },
          },
        },
        resources({ cpu: 1 }),
      ),
      'spec.autoscaling.behavior.scaleUp.policies[0].type',
      'must be one of Pods, Percent (got "Pod") (did you mean "Pods"?)',
    ],
    [
      'stabilization window',
      service(
        { autoscaling: { maxReplicas: 4, behavior: { scaleDown: { stabilizationWindowSeconds: 7200 } } } },
        resources({ cpu: 1 }),
      ),
      'spec.autoscaling.behavior.scaleDown.stabilizationWindowSeconds',
      'must be ≤ 3600 (got 7200)',
    ],
    [
      'discovery ports are declared',
      service({ discovery: { name: 'web', ports: ['grpc'] } }, { ports: [{ name: 'http' }] }),
      'spec.discovery.ports[0]',
      'port "grpc" is not declared in template.ports',
    ],
    [
      'discovery name',
      service({ discovery: { name: 'Web' } }),
      'spec.discovery.name',
      `"Web" is not a valid discovery name: use lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. "web")`,
    ],
    // Job
    [
      'parallelism ≤ completions',
      job({ completions: 2, parallelism: 5 }),
      'spec.parallelism',
      'parallelism (5) cannot exceed completions (2): at most 2 tasks ever run',
    ],
    [
      'job restart policy',
      job({}, { restartPolicy: 'always' }),
      'spec.template.restartPolicy',
      'a Job runs to completion, so its restart policy is never or on-failure; use a Service to keep tasks running',
    ],
    ['completions', job({ completions: 0 }), 'spec.completions', 'must be ≥ 1 (got 0)'],
    ['gang is a boolean', job({ gang: 'yes' }), 'spec.gang', 'must be true or false (got "yes")'],
    ['backoffLimit', job({ backoffLimit: -1 }), 'spec.backoffLimit', 'must be ≥ 0 (got -1)'],
  ];

  it.each(cases)('%s', (_rule, doc, path, message) => {
    expect(problems(doc)).toContainEqual({ path, message });
  });
});

describe('validateDocument reports everything at once', () => {
  it('lists every problem of a document, including cross-field rules next to field errors', () => {
    const issues = problems({
      ...service(
        { replicas: -1, autoscaling: { minReplicas: 3, maxReplicas: 2 } },
        resources({ cpu: '2 cores' }),
      ),
      metadata: { name: 'Bad_Name' },
    });
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        'metadata.name',
        'spec.replicas',
        'spec.autoscaling.maxReplicas',
        'spec.template.resources.requests.cpu',
      ]),
    );
  });

  it('reports a misnamed resource and a fractional GPU in the same list together', () => {
    const issues = problems(task(resources({ cpus: 1, 'nvidia.com/gpu': 0.5 })));
    expect(issues.map((i) => i.path)).toEqual([
      'spec.resources.requests.cpus',
      'spec.resources.requests["nvidia.com/gpu"]',
    ]);
  });

  it('puts the count and every path with its message into the error message, and codes it SPEC_INVALID', () => {
    try {
      validateDocument(task({ comand: 'x', command: undefined }));
      expect.unreachable();
    } catch (err) {
      if (!isBerthError(err)) throw err;
      expect(err.code).toBe('SPEC_INVALID');
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain('invalid spec: 2 problems');
      expect(err.message).toContain('spec.comand: unknown field "comand" (did you mean "command"?)');
      expect(err.message).toContain('spec: nothing to run');
    }
  });

  it('validates all documents before returning any and names each problem’s document', () => {
    try {
      validateDocuments([task(), service({ replicas: -2 }), job({ completions: 0 })], { source: 'app.yaml' });
      expect.unreachable();
    } catch (err) {
      if (!isBerthError(err)) throw err;
      const issues = err.issues as readonly SpecIssue[];
      expect(issues).toEqual([
        { path: 'spec.replicas', message: 'must be ≥ 0 (got -2)', document: 1, source: 'app.yaml' },
        { path: 'spec.completions', message: 'must be ≥ 1 (got 0)', document: 2, source: 'app.yaml' },
      ]);
      expect(err.message).toContain('app.yaml document 2 (Service web): spec.replicas: must be ≥ 0 (got -2)');
    }
  });

  it('rejects two documents of the same kind, tenant and name', () => {
    try {
      validateDocuments([task(), task({ command: 'other' })]);
      expect.unreachable();
    } catch (err) {
      if (!isBerthError(err)) throw err;
      expect(err.issues).toEqual([
        {
          path: 'metadata.name',
          message: 'Task "web" in tenant "default" is already defined by document 1: rename one',
          document: 1,
        },
      ]);
    }
    expect(validateDocuments([task(), task({}, { tenant: 'other' }), service()])).toHaveLength(3);
  });

  it('rejects two services publishing the same discovery name in a tenant', () => {
    const a = service({ discovery: { name: 'api' } });
    const b = { ...service({ discovery: { name: 'api' } }), metadata: { name: 'web2' } };
    try {
      validateDocuments([a, b]);
      expect.unreachable();
    } catch (err) {
      if (!isBerthError(err)) throw err;
      expect(err.issues).toEqual([
        {
          path: 'spec.discovery.name',
          message: 'discovery name "api" is already used in tenant "default" by document 1: pick another',
          document: 1,
        },
      ]);
    }
  });
});

describe('normalised documents', () => {
  it('fills the documented defaults for a Task', () => {
    const doc = validateDocument(task()) as TaskDocument;
    expect(doc.metadata).toEqual({ name: 'web', tenant: 'default', labels: {} });
    expect(doc.spec).toEqual({
      name: 'web',
      command: './run',
      env: {},
      resources: { requests: Resources.ZERO },
      ports: [],
      priority: 0,
      tenant: 'default',
      constraints: [],
      nodeSelector: {},
      tolerations: [],
      restartPolicy: { policy: 'never' },
      killGracePeriodSeconds: 30,
      labels: {},
    });
  });

  it('parses quantities into exact base units and copies limit-only resources into requests', () => {
    const doc = validateDocument(
      task(
        resources(
          { cpu: 0.25, memory: '1Gi', gpus: 2, 'example.com/fpga': 1 },
          { cpu: '500m', memory: '1Gi', disk: '10G' },
        ),
      ),
    ) as TaskDocument;
    const { requests, limits } = doc.spec.resources;
    expect([requests.cpu, requests.memory, requests.disk, requests.gpus]).toEqual([250, 1024 ** 3, 10e9, 2]);
    expect(requests.extendedAmount('example.com/fpga')).toBe(1);
    expect([limits?.cpu, limits?.memory, limits?.disk]).toEqual([500, 1024 ** 3, 10e9]);
  });

  it("copies a limit into the request under the resource's canonical name", () => {
    const doc = validateDocument(
      task(resources({ disk: '1Gi' }, { 'ephemeral-storage': '2Gi', gpus: 1 })),
    ) as TaskDocument;
    expect([doc.spec.resources.requests.disk, doc.spec.resources.requests.gpus]).toEqual([1024 ** 3, 1]);
    expect(doc.spec.resources.limits?.disk).toBe(2 * 1024 ** 3);
  });

  it('resolves priority classes and keeps the class name', () => {
    const byName = validateDocument(task({ priority: 'batch' })) as TaskDocument;
    expect([byName.spec.priority, byName.spec.priorityClassName]).toEqual([-2000, 'batch']);
    const byField = validateDocument(task({ priorityClassName: 'system-critical' })) as TaskDocument;
    expect([byField.spec.priority, byField.spec.priorityClassName]).toEqual([
      2_000_000_000,
      'system-critical',
    ]);
    const byNumber = validateDocument(task({ priority: -5 })) as TaskDocument;
    expect(byNumber.spec.priority).toBe(-5);
    expect('priorityClassName' in byNumber.spec).toBe(false);
  });

  it('turns constraint triples into objects with string values', () => {
    const doc = validateDocument(
      task({
        constraints: [
          ['hostname', 'UNIQUE'],
          ['rack', 'GROUP_BY', 3],
          ['zone', 'LIKE', 'eu-.*'],
        ],
      }),
    ) as TaskDocument;
    expect(doc.spec.constraints).toEqual([
      { field: 'hostname', operator: 'UNIQUE' },
      { field: 'rack', operator: 'GROUP_BY', value: '3' },
      { field: 'zone', operator: 'LIKE', value: 'eu-.*' },
    ]);
  });

  it('stringifies env values, merges labels and normalises ports, tolerations and affinity', () => {
    const doc = validateDocument(
      task(
        {
          env: { PORT: 8080, DEBUG: false },
          labels: { tier: 'web', app: 'override' },
          ports: [
            { name: 'http', containerPort: 80 },
            { name: 'dns', hostPort: 53, protocol: 'udp' },
          ],
          tolerations: [{ key: 'dedicated', value: 'web' }],
          affinity: {
            nodeAffinity: {
              required: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: [4] }] }],
            },
            taskAntiAffinity: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'hostname' }],
            taskAffinity: [
              {
                labelSelector: { matchLabels: { app: 'db' } },
                topologyKey: 'zone',
                weight: 10,
                tenants: ['data'],
              },
            ],
          },
        },
        { labels: { app: 'web' } },
      ),
    ) as TaskDocument;
    expect(doc.spec.env).toEqual({ PORT: '8080', DEBUG: 'false' });
    expect(doc.spec.labels).toEqual({ app: 'override', tier: 'web' });
    expect(doc.spec.ports).toEqual([
      { name: 'http', containerPort: 80, protocol: 'tcp' },
      { name: 'dns', hostPort: 53, protocol: 'udp' },
    ]);
    expect(doc.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'web' }]);
    expect(doc.spec.affinity).toEqual({
      nodeAffinity: { required: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] },
      taskAntiAffinity: [
        {
          labelSelector: { matchLabels: { app: 'web' }, matchExpressions: [] },
          topologyKey: 'hostname',
          required: true,
        },
      ],
      taskAffinity: [
        {
          labelSelector: { matchLabels: { app: 'db' }, matchExpressions: [] },
          topologyKey: 'zone',
          tenants: ['data'],
          required: false,
          weight: 10,
        },
      ],
    });
  });

  it('gives a Service restart always, one replica, and the HPA v2 defaults when autoscaling', () => {
    const plain = validateDocument(service()) as ServiceDocument;
    expect(plain.spec.replicas).toBe(1);
    expect(plain.spec.template.restartPolicy).toEqual({
      policy: 'always',
      backoffSeconds: 10,
      maxBackoffSeconds: 300,
    });
    const scaled = validateDocument(
      service(
        {
          autoscaling: {
            minReplicas: 2,
            maxReplicas: 6,
            behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
          },
        },
        resources({ cpu: '500m' }),
      ),
    ) as ServiceDocument;
    expect(scaled.spec.replicas).toBe(2);
    expect(scaled.spec.autoscaling).toEqual({
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [{ resource: 'cpu', targetAverageUtilization: 80 }],
      behavior: {
        scaleUp: DEFAULT_SCALE_UP,
        scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 60 },
      },
    });
  });

  it('gives a Job on-failure restarts, backoffLimit 6, and gang parallelism equal to completions', () => {
    const plain = validateDocument(job()) as JobDocument;
    expect(plain.spec).toMatchObject({ completions: 1, parallelism: 1, gang: false, backoffLimit: 6 });
    expect(plain.spec.template.restartPolicy).toEqual({
      policy: 'on-failure',
      maxRetries: 3,
      backoffSeconds: 10,
      maxBackoffSeconds: 300,
    });
    const gang = validateDocument(job({ completions: 8, gang: true })) as JobDocument;
    expect([gang.spec.parallelism, gang.spec.gang]).toEqual([8, true]);
  });

  it('never mutates its input', () => {
    const input = service({ replicas: 2 }, { ports: [{ name: 'http' }] });
    const copy = structuredClone(input);
    validateDocument(input);
    expect(input).toEqual(copy);
  });
});

describe('formatPath', () => {
  it('writes identifiers dotted, indices in brackets and other keys quoted', () => {
    expect(formatPath(['spec', 'ports', 0, 'name'])).toBe('spec.ports[0].name');
    expect(formatPath(['spec', 'resources', 'requests', 'nvidia.com/gpu'])).toBe(
      'spec.resources.requests["nvidia.com/gpu"]',
    );
    expect(formatPath([])).toBe('');
  });
});
