import { afterEach, describe, expect, it } from 'vitest';
import { KubeApi, type WatchEvent } from './kube-api.ts';
import type { JsonObject } from './patch.ts';
import { RESOURCES } from './resources.ts';

let api: KubeApi;
afterEach(() => api?.close());

const pod = (name: string, extra: JsonObject = {}): JsonObject => ({
  metadata: { name, ...((extra.metadata as JsonObject) ?? {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...((extra.spec as JsonObject) ?? {}) },
});

const deployment = (name: string): JsonObject => ({
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } },
  },
});

function owned(name: string, owner: JsonObject): JsonObject {
  const meta = owner.metadata as JsonObject;
  return pod(name, {
    metadata: {
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: meta.name!, uid: meta.uid!, controller: true },
      ],
    },
  });
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('KubeApi bootstrap and defaulting', () => {
  it('starts with the four system namespaces, Active and labelled with their name', () => {
    api = new KubeApi();
    const names = api.list('namespaces', '').items.map((n) => (n.metadata as JsonObject).name);
    expect(names).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(api.get('namespaces', '', 'default')).toMatchObject({
      status: { phase: 'Active' },
      metadata: { labels: { 'kubernetes.io/metadata.name': 'default' } },
    });
  });

  it('allocates service cluster IPs from the CIDR and node ports from 30000-32767, freeing them on delete', () => {
    api = new KubeApi({ serviceCIDR: '10.0.0.0/24' });
    const a = api.create('services', 'default', { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } });
    const b = api.create('services', 'default', {
      metadata: { name: 'b' },
      spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(a.spec).toMatchObject({
      clusterIP: '10.0.0.1',
      clusterIPs: ['10.0.0.1'],
      type: 'ClusterIP',
      ports: [{ protocol: 'TCP', targetPort: 80 }],
    });
    expect(b.spec).toMatchObject({ clusterIP: '10.0.0.2', ports: [{ nodePort: 30000, targetPort: 'http' }] });
    api.delete('services', 'default', 'a');
    const c = api.create('services', 'default', { metadata: { name: 'c' }, spec: { ports: [{ port: 1 }] } });
    expect((c.spec as JsonObject).clusterIP).toBe('10.0.0.3');
  });

  it('generates a name from generateName and gives jobs a controller-uid selector', () => {
    api = new KubeApi();
    const p = api.create('pods', 'default', { metadata: { generateName: 'web-' }, spec: pod('x').spec! });
    expect((p.metadata as JsonObject).name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const job = api.create('jobs', 'default', {
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const uid = (job.metadata as JsonObject).uid;
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: { metadata: { labels: { 'job-name': 'j' } }, spec: { restartPolicy: 'Never' } },
    });
  });

  it('resolves a pod priority from its PriorityClass, or the global default', () => {
    api = new KubeApi();
    api.create('priorityclasses', '', { metadata: { name: 'high' }, value: 1000 });
    api.create('priorityclasses', '', { metadata: { name: 'normal' }, value: 10, globalDefault: true });
    expect(
      api.create('pods', 'default', pod('a', { spec: { priorityClassName: 'high' } })).spec,
    ).toMatchObject({ priority: 1000 });
    expect(api.create('pods', 'default', pod('b')).spec).toMatchObject({
      priority: 10,
      priorityClassName: 'normal',
    });
  });
});

describe('KubeApi writes', () => {
  it('bumps generation only when the spec changes', () => {
    api = new KubeApi();
    api.create('deployments', 'default', deployment('d'));
    api.patch('deployments', 'default', 'd', 'merge', { metadata: { labels: { a: 'b' } } });
    expect((api.get('deployments', 'default', 'd').metadata as JsonObject).generation).toBe(1);
    api.patch('deployments', 'default', 'd', 'merge', { spec: { replicas: 5 } });
    expect((api.get('deployments', 'default', 'd').metadata as JsonObject).generation).toBe(2);
  });

  it('keeps status out of main-resource writes and spec out of status writes', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('p'));
    api.patch('pods', 'default', 'p', 'merge', { status: { phase: 'Running' } });
    expect(api.get('pods', 'default', 'p').status).toMatchObject({ phase: 'Pending' });
    api.patch(
      'pods',
      'default',
      'p',
      'merge',
      { status: { phase: 'Running' }, spec: { activeDeadlineSeconds: 5 } },
      { subresource: 'status' },
    );
    const after = api.get('pods', 'default', 'p');
    expect(after.status).toMatchObject({ phase: 'Running' });
    expect((after.spec as JsonObject).activeDeadlineSeconds).toBeUndefined();
  });

  it('does not store anything on dryRun, yet validates and defaults', () => {
    api = new KubeApi();
    const before = api.store.revision;
    const out = api.create('pods', 'default', pod('dry'), { dryRun: true });
    expect(out.spec).toMatchObject({ restartPolicy: 'Always' });
    expect(api.store.revision).toBe(before);
    expect(caught(() => api.get('pods', 'default', 'dry'))).toMatchObject({ code: 404 });
    expect(
      caught(() => api.create('pods', 'default', { metadata: { name: 'x' }, spec: {} }, { dryRun: true })),
    ).toMatchObject({
      code: 422,
      message: 'Pod "x" is invalid: spec.containers: Required value',
    });
  });

  it('checks unknown fields at any depth, with embedded structs (volume sources, probe handlers) inlined', () => {
    api = new KubeApi();
    const body = pod('deep', {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            livenessProbe: { httpGet: { path: '/', port: 'http', hostt: 'x' }, periodSeconds: 5 },
            securityContext: { runAsNonRoot: true, capabilities: { add: ['NET_ADMIN'] } },
          },
        ],
        volumes: [
          { name: 'v', emptyDir: { sizeLimit: '1Gi' } },
          { name: 'w', configMapp: {} },
        ],
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
        },
      },
    });
    expect(caught(() => api.create('pods', 'default', body, { fieldValidation: 'Strict' }))).toMatchObject({
      code: 400,
      message:
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].livenessProbe.httpGet.hostt", unknown field "spec.volumes[1].configMapp"',
    });
    const kept = api.createWithWarnings('pods', 'default', body);
    expect(kept.warnings).toHaveLength(2);
    expect(kept.object.spec).toMatchObject({
      volumes: [{ name: 'v', emptyDir: { sizeLimit: '1Gi' } }, { name: 'w' }],
    });
    expect(
      caught(() => api.create('pods', 'default', { ...pod('typed'), spec: { containers: 'c' } })),
    ).toMatchObject({
      code: 400,
      message:
        'Pod in version "v1" cannot be handled as a Pod: json: spec.containers: expected array, got string',
    });
  });

  it('makes an unchanged update a no-op that keeps the resourceVersion', () => {
    api = new KubeApi();
    const created = api.create('pods', 'default', pod('p'));
    const same = api.update('pods', 'default', 'p', created);
    expect((same.metadata as JsonObject).resourceVersion).toBe(
      (created.metadata as JsonObject).resourceVersion,
    );
  });

  it('refuses pod spec updates beyond images, deadlines and added tolerations (422)', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('p'));
    api.patch('pods', 'default', 'p', 'strategic', {
      spec: { containers: [{ name: 'c', image: 'busybox:2' }] },
    });
    expect(
      caught(() => api.patch('pods', 'default', 'p', 'merge', { spec: { nodeName: 'n1' } })),
    ).toMatchObject({
      code: 422,
      message: expect.stringMatching(
        /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields/,
      ),
    });
  });

  it('binds a pod once and refuses a second binding with 409', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('p'));
    api.bind('default', 'p', { target: { kind: 'Node', name: 'n1' } });
    const bound = api.get('pods', 'default', 'p');
    expect(bound.spec).toMatchObject({ nodeName: 'n1' });
    expect(bound.status).toMatchObject({ conditions: [{ type: 'PodScheduled', status: 'True' }] });
    expect(caught(() => api.bind('default', 'p', { target: { name: 'n2' } }))).toMatchObject({
      code: 409,
      message: 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"',
    });
  });

  it('scales through the Scale subresource, reporting the selector as a string', () => {
    api = new KubeApi();
    api.create('deployments', 'default', deployment('d'));
    const scale = api.updateScale('deployments', 'default', 'd', { spec: { replicas: 4 } }, 'merge');
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 4 },
      status: { selector: 'app=d' },
    });
    expect(api.get('deployments', 'default', 'd').spec).toMatchObject({ replicas: 4 });
    expect(
      caught(() => api.updateScale('deployments', 'default', 'd', { spec: { replicas: -1 } })),
    ).toMatchObject({ code: 422 });
  });
});

