/** Task documents and polling shared by the adapter's devcluster tests. */
import { API_VERSION, Resources, type TaskDocument, type TaskSpec } from '@berth/core';

export const MiB = 1024 ** 2;

/** A normalised Task document running `sleep 3600` with a small request; `over` replaces spec fields. */
export function task(name: string, over: Partial<TaskSpec> = {}): TaskDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name, tenant: 'default', labels: {} },
    spec: {
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
    },
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
