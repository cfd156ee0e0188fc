/**
 * The controllers in-process against the face's API, with a stand-in kubelet that marks bound pods
 * Running/Ready (job pods Succeeded): scheduling, Deployment → ReplicaSet → Pods, Jobs, endpoints,
 * node lifecycle, garbage collection and the HPA, each asserted on the stored objects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type JsonObject,
  KubeApi,
  type KubeControllers,
  type KubeControllersOptions,
  startKubeControllers,
} from '../../src/index.ts';
import { container, fakeKubelet, node, until } from './helpers.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(
  nodes = 3,
  options: Omit<KubeControllersOptions, 'store'> = {},
  kubelet: Parameters<typeof fakeKubelet>[1] = {},
): { api: KubeApi; controllers: KubeControllers; errors: unknown[] } {
  const api = new KubeApi();
  for (let i = 1; i <= nodes; i++) api.create('nodes', '', node(`node-${i}`));
  const errors: unknown[] = [];
  const controllers = startKubeControllers({
    store: api,
    nodeLifecycle: { gracePeriodMs: 60_000 },
    onError: (e) => errors.push(e),
    ...options,
  });
  const stopKubelet = fakeKubelet(api, kubelet);
  cleanups.push(
    () => {
      stopKubelet();
      return controllers.close();
    },
    () => api.close(),
  );
  return { api, controllers, errors };
}

const podsOf = (api: KubeApi, selector: string) =>
  api.list('pods', 'default', { labelSelector: selector }).items;
const phase = (p: JsonObject) => String((p.status as JsonObject | undefined)?.phase ?? '');
const nodeOf = (p: JsonObject) => String((p.spec as JsonObject).nodeName ?? '');
const status = (o: JsonObject) => (o.status ?? {}) as Record<string, unknown>;
const conditionOf = (o: JsonObject, type: string) =>
  ((status(o).conditions ?? []) as JsonObject[]).find((c) => c.type === type);

function deployment(name: string, replicas: number, extra: JsonObject = {}): JsonObject {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container()] } },
      ...extra,
    },
  };
}

describe('kube controllers (in-process)', () => {
  it('runs a Deployment as ReplicaSet and pods spread over the nodes, scales it and reports rollout status', async () => {
    const { api, errors } = setup(3);
    api.create('deployments.apps', 'default', deployment('web', 3));
    await until('3 running', () => podsOf(api, 'app=web').filter((p) => phase(p) === 'Running').length === 3);
    const pods = podsOf(api, 'app=web');
    expect(new Set(pods.map(nodeOf)).size).toBe(3);
    const sets = api.list('replicasets.apps', 'default').items;
    expect(sets).toHaveLength(1);
    const rs = sets[0]!;
    expect(String((rs.metadata as JsonObject).name)).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    for (const p of pods) {
      const refs = (p.metadata as JsonObject).ownerReferences as JsonObject[];
      expect(refs[0]).toMatchObject({
        kind: 'ReplicaSet',
        controller: true,
        uid: (rs.metadata as JsonObject).uid,
      });
    }
    const d = await until('available', () => {
      const x = api.get('deployments.apps', 'default', 'web');
      return status(x).availableReplicas === 3 &&
        conditionOf(x, 'Progressing')?.reason === 'NewReplicaSetAvailable'
        ? x
        : undefined;
    });
    expect(status(d)).toMatchObject({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      observedGeneration: 1,
    });
    expect(conditionOf(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });

    api.updateScale('deployments.apps', 'default', 'web', { spec: { replicas: 5 } }, 'merge');
    await until('5 running', () => podsOf(api, 'app=web').filter((p) => phase(p) === 'Running').length === 5);
    api.updateScale('deployments.apps', 'default', 'web', { spec: { replicas: 2 } }, 'merge');
    await until('2 left', () => podsOf(api, 'app=web').length === 2);
    await until(
      'status 2',
      () => status(api.get('deployments.apps', 'default', 'web')).availableReplicas === 2,
    );
    expect(errors).toEqual([]);
  });

  it('rolls a new template out within maxSurge and maxUnavailable and keeps the old ReplicaSet at 0', async () => {
    const { api } = setup(3);
    api.create(
      'deployments.apps',
      'default',
      deployment('roll', 4, {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await until(
      '4 ready',
      () => status(api.get('deployments.apps', 'default', 'roll')).availableReplicas === 4,
    );
    // The rollout's bound: the ReplicaSets' replicas never exceed replicas + maxSurge.
    let maxPods = 0;
    const off = api.watch('replicasets.apps', 'default', {}, () => {
      const n = api
        .list('replicasets.apps', 'default')
        .items.reduce((s, r) => s + Number((r.spec as JsonObject).replicas), 0);
      maxPods = Math.max(maxPods, n);
    });
    cleanups.push(off);
    api.patch('deployments.apps', 'default', 'roll', 'strategic', {
      spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox:1.37' }] } } },
    });
    const d = await until('rolled out', () => {
      const x = api.get('deployments.apps', 'default', 'roll');
      const s = status(x);
      return s.observedGeneration === 2 &&
        s.updatedReplicas === 4 &&
        s.replicas === 4 &&
        s.availableReplicas === 4
        ? x
        : undefined;
    });
    expect(maxPods).toBeLessThanOrEqual(5);
    expect((d.metadata as JsonObject).annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '2',
    });
    const sets = api
      .list('replicasets.apps', 'default')
      .items.map((r) => (r.spec as JsonObject).replicas)
      .sort();
    expect(sets).toEqual([0, 4]);
    // A rollout counts as complete while the last old pods are still terminating (as in Kubernetes);
    // they go once their graceful deletion ends, leaving only pods of the new template.
    const images = () =>
      podsOf(api, 'app=roll').map((p) => ((p.spec as JsonObject).containers as JsonObject[])[0]!.image);
    await until('the old pods to be gone', () =>
      images().length === 4 && images().every((i) => i === 'busybox:1.37') ? true : undefined,
    );
  });

  it('adopts a matching orphan pod into a ReplicaSet instead of creating another', async () => {
    const { api } = setup(2);
    api.create('pods', 'default', {
      metadata: { name: 'orphan', labels: { app: 'adopt' } },
      spec: { containers: [container()] },
    });
    api.create('replicasets.apps', 'default', {
      metadata: { name: 'adopt' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'adopt' } },
        template: { metadata: { labels: { app: 'adopt' } }, spec: { containers: [container()] } },
      },
    });
    await until(
      '2 pods',
      () =>
        podsOf(api, 'app=adopt').length === 2 &&
        status(api.get('replicasets.apps', 'default', 'adopt')).replicas === 2,
    );
    const orphan = api.get('pods', 'default', 'orphan');
    expect(((orphan.metadata as JsonObject).ownerReferences as JsonObject[])[0]).toMatchObject({
      kind: 'ReplicaSet',
      name: 'adopt',
    });
  });

  it('leaves pods of another scheduler Pending until something binds them', async () => {
    const { api, controllers } = setup(2);
    api.create('pods', 'default', {
      metadata: { name: 'mine' },
      spec: { schedulerName: 'berth', containers: [container()] },
    });
    api.create('pods', 'default', { metadata: { name: 'default' }, spec: { containers: [container()] } });
    await until('default bound', () => nodeOf(api.get('pods', 'default', 'default')) !== '');
    await controllers.idle();
    expect(nodeOf(api.get('pods', 'default', 'mine'))).toBe('');
    expect(phase(api.get('pods', 'default', 'mine'))).toBe('Pending');
    api.bind('default', 'mine', { target: { name: 'node-2' } });
    await until('running', () => phase(api.get('pods', 'default', 'mine')) === 'Running');
  });

  it('marks a pod no node fits Unschedulable with a FailedScheduling event and binds it once a node fits', async () => {
    const { api } = setup(3, { scheduler: { initialBackoffMs: 20, maxBackoffMs: 50 } });
    api.patch('nodes', '', 'node-3', 'merge', {
      spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    });
    api.create('pods', 'default', {
      metadata: { name: 'big' },
      spec: { containers: [{ ...container(), resources: { requests: { cpu: '6' } } }] },
    });
    const pod = await until('unschedulable', () => {
      const p = api.get('pods', 'default', 'big');
      return conditionOf(p, 'PodScheduled')?.reason === 'Unschedulable' ? p : undefined;
    });
    const message = String(conditionOf(pod, 'PodScheduled')?.message);
    expect(message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    const events = await until('event', () => {
      const list = api.list('events', 'default').items.filter((e) => e.reason === 'FailedScheduling');
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]).toMatchObject({
      type: 'Warning',
      message,
      involvedObject: { kind: 'Pod', name: 'big' },
    });
    api.create('nodes', '', node('node-big', { cpu: '8' }));
    await until('bound to the big node', () => nodeOf(api.get('pods', 'default', 'big')) === 'node-big');
  });

  it('honours node selectors and required node affinity', async () => {
    const { api } = setup(0);
    api.create('nodes', '', node('a', { labels: { disk: 'ssd' } }));
    api.create('nodes', '', node('b', { labels: { disk: 'hdd', zone: 'z1' } }));
    api.create('pods', 'default', {
      metadata: { name: 'sel' },
      spec: { nodeSelector: { disk: 'ssd' }, containers: [container()] },
    });
    api.create('pods', 'default', {
      metadata: { name: 'aff' },
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }],
            },
          },
        },
        containers: [container()],
      },
    });
    await until(
      'both bound',
      () =>
        nodeOf(api.get('pods', 'default', 'sel')) !== '' && nodeOf(api.get('pods', 'default', 'aff')) !== '',
    );
    expect(nodeOf(api.get('pods', 'default', 'sel'))).toBe('a');
    expect(nodeOf(api.get('pods', 'default', 'aff'))).toBe('b');
  });

  it('completes a Job of 3 completions two at a time and fails one past its backoffLimit', async () => {
    const { api } = setup(2, { job: { podFailureBackoffMs: 10 } });
    let maxActive = 0;
    cleanups.push(
      api.watch('jobs.batch', 'default', {}, (e) => {
        maxActive = Math.max(maxActive, Number(status(e.object).active ?? 0));
      }),
    );
    api.create('jobs.batch', 'default', {
      metadata: { name: 'batch' },
      spec: { completions: 3, parallelism: 2, template: { spec: { containers: [container()] } } },
    });
    const job = await until('complete', () => {
      const j = api.get('jobs.batch', 'default', 'batch');
      return conditionOf(j, 'Complete')?.status === 'True' ? j : undefined;
    });
    expect(status(job)).toMatchObject({ succeeded: 3, active: 0 });
    expect(typeof status(job).completionTime).toBe('string');
    expect(maxActive).toBe(2);

    api.create('jobs.batch', 'default', {
      metadata: { name: 'fails' },
      spec: {
        backoffLimit: 2,
        template: { metadata: { labels: { 'test/fail': 'true' } }, spec: { containers: [container()] } },
      },
    });
    const failed = await until('failed', () => {
      const j = api.get('jobs.batch', 'default', 'fails');
      return conditionOf(j, 'Failed')?.status === 'True' ? j : undefined;
    });
    expect(conditionOf(failed, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(status(failed).failed).toBe(3);
  });

  it('fails a Job that runs longer than activeDeadlineSeconds', async () => {
    const { api } = setup(1);
    api.create('jobs.batch', 'default', {
      metadata: { name: 'slow' },
      spec: {
        activeDeadlineSeconds: 1,
        template: {
          metadata: { labels: { 'test/fail': 'never' } },
          spec: { schedulerName: 'nobody', containers: [container()] },
        },
      },
    });
    const job = await until(
      'deadline',
      () => {
        const j = api.get('jobs.batch', 'default', 'slow');
        return conditionOf(j, 'Failed')?.status === 'True' ? j : undefined;
      },
      4000,
    );
    expect(conditionOf(job, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(podsOf(api, 'job-name=slow')).toHaveLength(0);
  });

  it('lists exactly the ready pods as ready endpoints of a Service, by named target port', async () => {
    const notReady = new Set<string>();
    const { api } = setup(
      2,
      {},
      { ready: (p) => !notReady.has(String((p.metadata as JsonObject).generateName ?? '')) || false },
    );
    api.create('deployments.apps', 'default', {
      ...deployment('svc', 3),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'svc' } },
        template: {
          metadata: { labels: { app: 'svc' } },
          spec: { containers: [{ ...container(), ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
      },
    });
    api.create('pods', 'default', {
      metadata: { name: 'unready', labels: { app: 'svc', extra: 'x' } },
      spec: { schedulerName: 'nobody', containers: [container()] },
    });
    api.create('services', 'default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'svc' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    });
    const slice = await until('slice', () => {
      const s = api.list('endpointslices.discovery.k8s.io', 'default', {
        labelSelector: 'kubernetes.io/service-name=web',
      }).items;
      return s.length === 1 && (s[0]!.endpoints as JsonObject[]).length === 3 ? s[0] : undefined;
    });
    const running = podsOf(api, 'app=svc').filter((p) => phase(p) === 'Running');
    const readyNames = (slice!.endpoints as JsonObject[])
      .filter((e) => (e.conditions as JsonObject).ready === true)
      .map((e) => (e.targetRef as JsonObject).name)
      .sort();
    expect(readyNames).toEqual(running.map((p) => (p.metadata as JsonObject).name).sort());
    expect(slice!.ports).toEqual([{ name: 'web', port: 8080, protocol: 'TCP' }]);
    expect(slice!.metadata).toMatchObject({
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    });
    const ep = api.get('endpoints', 'default', 'web');
    expect(((ep.subsets as JsonObject[])[0]!.addresses as JsonObject[]).length).toBe(3);

    api.updateScale('deployments.apps', 'default', 'svc', { spec: { replicas: 1 } }, 'merge');
    await until('one endpoint', () => {
      const s = api.list('endpointslices.discovery.k8s.io', 'default', {
        labelSelector: 'kubernetes.io/service-name=web',
      }).items;
      return (s[0]!.endpoints as JsonObject[]).length === 1;
    });
  });

  it('turns a silent node Unknown, taints it unreachable, evicts its pods after their toleration and untaints it when it reports again', async () => {
    const { api } = setup(2, { nodeLifecycle: { gracePeriodMs: 300, monitorPeriodMs: 50 } });
    // node-2 keeps heartbeating; node-1 goes silent.
    const beat = setInterval(() => {
      const n = api.get('nodes', '', 'node-2');
      api.patch(
        'nodes',
        '',
        'node-2',
        'merge',
        {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                lastHeartbeatTime: new Date().toISOString(),
              },
            ],
          },
        },
        { subresource: 'status' },
      );
      void n;
    }, 50);
    cleanups.push(() => clearInterval(beat));
    const tolerations = [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 1,
      },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
    ];
    api.create('pods', 'default', {
      metadata: { name: 'on1' },
      spec: { nodeName: 'node-1', tolerations, containers: [container()] },
    });
    api.create('pods', 'default', {
      metadata: { name: 'default-tol' },
      spec: { nodeName: 'node-1', containers: [container()] },
    });
    const n1 = await until(
      'unknown',
      () => {
        const n = api.get('nodes', '', 'node-1');
        return ((n.spec as JsonObject).taints as JsonObject[] | undefined)?.length === 2 ? n : undefined;
      },
      3000,
    );
    expect(conditionOf(n1, 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect(
      ((n1.spec as JsonObject).taints as JsonObject[]).map((t) => `${t.key}:${t.effect}`).sort(),
    ).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(conditionOf(api.get('nodes', '', 'node-2'), 'Ready')?.status).toBe('True');
    const evicted = Date.now();
    await until(
      'evicted',
      () => api.list('pods', 'default', { fieldSelector: 'metadata.name=on1' }).items.length === 0,
      3000,
    );
    expect(Date.now() - evicted).toBeGreaterThan(300);
    // The 300 s default toleration (admission) keeps the other pod bound for now.
    expect(nodeOf(api.get('pods', 'default', 'default-tol'))).toBe('node-1');
    api.patch(
      'nodes',
      '',
      'node-1',
      'merge',
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              lastHeartbeatTime: new Date().toISOString(),
            },
          ],
        },
      },
      { subresource: 'status' },
    );
    await until(
      'untainted',
      () => ((api.get('nodes', '', 'node-1').spec as JsonObject).taints ?? null) === null,
    );
  });

  it('collects objects whose owners are gone and pods bound to deleted nodes', async () => {
    const { api } = setup(2);
    api.create('pods', 'default', {
      metadata: {
        name: 'stale',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'no-such-uid', controller: true },
        ],
      },
      spec: { schedulerName: 'nobody', containers: [container()] },
    });
    api.create('pods', 'default', {
      metadata: { name: 'lost' },
      spec: { nodeName: 'node-2', containers: [container()] },
    });
    await until(
      'stale collected',
      () => api.list('pods', 'default', { fieldSelector: 'metadata.name=stale' }).items.length === 0,
    );
    api.delete('nodes', '', 'node-2');
    await until(
      'lost collected',
      () => api.list('pods', 'default', { fieldSelector: 'metadata.name=lost' }).items.length === 0,
    );
  });

  it('scales a Deployment from metrics.k8s.io usage with an autoscaling/v2 HPA and writes its status', async () => {
    let cpuPerPod = '450m';
    const api0 = {
      pods: [] as {
        namespace: string;
        name: string;
        containers: { name: string; usage: Record<string, string> }[];
      }[],
    };
    const { api } = setup(3, {
      hpa: {
        syncPeriodMs: 100,
        decide: { cpuInitializationPeriodSeconds: 0, delayOfInitialReadinessStatusSeconds: 0 } as never,
        metrics: () => ({
          nodes: [],
          pods: api0.pods.map((p) => ({
            ...p,
            containers: p.containers.map((c) => ({ ...c, usage: { cpu: cpuPerPod, memory: '10Mi' } })),
          })),
        }),
      },
    });
    cleanups.push(
      api.watch('pods', 'default', {}, () => {
        api0.pods = api.list('pods', 'default', { labelSelector: 'app=auto' }).items.map((p) => ({
          namespace: 'default',
          name: String((p.metadata as JsonObject).name),
          containers: [{ name: 'main', usage: {} }],
        }));
      }),
    );
    api.create('deployments.apps', 'default', {
      metadata: { name: 'auto' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'auto' } },
        template: {
          metadata: { labels: { app: 'auto' } },
          spec: { containers: [{ ...container(), resources: { requests: { cpu: '500m' } } }] },
        },
      },
    });
    await until(
      '2 ready',
      () => status(api.get('deployments.apps', 'default', 'auto')).availableReplicas === 2,
    );
    api.create('horizontalpodautoscalers.autoscaling', 'default', {
      metadata: { name: 'auto' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'auto' },
        minReplicas: 1,
        maxReplicas: 6,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
      },
    });
    // 90 % of the request against a 50 % target: ceil(2 × 1.8) = 4.
    const hpa = await until('scaled up', () => {
      const h = api.get('horizontalpodautoscalers.autoscaling', 'default', 'auto');
      return status(h).desiredReplicas === 4 ? h : undefined;
    });
    expect(status(hpa)).toMatchObject({ currentReplicas: 2 });
    expect(conditionOf(hpa, 'AbleToScale')).toMatchObject({ status: 'True' });
    expect(conditionOf(hpa, 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    await until(
      'deployment at 4',
      () => (api.get('deployments.apps', 'default', 'auto').spec as JsonObject).replicas === 4,
    );
    await until('current metrics', () => {
      const h = api.get('horizontalpodautoscalers.autoscaling', 'default', 'auto');
      const m = (status(h).currentMetrics as JsonObject[] | undefined)?.[0];
      return m !== undefined && ((m.resource as JsonObject).current as JsonObject).averageUtilization === 90;
    });
    cpuPerPod = '450m';
  });

  it('restarts a controller, which converges from the informers', async () => {
    const { api, controllers } = setup(2);
    controllers.stop('replicaset');
    expect(controllers.running()).not.toContain('replicaset');
    api.create('deployments.apps', 'default', deployment('later', 2));
    await until('rs', () => api.list('replicasets.apps', 'default').items.length === 1);
    await controllers.idle();
    expect(podsOf(api, 'app=later')).toHaveLength(0);
    controllers.start('replicaset');
    await until('2 pods', () => podsOf(api, 'app=later').length === 2);
    controllers.restart('deployment');
    await until(
      'available',
      () => status(api.get('deployments.apps', 'default', 'later')).availableReplicas === 2,
    );
  });

  it('rejects bad options with an error naming the option', () => {
    expect(() =>
      startKubeControllers({ store: new KubeApi(), nodeLifecycle: { gracePeriodMs: -1 } }),
    ).toThrow(/nodeLifecycle\.gracePeriodMs/);
    expect(() => startKubeControllers({} as KubeControllersOptions)).toThrow(/`store`/);
    expect(() => startKubeControllers({ store: new KubeApi(), controllers: ['nope' as never] })).toThrow(
      /controllers/,
    );
  });
});