describe('KubeApi older versions', () => {
  it('serves autoscaling/v1 HPAs over stored autoscaling/v2 objects, keeping other v2 metrics', () => {
    api = new KubeApi();
    const hpaV1 = RESOURCES.find((r) => r.group === 'autoscaling' && r.version === 'v1')!;
    api.create('horizontalpodautoscalers', 'default', {
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' },
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
          },
        ],
      },
    });
    expect(api.get(hpaV1, 'default', 'h')).toMatchObject({
      apiVersion: 'autoscaling/v1',
      spec: { targetCPUUtilizationPercentage: 50, maxReplicas: 5, minReplicas: 1 },
    });
    api.patch(hpaV1, 'default', 'h', 'merge', { spec: { targetCPUUtilizationPercentage: 70 } });
    const stored = api.get('horizontalpodautoscalers', 'default', 'h');
    expect((stored.spec as JsonObject).metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
      {
        type: 'Pods',
        pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
      },
    ]);
    expect(
      caught(() =>
        api.create(
          hpaV1,
          'default',
          { metadata: { name: 'x' }, spec: { bogus: 1 } },
          { fieldValidation: 'Strict' },
        ),
      ),
    ).toMatchObject({
      code: 400,
      message: expect.stringContaining('unknown field "spec.bogus"'),
    });
  });
});

