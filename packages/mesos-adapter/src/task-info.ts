/**
 * Berth task → Mesos `TaskInfo`: the translation half of the adapter, kept pure so it is tested
 * without a master. Resources come from core's `toMesosResources` (requests rounded up, never
 * under-requested) with the role's `allocation_info`; the command, environment (Marathon's
 * `PORT0..n`, `PORTS`, `PORT_<NAME>`, `HOST`), container image, labels, discovery ports, health
 * check and kill policy come from the validated `TaskSpec`.
 */
import { BerthError, PortRanges, Resources, type TaskSpec, toMesosResources } from '@berth/core';
import type {
  CommandInfo,
  ContainerInfo,
  DiscoveryInfo,
  ExecutorInfo,
  HealthCheck,
  Label,
  Resource,
  TaskInfo,
} from './proto/common.ts';

const COMPONENT = 'mesos-adapter';

/** Labels Berth puts on every task it launches (the same keys as on Kubernetes objects). */
export const BERTH_LABELS = {
  taskId: 'berth.dev/task-id',
  service: 'berth.dev/service',
  job: 'berth.dev/job',
  tenant: 'berth.dev/tenant',
  specHash: 'berth.dev/spec-hash',
} as const;

export interface TaskInfoInput {
  /** The Berth task id. */
  readonly taskId: string;
  /** The Mesos task id of this incarnation (default: the Berth task id). */
  readonly mesosTaskId?: string;
  readonly spec: TaskSpec;
  readonly agentId: string;
  /** The agent's hostname (becomes `HOST`). */
  readonly hostname: string;
  /** Host ports the placement gave the task, in the order of `spec.ports`. */
  readonly hostPorts: readonly number[];
  /** The role the offer was allocated to (`allocation_info.role`). */
  readonly role: string;
  readonly specHash: string;
  readonly service?: string;
  readonly job?: string;
  /** DiscoveryInfo name (a Service's discovery name); default the spec's name. */
  readonly discoveryName?: string;
}

/** Seconds → the `{ nanoseconds }` of a Mesos DurationInfo, exact for whole milliseconds. */
export function durationInfo(seconds: number): { nanoseconds: number } {
  return { nanoseconds: Math.round(seconds * 1000) * 1_000_000 };
}

