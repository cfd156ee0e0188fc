/**
 * Mesos `HealthCheck` for the devcluster face: parsing and validation as the master does it, and the
 * checker an agent's executor runs (delay, interval, timeout, grace period, consecutive failures),
 * with its timers on the face's clock. The probe itself is given (see `health-probes.ts`).
 */
import type { Clock, TimerHandle } from '@berth/core';
import { isObject, type Json, type JsonObject } from './wire.ts';

export type HealthCheckType = 'COMMAND' | 'HTTP' | 'TCP';

/** A TaskInfo's `health_check`, with mesos.proto's defaults filled in and seconds turned to ms. */
export interface HealthCheckSpec {
  readonly type: HealthCheckType;
  readonly command?: {
    readonly value: string;
    readonly shell: boolean;
    readonly arguments: readonly string[];
    readonly env: Readonly<Record<string, string>>;
  };
  readonly http?: { readonly port: number; readonly path: string; readonly scheme: 'http' | 'https' };
  readonly tcp?: { readonly port: number };
  readonly delayMs: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly consecutiveFailures: number;
  readonly gracePeriodMs: number;
}

/** mesos.proto's `HealthCheck` defaults, in seconds. */
export const HEALTH_CHECK_DEFAULTS = {
  delay_seconds: 15,
  interval_seconds: 10,
  timeout_seconds: 20,
  consecutive_failures: 3,
  grace_period_seconds: 10,
} as const;

/** The status update reason an executor puts on a health change. */
export const HEALTH_REASON = 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED';

function seconds(check: JsonObject, key: keyof typeof HEALTH_CHECK_DEFAULTS): number | string {
  const v = check[key];
  if (v === undefined) return HEALTH_CHECK_DEFAULTS[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) return `Expecting '${key}' to be a number`;
  if (v < 0) return `Expecting '${key}' to be non-negative`;
  return v;
}

function port(v: Json | undefined, kind: string): number | string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    return `${kind} health check needs 'port' as an integer 1-65535`;
  }
  return v;
}

/**
 * Validates a TaskInfo's `health_check` as Mesos' master does (its messages), returning the spec
 * or the reason it is invalid (the face prefixes "Task uses invalid health check: ").
 */
export function parseHealthCheck(raw: Json): HealthCheckSpec | string {
  if (!isObject(raw)) return 'HealthCheck must be an object';
  if (raw.type === undefined) return "HealthCheck must specify 'type'";
  const type = raw.type;
  let command: HealthCheckSpec['command'];
  let http: HealthCheckSpec['http'];
  let tcp: HealthCheckSpec['tcp'];
  if (type === 'COMMAND') {
    const c = raw.command;
    if (!isObject(c)) return "Expecting 'command' to be set for COMMAND health check";
    const shell = c.shell !== false;
    if (typeof c.value !== 'string') {
      return `Command health check must contain ${shell ? "'shell command'" : "'executable path'"}`;
    }
    const env: Record<string, string> = {};
    const vars = isObject(c.environment) ? c.environment.variables : undefined;
    if (Array.isArray(vars)) {
      for (const v of vars) {
        if (isObject(v) && typeof v.name === 'string' && typeof v.value === 'string') env[v.name] = v.value;
      }
    }
    const args = Array.isArray(c.arguments) ? c.arguments.map(String) : [];
    command = { value: c.value, shell, arguments: args, env };
  } else if (type === 'HTTP') {
    const h = raw.http;
    if (!isObject(h)) return "Expecting 'http' to be set for HTTP health check";
    const scheme = h.scheme ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') {
      return `Unsupported HTTP health check scheme: '${String(scheme)}'`;
    }
    const path = h.path ?? '/';
    if (typeof path !== 'string' || !path.startsWith('/')) {
      return `The path '${String(path)}' of HTTP health check must start with '/'`;
    }
    const p = port(h.port, 'HTTP');
    if (typeof p === 'string') return p;
    http = { port: p, path, scheme };
  } else if (type === 'TCP') {
    const t = raw.tcp;
    if (!isObject(t)) return "Expecting 'tcp' to be set for TCP health check";
    const p = port(t.port, 'TCP');
    if (typeof p === 'string') return p;
    tcp = { port: p };
  } else {
    return `'${String(type)}' is not a valid health check type`;
  }
  const delay = seconds(raw, 'delay_seconds');
  if (typeof delay === 'string') return delay;
  const grace = seconds(raw, 'grace_period_seconds');
  if (typeof grace === 'string') return grace;
  const interval = seconds(raw, 'interval_seconds');
  if (typeof interval === 'string') return interval;
  const timeout = seconds(raw, 'timeout_seconds');
  if (typeof timeout === 'string') return timeout;
  const failures = raw.consecutive_failures ?? HEALTH_CHECK_DEFAULTS.consecutive_failures;
  if (typeof failures !== 'number' || !Number.isInteger(failures) || failures < 0) {
    return "Expecting 'consecutive_failures' to be a non-negative integer";
  }
  return {
    type,
    ...(command === undefined ? {} : { command }),
    ...(http === undefined ? {} : { http }),
    ...(tcp === undefined ? {} : { tcp }),
    delayMs: delay * 1000,
    intervalMs: interval * 1000,
    timeoutMs: timeout * 1000,
    consecutiveFailures: failures,
    gracePeriodMs: grace * 1000,
  };
}