describe('KubeApi deletion', () => {
  it('removes an unbound pod at once but lets a bound pod terminate first', async () => {
    api = new KubeApi({ podTerminationMs: 20 });
    api.create('pods', 'default', pod('free'));
    expect(api.delete('pods', 'default', 'free').removed).toBe(true);
    api.create('pods', 'default', pod('bound', { spec: { nodeName: 'n1' } }));
    const result = api.delete('pods', 'default', 'bound');
    expect(result.removed).toBe(false);
    expect(result.object.metadata).toMatchObject({ deletionGracePeriodSeconds: 30 });
    await new Promise((r) => setTimeout(r, 60));
    expect(caught(() => api.get('pods', 'default', 'bound'))).toMatchObject({ code: 404 });
  });

  it('leaves terminating pods to a kubelet when podTerminationMs is null, until it deletes with grace 0', () => {
    api = new KubeApi({ podTerminationMs: null });
    api.create('pods', 'default', pod('p', { spec: { nodeName: 'n1' } }));
    api.delete('pods', 'default', 'p', { gracePeriodSeconds: 10 });
    expect((api.get('pods', 'default', 'p').metadata as JsonObject).deletionTimestamp).toEqual(
      expect.any(String),
    );
    expect(api.delete('pods', 'default', 'p', { gracePeriodSeconds: 0 }).removed).toBe(true);
  });

  it('keeps an object with finalizers until the last one is removed', () => {
    api = new KubeApi();
    api.create('leases', 'default', { metadata: { name: 'l', finalizers: ['berth.dev/hold'] }, spec: {} });
    expect(api.delete('leases', 'default', 'l').removed).toBe(false);
    api.patch('leases', 'default', 'l', 'merge', { metadata: { finalizers: null } });
    expect(caught(() => api.get('leases', 'default', 'l'))).toMatchObject({ code: 404 });
  });

  it('garbage-collects dependents in the background, or orphans them', () => {
    api = new KubeApi();
    const rs = api.create('replicasets', 'default', { ...deployment('rs'), metadata: { name: 'rs' } });
    api.create('pods', 'default', owned('child-1', rs));
    api.delete('replicasets', 'default', 'rs', { propagationPolicy: 'Background' });
    expect(api.list('pods', 'default').items).toEqual([]);

    const rs2 = api.create('replicasets', 'default', { ...deployment('rs2'), metadata: { name: 'rs2' } });
    api.create('pods', 'default', owned('child-2', rs2));
    api.delete('replicasets', 'default', 'rs2', { propagationPolicy: 'Orphan' });
    expect((api.get('pods', 'default', 'child-2').metadata as JsonObject).ownerReferences).toBeUndefined();
  });

  it('deletes in the foreground: the owner waits for terminating dependents', async () => {
    api = new KubeApi({ podTerminationMs: 20 });
    const rs = api.create('replicasets', 'default', { ...deployment('rs'), metadata: { name: 'rs' } });
    api.create('pods', 'default', {
      ...owned('c', rs),
      spec: { ...(pod('c').spec as JsonObject), nodeName: 'n1' },
    });
    const result = api.delete('replicasets', 'default', 'rs', { propagationPolicy: 'Foreground' });
    expect(result.removed).toBe(false);
    expect((result.object.metadata as JsonObject).finalizers).toEqual(['foregroundDeletion']);
    await new Promise((r) => setTimeout(r, 60));
    expect(caught(() => api.get('replicasets', 'default', 'rs'))).toMatchObject({ code: 404 });
  });

  it('empties a deleted namespace, then removes it', () => {
    api = new KubeApi();
    api.create('namespaces', '', { metadata: { name: 'tmp' } });
    api.create('pods', 'tmp', pod('p'));
    api.create('services', 'tmp', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } });
    api.delete('namespaces', '', 'tmp');
    expect(api.list('pods', 'tmp').items).toEqual([]);
    expect(caught(() => api.get('namespaces', '', 'tmp'))).toMatchObject({ code: 404 });
  });

  it('checks delete preconditions', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('p'));
    expect(
      caught(() => api.delete('pods', 'default', 'p', { preconditions: { uid: 'other' } })),
    ).toMatchObject({
      code: 409,
      reason: 'Conflict',
    });
  });
});

