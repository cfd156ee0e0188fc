/**
 * Acceptance: the real kubectl against `startKubeCluster` (the face with its controllers) while
 * the virtual kubelet runs the pods for real on three engine nodes: a `kubectl create deployment`
 * reaches 3 Running replicas, scales to 5 and back to 2, `kubectl rollout status` returns, a Job
 * of 3 completions completes for `kubectl wait`, a Service's EndpointSlice lists the ready pods,
 * failing an engine node evicts and replaces its pods, and a `schedulerName: berth` pod stays
 * Pending until a Binding is POSTed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resources } from '@berth/core';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeletLogProxy,
  type Engine,
  type JsonObject,
  type KubeCluster,
  startEngine,
  startKubeCluster,
  startVirtualKubelet,
  type VirtualKubelet,
} from '../../src/index.ts';
import { call } from '../kube/helpers.ts';
import { kubectl, until } from '../kubelet/helpers.ts';

describe('kubectl against the face with controllers and the virtual kubelet', () => {
  let cluster: KubeCluster;
  let engine: Engine;
  let kubelet: VirtualKubelet;
  let dir: string;
  const errors: unknown[] = [];
  const k = (...args: string[]) => kubectl(cluster.kubeconfigPath, args);
  const podsJson = async (selector: string): Promise<JsonObject[]> => {
    const r = await k('get', 'pods', '-l', selector, '-o', 'json');
    return r.code === 0 ? ((JSON.parse(r.stdout) as { items: JsonObject[] }).items ?? []) : [];
  };
  const live = (p: JsonObject) => (p.metadata as JsonObject).deletionTimestamp === undefined;
  const phase = (p: JsonObject) => String((p.status as JsonObject | undefined)?.phase ?? '');
  const nodeOf = (p: JsonObject) => String((p.spec as JsonObject).nodeName ?? '');
  const ready = (p: JsonObject) =>
    (((p.status as JsonObject | undefined)?.conditions ?? []) as JsonObject[]).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-kc-'));
    cluster = await startKubeCluster({
      podTerminationMs: null,
      metrics: () => kubelet?.metrics() ?? { nodes: [], pods: [] },
      podLogs: (request) =>
        createKubeletLogProxy({
          node: (name) => {
            try {
              return cluster.store.get('nodes', '', name);
            } catch {
              return undefined;
            }
          },
        })(request),
      controllers: {
        nodeLifecycle: { gracePeriodMs: 2_500, monitorPeriodMs: 200 },
        scheduler: { initialBackoffMs: 100, maxBackoffMs: 500, unschedulableFlushMs: 1_000 },
        onError: (e) => errors.push(e),
      },
    });
    engine = await startEngine({
      nodes: [{ count: 3, prefix: 'kc', capacity: Resources.fromQuantities({ cpu: '4', memory: '4Gi' }) }],
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    kubelet = await startVirtualKubelet({
      kubeConfig,
      engine,
      leaseDurationSeconds: 2,
      heartbeatSeconds: 1,
      statusUpdateSeconds: 1,
      backoff: { initialMs: 200, maxMs: 1_000 },
      metricsIntervalSeconds: 1,
    });
  }, 60_000);

  afterAll(async () => {
    await kubelet?.close({ deleteNodes: true });
    await engine?.stop();
    await cluster?.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs `kubectl create deployment` to 3 Running replicas, scales to 5 and back to 2, and `kubectl rollout status` returns', async () => {
    const created = await k(
      'create',
      'deployment',
      'web',
      '--image=busybox:1.36',
      '--replicas=3',
      '--port=8080',
      '--',
      'sleep',
      '3600',
    );
    expect(created.stderr).toBe('');
    const status = await k('rollout', 'status', 'deployment/web', '--timeout=30s');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    const pods = (await podsJson('app=web')).filter(live);
    expect(pods.filter((p) => phase(p) === 'Running')).toHaveLength(3);
    expect(new Set(pods.map(nodeOf)).size).toBe(3);

    expect((await k('scale', 'deployment', 'web', '--replicas=5')).code).toBe(0);
    await until(
      '5 Running',
      async () => (await podsJson('app=web')).filter((p) => live(p) && phase(p) === 'Running').length === 5,
      20_000,
    );
    expect((await k('rollout', 'status', 'deployment/web', '--timeout=30s')).code).toBe(0);
    expect((await k('scale', 'deployment', 'web', '--replicas=2')).code).toBe(0);
    await until('2 left', async () => (await podsJson('app=web')).length === 2, 20_000);
    const table = await k('get', 'deployment', 'web');
    expect(table.stdout).toMatch(/web\s+2\/2\s+2\s+2/);
  }, 90_000);

  it('lists exactly the ready pods in the EndpointSlice of `kubectl expose`', async () => {
    expect((await k('expose', 'deployment', 'web', '--port=80', '--target-port=8080')).code).toBe(0);
    const slice = await until(
      'slice with 2 endpoints',
      async () => {
        const r = await k('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json');
        const items = (JSON.parse(r.stdout) as { items: JsonObject[] }).items;
        return items.length === 1 && ((items[0]!.endpoints ?? []) as JsonObject[]).length === 2
          ? items[0]
          : undefined;
      },
      10_000,
    );
    const readyPods = (await podsJson('app=web'))
      .filter((p) => live(p) && ready(p))
      .map((p) => (p.metadata as JsonObject).name);
    const readyEndpoints = (slice!.endpoints as JsonObject[])
      .filter((e) => (e.conditions as JsonObject).ready === true)
      .map((e) => (e.targetRef as JsonObject).name);
    expect(readyEndpoints.sort()).toEqual(readyPods.sort());
    expect(slice!.ports).toEqual([{ name: '', port: 8080, protocol: 'TCP' }]);
  }, 30_000);

  it('completes a Job of 3 completions for `kubectl wait --for=condition=complete`', async () => {
    const file = join(dir, 'job.json');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'batch', namespace: 'default' },
        spec: {
          completions: 3,
          parallelism: 2,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'echo done'] }],
            },
          },
        },
      }),
    );
    expect((await k('create', '-f', file)).code).toBe(0);
    const waited = await k('wait', '--for=condition=complete', 'job/batch', '--timeout=30s');
    expect(waited.stdout).toContain('job.batch/batch condition met');
    const job = JSON.parse((await k('get', 'job', 'batch', '-o', 'json')).stdout) as JsonObject;
    expect(job.status).toMatchObject({ succeeded: 3 });
  }, 45_000);

  it('evicts the pods of a failed engine node after their toleration and replaces them on other nodes', async () => {
    const file = join(dir, 'tolerant.json');
    const tolerations = ['unreachable', 'not-ready'].map((t) => ({
      key: `node.kubernetes.io/${t}`,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 1,
    }));
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'tolerant', namespace: 'default' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'tolerant' } },
          template: {
            metadata: { labels: { app: 'tolerant' } },
            spec: {
              tolerations,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'c', image: 'nginx:1.27' }],
            },
          },
        },
      }),
    );
    expect((await k('create', '-f', file)).code).toBe(0);
    expect((await k('rollout', 'status', 'deployment/tolerant', '--timeout=30s')).code).toBe(0);
    const before = (await podsJson('app=tolerant')).filter(live);
    const victim = nodeOf(before[0]!);
    const onVictim = before.filter((p) => nodeOf(p) === victim).map((p) => (p.metadata as JsonObject).name);
    engine.failNode(victim, { mode: 'unreachable' });
    try {
      const node = await until(
        'node unreachable',
        async () => {
          const n = JSON.parse((await k('get', 'node', victim, '-o', 'json')).stdout) as JsonObject;
          const taints = ((n.spec as JsonObject).taints ?? []) as JsonObject[];
          return taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute')
            ? n
            : undefined;
        },
        15_000,
      );
      const readyCond = ((node.status as JsonObject).conditions as JsonObject[]).find(
        (c) => c.type === 'Ready',
      );
      expect(readyCond).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
      await until(
        'replaced elsewhere',
        async () => {
          const pods = await podsJson('app=tolerant');
          const running = pods.filter((p) => live(p) && phase(p) === 'Running');
          const evicted = pods.filter((p) => onVictim.includes((p.metadata as JsonObject).name));
          return (
            running.length === 3 &&
            running.every((p) => nodeOf(p) !== victim) &&
            evicted.every((p) => !live(p))
          );
        },
        20_000,
      );
    } finally {
      engine.recoverNode(victim);
    }
    await until(
      'node Ready and untainted again',
      async () => {
        const n = JSON.parse((await k('get', 'node', victim, '-o', 'json')).stdout) as JsonObject;
        const taints = ((n.spec as JsonObject).taints ?? []) as JsonObject[];
        return taints.every((t) => !String(t.key).startsWith('node.kubernetes.io/'));
      },
      15_000,
    );
  }, 60_000);

  it('leaves a `schedulerName: berth` pod Pending until a Binding is POSTed', async () => {
    const file = join(dir, 'berth-pod.json');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'mine', namespace: 'default' },
        spec: {
          schedulerName: 'berth',
          containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }],
        },
      }),
    );
    expect((await k('create', '-f', file)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_000));
    await cluster.controllers?.idle();
    const pending = JSON.parse((await k('get', 'pod', 'mine', '-o', 'json')).stdout) as JsonObject;
    expect(phase(pending)).toBe('Pending');
    expect(nodeOf(pending)).toBe('');
    const target = engine.nodes()[0]!.id;
    const res = await call(cluster, 'POST', '/api/v1/namespaces/default/pods/mine/binding', {
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'mine' },
        target: { apiVersion: 'v1', kind: 'Node', name: target },
      },
    });
    expect(res.status).toBe(201);
    await until(
      'Running on the bound node',
      async () => {
        const p = JSON.parse((await k('get', 'pod', 'mine', '-o', 'json')).stdout) as JsonObject;
        return phase(p) === 'Running' && nodeOf(p) === target;
      },
      10_000,
    );
    expect((await k('delete', 'pod', 'mine', '--grace-period=1')).code).toBe(0);
  }, 30_000);
});