/** `PORT_<NAME>` for a port name: upper case, `-` → `_` (as Marathon names them). */
export function portEnvName(name: string): string {
  return `PORT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The environment a task sees: its own `env`, then the port variables and `HOST`. */
export function taskEnvironment(
  spec: TaskSpec,
  hostname: string,
  hostPorts: readonly number[],
): Record<string, string> {
  const env: Record<string, string> = { ...spec.env, HOST: hostname };
  if (hostPorts.length > 0) {
    env.PORTS = hostPorts.join(',');
    env.PORT = String(hostPorts[0]);
  }
  hostPorts.forEach((p, i) => {
    env[`PORT${i}`] = String(p);
    const name = spec.ports[i]?.name;
    if (name !== undefined && name !== '') env[portEnvName(name)] = String(p);
  });
  return env;
}

/** Host ports by port name, as task statuses and endpoints report them. */
export function namedPorts(spec: TaskSpec, hostPorts: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  spec.ports.forEach((p, i) => {
    const port = hostPorts[i];
    if (port !== undefined) out[p.name] = port;
  });
  return out;
}

function commandInfo(spec: TaskSpec, env: Record<string, string>): CommandInfo {
  const environment = {
    variables: Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE', value })),
  };
  if (spec.command !== undefined) return { shell: true, value: spec.command, environment };
  if (spec.args !== undefined && spec.args.length > 0) {
    // With an image the args are the container's arguments (the image's entrypoint runs them);
    // without one the first is the executable.
    if (spec.image !== undefined) return { shell: false, arguments: [...spec.args], environment };
    return { shell: false, value: spec.args[0], arguments: [...spec.args], environment };
  }
  if (spec.image !== undefined) return { shell: false, environment };
  throw new BerthError('SPEC_INVALID', `task ${spec.name}: needs a command, args or an image to run`, {
    component: COMPONENT,
    hint: 'Set spec.command (run through sh -c), spec.args, or spec.image.',
  });
}

function healthCheck(spec: TaskSpec, hostPorts: readonly number[]): HealthCheck | undefined {
  const hc = spec.healthCheck;
  if (hc === undefined) return undefined;
  const timing = {
    delay_seconds: 0,
    interval_seconds: hc.intervalSeconds,
    timeout_seconds: hc.timeoutSeconds,
    grace_period_seconds: hc.gracePeriodSeconds,
    consecutive_failures: hc.maxConsecutiveFailures,
  };
  if (hc.type === 'command') {
    return { ...timing, type: 'COMMAND', command: { shell: true, value: hc.command } };
  }
  const port = resolvePort(spec, hc.port, hostPorts);
  if (hc.type === 'http') {
    return { ...timing, type: 'HTTP', http: { scheme: hc.scheme, port, path: hc.path } };
  }
  return { ...timing, type: 'TCP', tcp: { port } };
}

/** A health check's port: a declared port's name → its host port; a number as given. */
function resolvePort(spec: TaskSpec, port: string | number, hostPorts: readonly number[]): number {
  if (typeof port === 'number') return port;
  const i = spec.ports.findIndex((p) => p.name === port);
  const host = i < 0 ? undefined : hostPorts[i];
  if (host === undefined) {
    throw new BerthError(
      'SPEC_INVALID',
      `task ${spec.name}: healthCheck.port '${port}' names no declared port`,
      {
        component: COMPONENT,
        hint: `Use one of the names in spec.ports (${spec.ports.map((p) => p.name).join(', ') || 'none declared'}) or a port number.`,
      },
    );
  }
  return host;
}

function discoveryInfo(input: TaskInfoInput): DiscoveryInfo {
  const { spec, hostPorts } = input;
  return {
    visibility: 'FRAMEWORK',
    name: input.discoveryName ?? spec.name,
    ports: {
      ports: spec.ports.flatMap((p, i) => {
        const number = hostPorts[i];
        return number === undefined ? [] : [{ number, name: p.name, protocol: p.protocol }];
      }),
    },
  };
}

function labels(input: TaskInfoStatic): Label[] {
  const out = new Map<string, string>(Object.entries(input.spec.labels));
  out.set(BERTH_LABELS.taskId, input.taskId);
  out.set(BERTH_LABELS.tenant, input.spec.tenant);
  out.set(BERTH_LABELS.specHash, input.specHash);
  if (input.service !== undefined) out.set(BERTH_LABELS.service, input.service);
  if (input.job !== undefined) out.set(BERTH_LABELS.job, input.job);
  return [...out].map(([key, value]) => ({ key, value }));
}

/** Resources in the wire form, allocated to `role` (MULTI_ROLE frameworks must say which). */
function mesosResources(res: Resources, role: string): Resource[] {
  return toMesosResources(res, { allocationRole: role }) as unknown as Resource[];
}

/** What the task asks of the agent: its requests plus the host ports it was given. */
export function taskResources(spec: TaskSpec, hostPorts: readonly number[]): Resources {
  const requests = spec.resources.requests;
  return hostPorts.length === 0
    ? requests
    : Resources.of({
        cpu: requests.cpu,
        memory: requests.memory,
        disk: requests.disk,
        gpus: requests.gpus,
        extended: requests.extended,
        ports: PortRanges.fromPorts(hostPorts),
      });
}

/** The `TaskInfo` that launches one Berth task on one agent. */
export function buildTaskInfo(input: TaskInfoInput): TaskInfo {
  const { spec } = input;
  const env = taskEnvironment(spec, input.hostname, input.hostPorts);
  const container: ContainerInfo | undefined =
    spec.image === undefined
      ? undefined
      : { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: spec.image } } } };
  const hc = healthCheck(spec, input.hostPorts);
  return {
    name: spec.name,
    task_id: { value: input.mesosTaskId ?? input.taskId },
    agent_id: { value: input.agentId },
    resources: mesosResources(taskResources(spec, input.hostPorts), input.role),
    command: commandInfo(spec, env),
    ...(container === undefined ? {} : { container }),
    ...(hc === undefined ? {} : { health_check: hc }),
    kill_policy: { grace_period: durationInfo(spec.killGracePeriodSeconds) },
    labels: { labels: labels(input) },
    discovery: discoveryInfo(input),
  };
}

/** What {@link taskInfoTemplate} needs: everything of a launch except where it lands. */
export type TaskInfoStatic = Omit<TaskInfoInput, 'agentId' | 'hostname' | 'hostPorts'>;

/** Where one launch lands: the agent, its hostname and the host ports the placement gave. */
export interface TaskInfoPlace {
  readonly agentId: string;
  readonly hostname: string;
  readonly hostPorts: readonly number[];
}

/** Names {@link taskEnvironment} sets itself; a spec env naming one of them takes the general path. */
const DYNAMIC_ENV = /^(HOST|PORTS?|PORT\d+|PORT_.*)$/;

/**
 * {@link buildTaskInfo} split in two for a task launched many times (every offer round, every
 * restart): what depends only on the task (command, its own env, container, labels, kill policy,
 * the request's scalar resources, discovery names) is built once here; the returned function adds
 * what depends on the launch (agent, `HOST` and port variables, ports, discovery and health-check
 * port numbers). Its TaskInfos equal `buildTaskInfo`'s field for field; the parts that do not
 * change are shared between them, so treat the results as read-only.
 */
export function taskInfoTemplate(input: TaskInfoStatic): (place: TaskInfoPlace) => TaskInfo {
  const { spec } = input;
  const requests = spec.resources.requests;
  const portEnv = spec.ports.filter((p) => p.name !== '').map((p) => portEnvName(p.name));
  // Specs this shortcut does not cover (rare) build every launch from scratch, exactly as before:
  // ports in the requests, an env naming a variable Berth sets, two port names with one variable,
  // nothing to run (buildTaskInfo reports it, after any health-check problem).
  if (
    requests.ports.size > 0 ||
    Object.keys(spec.env).some((k) => DYNAMIC_ENV.test(k)) ||
    new Set(portEnv).size !== portEnv.length ||
    (spec.command === undefined && (spec.args ?? []).length === 0 && spec.image === undefined)
  ) {
    return (place) => buildTaskInfo({ ...input, ...place });
  }
  const command = commandInfo(spec, spec.env);
  const ownVariables = command.environment?.variables ?? [];
  const container: ContainerInfo | undefined =
    spec.image === undefined
      ? undefined
      : { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: spec.image } } } };
  const killPolicy = { grace_period: durationInfo(spec.killGracePeriodSeconds) };
  const taskLabels = { labels: labels(input) };
  const taskId = { value: input.mesosTaskId ?? input.taskId };
  // toMesosResources orders cpus, mem, disk, gpus, then ports, then extended resources.
  const scalars = mesosResources(
    Resources.of({ cpu: requests.cpu, memory: requests.memory, disk: requests.disk, gpus: requests.gpus }),
    input.role,
  );
  const extended = mesosResources(Resources.of({ extended: requests.extended }), input.role);
  const portNames = spec.ports.map((p) => ({ env: portEnvName(p.name), name: p.name, protocol: p.protocol }));
  const discoveryName = input.discoveryName ?? spec.name;
  // The JSON text of the parts that never change, cut where the launch's own values go: each
  // launch's text is those pieces with its agent id, resources, variables, health check and
  // discovery ports spliced in (what JSON.stringify of its TaskInfo gives, byte for byte).
  const withCheck = spec.healthCheck !== undefined;
  const pieces = jsonPieces(
    {
      name: spec.name,
      task_id: taskId,
      agent_id: { value: SLOT[0] },
      resources: SLOT[1],
      command: { ...command, environment: { variables: SLOT[2] } },
      ...(container === undefined ? {} : { container }),
      ...(withCheck ? { health_check: SLOT[3] } : {}),
      kill_policy: killPolicy,
      labels: taskLabels,
      discovery: { visibility: 'FRAMEWORK', name: discoveryName, ports: { ports: SLOT[4] } },
    },
    withCheck ? [0, 1, 2, 3, 4] : [0, 1, 2, 4],
  );
  const scalarsJson = JSON.stringify(scalars).slice(1, -1);
  const extendedJson = JSON.stringify(extended).slice(1, -1);
  const ownJson = JSON.stringify(ownVariables).slice(1, -1);
  return (place) => {
    const { hostPorts } = place;
    // The launch's own variables; the TaskInfo lists them after the task's.
    const launchVariables = [{ name: 'HOST', type: 'VALUE', value: place.hostname }];
    let resources = scalars;
    let portsJson = '';
    const ports: { number: number; name: string; protocol: string }[] = [];
    if (hostPorts.length > 0) {
      launchVariables.push(
        { name: 'PORTS', type: 'VALUE', value: hostPorts.join(',') },
        { name: 'PORT', type: 'VALUE', value: String(hostPorts[0]) },
      );
      for (let i = 0; i < hostPorts.length; i++) {
        const value = String(hostPorts[i]);
        launchVariables.push({ name: `PORT${i}`, type: 'VALUE', value });
        const named = portNames[i];
        if (named !== undefined && named.name !== '')
          launchVariables.push({ name: named.env, type: 'VALUE', value });
      }
      // What toMesosResources makes of the ports alone, without a Resources in between.
      const portsResource = {
        name: 'ports',
        type: 'RANGES',
        ranges: { range: PortRanges.fromPorts(hostPorts).toJSON() },
        allocation_info: { role: input.role },
      } as Resource;
      portsJson = JSON.stringify(portsResource);
      resources = [...scalars, portsResource, ...extended];
    } else if (extended.length > 0) resources = [...scalars, ...extended];
    const variables = ownVariables.concat(launchVariables);
    for (let i = 0; i < portNames.length && i < hostPorts.length; i++) {
      const p = portNames[i]!;
      ports.push({ number: hostPorts[i]!, name: p.name, protocol: p.protocol });
    }
    const hc = healthCheck(spec, hostPorts);
    const info: TaskInfo = {
      name: spec.name,
      task_id: taskId,
      agent_id: { value: place.agentId },
      resources,
      command: { ...command, environment: { variables } },
      ...(container === undefined ? {} : { container }),
      ...(hc === undefined ? {} : { health_check: hc }),
      kill_policy: killPolicy,
      labels: taskLabels,
      discovery: { visibility: 'FRAMEWORK', name: discoveryName, ports: { ports } },
    };
    if (pieces !== undefined && (hc !== undefined) === withCheck) {
      const resourcesJson =
        resources === scalars ? `[${scalarsJson}]` : `[${joinJson(scalarsJson, portsJson, extendedJson)}]`;
      const variablesJson = `[${joinJson(ownJson, JSON.stringify(launchVariables).slice(1, -1))}]`;
      const values = [JSON.stringify(place.agentId), resourcesJson, variablesJson];
      if (withCheck) values.push(JSON.stringify(hc));
      values.push(JSON.stringify(ports));
      let text = pieces[0]!;
      for (let i = 0; i < values.length; i++) text += values[i]! + pieces[i + 1]!;
      serialised.set(info, text);
    }
    return info;
  };
}

/** The JSON text of TaskInfos made by a {@link taskInfoTemplate}, built from its pieces. */
const serialised = new WeakMap<TaskInfo, string>();

/**
 * `JSON.stringify(info)`: for a TaskInfo made by a {@link taskInfoTemplate} (and, as documented
 * there, not changed since), the text it was built with, without walking the object again.
 */
export function taskInfoJson(info: TaskInfo): string {
  return serialised.get(info) ?? JSON.stringify(info);
}

/** Placeholder values marking where a launch's own values go in a template's JSON. */
const SLOT = [0, 1, 2, 3, 4].map((i) => `\u0000berth-launch-value-${i}\u0000`);

/**
 * `JSON.stringify(shape)` cut at the placeholders `slots` (in the order they occur), or undefined
 * when a placeholder does not occur exactly once (a spec string containing one).
 */
function jsonPieces(shape: unknown, slots: readonly number[]): string[] | undefined {
  let rest = JSON.stringify(shape);
  const pieces: string[] = [];
  for (const slot of slots) {
    const mark = JSON.stringify(SLOT[slot]);
    const at = rest.indexOf(mark);
    if (at < 0 || rest.indexOf(mark, at + 1) >= 0) return undefined;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at + mark.length);
  }
  pieces.push(rest);
  return pieces;
}

/** Comma-joins JSON array contents, skipping empty ones. */
function joinJson(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(',');
}

/** What the default executor of a LAUNCH_GROUP takes on top of the group's tasks (Mesos needs some). */
export const GROUP_EXECUTOR_RESOURCES: Resources = Resources.of({ cpu: 100, memory: 32 * 1024 * 1024 });

/** The DEFAULT executor that runs a gang's tasks on one agent (LAUNCH_GROUP). */
export function groupExecutorInfo(executorId: string, frameworkId: string, role: string): ExecutorInfo {
  return {
    type: 'DEFAULT',
    executor_id: { value: executorId },
    framework_id: { value: frameworkId },
    resources: mesosResources(GROUP_EXECUTOR_RESOURCES, role),
  };
}