describe('KubeApi watch', () => {
  it('turns selector transitions into ADDED and DELETED, as the watch cache does', () => {
    api = new KubeApi();
    const events: WatchEvent[] = [];
    const stop = api.watch(
      'pods',
      'default',
      { resourceVersion: String(api.store.revision), labelSelector: 'app=web' },
      (e) => events.push(e),
    );
    api.create('pods', 'default', pod('p'));
    api.patch('pods', 'default', 'p', 'merge', { metadata: { labels: { app: 'web' } } });
    api.patch('pods', 'default', 'p', 'merge', { metadata: { annotations: { a: 'b' } } });
    api.patch('pods', 'default', 'p', 'merge', { metadata: { labels: { app: 'db' } } });
    stop();
    api.delete('pods', 'default', 'p');
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('delivers the stored objects themselves to a shared watch, and copies to any other', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('p'));
    const from = String(api.store.revision);
    const shared: WatchEvent[] = [];
    const copied: WatchEvent[] = [];
    const stops = [
      api.watch('pods', 'default', { resourceVersion: from, shared: true }, (e) => shared.push(e)),
      api.watch('pods', 'default', { resourceVersion: from }, (e) => copied.push(e)),
    ];
    api.bind('default', 'p', { target: { name: 'n1' } });
    for (const stop of stops) stop();
    const stored = api.store.getShared('pods', 'default', 'p');
    expect(shared[0]!.object).toBe(stored);
    expect(copied[0]!.object).not.toBe(stored);
    expect(copied[0]!.object).toMatchObject({ apiVersion: 'v1', kind: 'Pod', spec: { nodeName: 'n1' } });
    // The bound version shares the unchanged containers; the pending version kept no nodeName.
    const previous = api.store.since('pods', Number(from))[0]!.previous!;
    expect((stored!.spec as JsonObject).containers).toBe((previous.spec as JsonObject).containers);
    expect((previous.spec as JsonObject).nodeName).toBeUndefined();
  });

  it('starts with ADDED for existing objects, then a bookmark marking the end of initial events', () => {
    api = new KubeApi();
    api.create('pods', 'default', pod('a'));
    const events: WatchEvent[] = [];
    const stop = api.watch('pods', '', { sendInitialEvents: true, allowWatchBookmarks: true }, (e) =>
      events.push(e),
    );
    stop();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(events[1]!.object.metadata).toMatchObject({
      annotations: { 'k8s.io/initial-events-end': 'true' },
    });
  });
});
