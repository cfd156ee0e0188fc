import type { JsonObject, KubeApi } from '../../src/index.ts';

/** Poll until `check` returns a value other than undefined/false (or fail after `ms`). */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `${what}: not within ${ms} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`,
  );
}

export function node(
  name: string,
  extra: { labels?: Record<string, string>; taints?: JsonObject[]; cpu?: string } = {},
): JsonObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
    spec: extra.taints === undefined ? {} : { taints: extra.taints },
    status: {
      allocatable: { cpu: extra.cpu ?? '4', memory: '8Gi', pods: '110' },
      capacity: { cpu: extra.cpu ?? '4', memory: '8Gi', pods: '110' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          lastHeartbeatTime: new Date().toISOString(),
        },
      ],
    },
  };
}

export const container = (image = 'busybox:1.36') => ({ name: 'main', image, command: ['sleep', '3600'] });

/**
 * A stand-in kubelet for in-process tests: bound pods become Running and Ready with an IP (job
 * pods Succeeded, or Failed with the `test/fail` label). Returns a stop function.
 */
export function fakeKubelet(
  api: KubeApi,
  options: { ready?: (pod: JsonObject) => boolean } = {},
): () => void {
  let ip = 10;
  const pending = new Set<string>();
  const apply = (ns: string, name: string) => {
    let pod: JsonObject;
    try {
      pod = api.get('pods', ns, name);
    } catch {
      return;
    }
    const meta = pod.metadata as JsonObject;
    const spec = pod.spec as JsonObject;
    const status = (pod.status ?? {}) as JsonObject;
    if (
      typeof spec.nodeName !== 'string' ||
      spec.nodeName === '' ||
      typeof meta.deletionTimestamp === 'string'
    )
      return;
    if (status.phase === 'Running' || status.phase === 'Succeeded' || status.phase === 'Failed') return;
    const labels = (meta.labels ?? {}) as Record<string, string>;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const isJob = labels['job-name'] !== undefined;
    const phase = isJob ? (labels['test/fail'] === 'true' ? 'Failed' : 'Succeeded') : 'Running';
    const ready = phase === 'Running' && (options.ready?.(pod) ?? true);
    const conditions = [
      ...((status.conditions ?? []) as JsonObject[]).filter((c) => c.type !== 'Ready'),
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
    ];
    api.patch(
      'pods',
      ns,
      name,
      'merge',
      { status: { phase, conditions, podIP: `10.1.0.${ip++}`, hostIP: '127.0.0.1', startTime: now } },
      { subresource: 'status' },
    );
  };
  const off = api.watch('pods', '', {}, (e) => {
    if (e.type === 'DELETED') return;
    const meta = e.object.metadata as JsonObject;
    const key = `${meta.namespace}/${meta.name}`;
    if (pending.has(key)) return;
    pending.add(key);
    setImmediate(() => {
      pending.delete(key);
      apply(String(meta.namespace), String(meta.name));
    });
  });
  return off;
}
