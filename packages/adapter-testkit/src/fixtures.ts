/**
 * Normalised documents for the conformance cases: small requests that fit any real cluster,
 * commands any POSIX shell runs, and one request no node can ever satisfy.
 */
import {
  API_VERSION,
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
