/** Task specs and documents, and polling, shared by the adapter's devcluster tests. */
import {
  API_VERSION,
  type HealthCheck,
  type HealthCheckTiming,
  Resources,
  type TaskDocument,
  type TaskSpec,
} from '@berth/core';

export const MiB = 1024 ** 2;

/** A normalised task spec running `sleep 3600` with a small request and no ports; `over` replaces fields. */
export function taskSpec(name: string, over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name,
    command: 'sleep 3600',
    env: {},
    resources: { requests: Resources.of({ cpu: 50, memory: 16 * MiB }) },
    ports: [],
    priority: 0,
    tenant: 'default',
    constraints: [],
    nodeSelector: {},
    tolerations: [],
    restartPolicy: { policy: 'never' },
    killGracePeriodSeconds: 0,
    labels: {},
    ...over,
  };
}

/** A normalised Task document of {@link taskSpec}. */
export function task(name: string, over: Partial<TaskSpec> = {}): TaskDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name, tenant: 'default', labels: {} },
    spec: taskSpec(name, over),
  };
}

/** `GET /healthz` on the `http` port every 10 s (2 s timeout, 3 failures in a row); `over` replaces fields. */
export function httpHealthCheck(over: Partial<HealthCheckTiming> = {}): HealthCheck {
  return {
    type: 'http',
    port: 'http',
    path: '/healthz',
    scheme: 'http',
    intervalSeconds: 10,
    timeoutSeconds: 2,
    gracePeriodSeconds: 0,
    maxConsecutiveFailures: 3,
    ...over,
  };
}

/** Poll `fn` every 20 ms until it returns a value, failing after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