/** One probe run: resolves true for a pass; `signal` aborts it (timeout or stop). */
export type HealthProbe = (signal: AbortSignal) => Promise<boolean>;

/** What the checker reports: a health change to forward, and whether the task must be killed. */
export interface HealthResult {
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  readonly killTask: boolean;
}

export interface HealthCheckerOptions {
  readonly spec: HealthCheckSpec;
  readonly clock: Clock;
  readonly probe: HealthProbe;
  readonly onResult: (result: HealthResult) => void;
}

/**
 * Runs a health check the way Mesos' executors do: the first probe after `delay`, the next one
 * `interval` after each result, a probe slower than `timeout` fails; failures are ignored during the
 * grace period until the first success; it reports the first success, every failure, and the first
 * success after failures, and asks for a kill once `consecutive_failures` failures happened in a row.
 */
export class HealthChecker {
  readonly #o: HealthCheckerOptions;
  readonly #startMs: number;
  #initializing = true;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #abort: AbortController | undefined;
  #stopped = false;

  constructor(options: HealthCheckerOptions) {
    this.#o = options;
    this.#startMs = options.clock.now();
    this.#schedule(options.spec.delayMs);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops the timers and aborts a probe in flight; nothing is reported afterwards. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, ms);
  }

  async #run(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    const { clock, spec } = this.#o;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => {
        abort.abort();
        resolve(false);
      }, spec.timeoutMs);
    });
    const passed = await Promise.race([this.#o.probe(abort.signal).catch(() => false), timedOut]);
    if (timer !== undefined) clock.clearTimeout(timer);
    if (this.#stopped) return;
    this.#abort = undefined;
    if (passed) this.#success();
    else this.#failure();
    if (!this.#stopped) this.#schedule(spec.intervalMs);
  }

  #success(): void {
    if (this.#initializing || this.#failures > 0) {
      this.#initializing = false;
      this.#failures = 0;
      this.#o.onResult({ healthy: true, consecutiveFailures: 0, killTask: false });
    }
  }

  #failure(): void {
    const { clock, spec } = this.#o;
    if (this.#initializing && spec.gracePeriodMs > 0 && clock.now() - this.#startMs <= spec.gracePeriodMs) {
      return;
    }
    this.#failures++;
    const killTask = this.#failures >= spec.consecutiveFailures;
    if (killTask) this.stop();
    this.#o.onResult({ healthy: false, consecutiveFailures: this.#failures, killTask });
  }
}
