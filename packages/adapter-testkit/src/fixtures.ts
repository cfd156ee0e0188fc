/**
 * Normalised documents for the conformance cases: small requests that fit any real cluster,
 * commands any POSIX shell runs, and one request no node can ever satisfy.
 */
import {
  API_VERSION,
  type AutoscalingSpec,
  Resources,
  type ServiceDocument,
  SPEC_DEFAULTS,
  type TaskDocument,
  type TaskSpec,
} from '@berth/core';

const MiB = 1024 ** 2;

/** What every task the suite makes asks for: 0.05 cpu and 16 MiB. */
export const SMALL_REQUEST: Resources = Resources.of({ cpu: 50, memory: 16 * MiB });

/** A request no node has: a million cores. */
export const IMPOSSIBLE_REQUEST: Resources = Resources.of({ cpu: 1_000_000_000, memory: 16 * MiB });

/** Commands the cases run; override them when your backend's shell differs. */
export interface ConformanceCommands {
  /** Runs until killed. */
  readonly longRunning: string;
  /** Exits 0 quickly. */
  readonly finishes: string;
  /** Prints {@link ConformanceCommands.failureText} to stderr and exits with {@link ConformanceCommands.failureExitCode}. */
  readonly fails: string;
  readonly failureExitCode: number;
  readonly failureText: string;
}

export const DEFAULT_COMMANDS: ConformanceCommands = {
  longRunning: 'sleep 3600',
  finishes: 'echo conformance-ok; exit 0',
  fails: 'echo conformance-failure >&2; exit 3',
  failureExitCode: 3,
  failureText: 'conformance-failure',
};

export interface TaskFixtureOptions {
  readonly command?: string;
  readonly requests?: Resources;
  readonly ports?: TaskSpec['ports'];
  readonly killGracePeriodSeconds?: number;
  /** Merged last: e.g. `{ image: 'busybox:1.36' }` for a backend that needs an image. */
  readonly overrides?: Partial<TaskSpec>;
}

export function taskSpec(name: string, opts: TaskFixtureOptions = {}): TaskSpec {
  return {
    name,
    command: opts.command ?? DEFAULT_COMMANDS.longRunning,
    env: {},
    resources: { requests: opts.requests ?? SMALL_REQUEST },
    ports: opts.ports ?? [],
    priority: SPEC_DEFAULTS.priority,
    tenant: SPEC_DEFAULTS.tenant,
    constraints: [],
    nodeSelector: {},
    tolerations: [],
    restartPolicy: { policy: 'never' },
    killGracePeriodSeconds: opts.killGracePeriodSeconds ?? 2,
    labels: { 'berth.dev/conformance': 'true' },
    ...opts.overrides,
  };
}

export function taskDocument(name: string, opts: TaskFixtureOptions = {}): TaskDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name, tenant: SPEC_DEFAULTS.tenant, labels: { 'berth.dev/conformance': 'true' } },
    spec: taskSpec(name, opts),
  };
}

export function serviceDocument(
  name: string,
  replicas: number,
  opts: TaskFixtureOptions = {},
): ServiceDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name, tenant: SPEC_DEFAULTS.tenant, labels: { 'berth.dev/conformance': 'true' } },
    spec: { template: taskSpec(name, opts), replicas },
  };
}

/**
 * A shell loop that keeps one cpu busy while `flagFile` exists and idles (one `sleep 1` a second)
 * once it is gone: delete the file to stop the load. For autoscaling tests.
 */
export function cpuBurnCommand(flagFile: string): string {
  const quoted = `'${flagFile.replaceAll("'", `'\\''`)}'`;
  return `while :; do if [ -e ${quoted} ]; then :; else sleep 1; fi; done`;
}

export interface CpuAutoscalingOptions {
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Average cpu utilization of the request to aim for, in percent (default 50). */
  readonly targetCpu?: number;
  /** Scale-down stabilization window (tests shorten the HPA's 300 s). */
  readonly scaleDownWindowSeconds: number;
  /** Scale-down policy period: up to 100 % of the replicas go per period (default 1 s). */
  readonly scaleDownPeriodSeconds?: number;
}

/**
 * An HPA-style cpu policy for tests: scale up at once (no window, up to 4 pods per 15 s), scale
 * down after a short window (up to 100 % per period).
 */
export function cpuAutoscaling(opts: CpuAutoscalingOptions): AutoscalingSpec {
  return {
    minReplicas: opts.minReplicas ?? 1,
    maxReplicas: opts.maxReplicas,
    metrics: [{ resource: 'cpu', targetAverageUtilization: opts.targetCpu ?? 50 }],
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }],
      },
      scaleDown: {
        stabilizationWindowSeconds: opts.scaleDownWindowSeconds,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: opts.scaleDownPeriodSeconds ?? 1 }],
      },
    },
  };
}

export interface AutoscaledServiceOptions {
  readonly command?: string;
  readonly replicas?: number;
  /** Left out: a service with fixed replicas. */
  readonly autoscaling?: AutoscalingSpec;
  /** Publish the `http` port under the service's name (default true). */
  readonly discovery?: boolean;
  /** Merged last into the replica template: e.g. `{ restartPolicy: { policy: 'never' } }`. */
  readonly template?: Partial<TaskSpec>;
}

/**
 * A service for autoscaling tests: replicas request 0.1 cpu and 16 MiB (so one busy loop is ~10×
 * its request), have a named `http` port, restart at once, and stop without a grace period.
 */
export function autoscaledServiceDocument(
  name: string,
  opts: AutoscaledServiceOptions = {},
): ServiceDocument {
  const discovery = opts.discovery ?? true;
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name, tenant: SPEC_DEFAULTS.tenant, labels: {} },
    spec: {
      replicas: opts.replicas ?? 1,
      template: {
        name,
        command: opts.command ?? DEFAULT_COMMANDS.longRunning,
        env: {},
        resources: { requests: Resources.of({ cpu: 100, memory: 16 * MiB }) },
        ports: discovery ? [{ name: 'http', protocol: 'tcp' }] : [],
        priority: SPEC_DEFAULTS.priority,
        tenant: SPEC_DEFAULTS.tenant,
        constraints: [],
        nodeSelector: {},
        tolerations: [],
        restartPolicy: { policy: 'always', backoffSeconds: 1, maxBackoffSeconds: 10 },
        killGracePeriodSeconds: 0,
        labels: {},
        ...opts.template,
      },
      ...(discovery ? { discovery: { name, ports: ['http'] } } : {}),
      ...(opts.autoscaling === undefined ? {} : { autoscaling: opts.autoscaling }),
    },
  };
}
