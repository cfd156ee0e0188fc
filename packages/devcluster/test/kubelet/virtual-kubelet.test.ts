/**
 * The virtual kubelet against devcluster's Kubernetes face, and against a real control plane when
 * BERTH_REAL_K8S_KUBECONFIG names one (scripts/k8s-control-plane up). The face has no controllers,
 * so the "Deployment" case creates its replicas as pods bound with spec.nodeName.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resources } from '@berth/core';
import { AppsV1Api, type V1Lease, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, startEngine, startVirtualKubelet, type VirtualKubelet } from '../../src/index.ts';
import { faceTarget, kubectl, kubeletGet, readPod, realTarget, type Target, until } from './helpers.ts';

const real = process.env.BERTH_REAL_K8S_KUBECONFIG;
const targets: [string, () => Promise<Target>][] = [['devcluster kube face', faceTarget]];
if (real !== undefined && real !== '') targets.push(['real control plane', async () => realTarget(real)]);

/** client-node leaves MicroTime fields as the server's strings. */
const renewMs = (lease: V1Lease) => new Date(String(lease.spec?.renewTime)).getTime();
const sh = (script: string) => ({ command: ['/bin/sh', '-c', script] });

describe.each(targets)(
  'virtual kubelet joined to the %s',
  (_name, makeTarget) => {
    let target: Target;
    let engine: Engine;
    let kubelet: VirtualKubelet;
    const suffix = randomBytes(3).toString('hex');
    const ns = 'default';
    let nodeA: string;
    let nodeB: string;
    const errors: unknown[] = [];

    const pod = (
      name: string,
      nodeName: string,
      container: Record<string, unknown>,
      spec: Record<string, unknown> = {},
    ): V1Pod => ({
      metadata: { name: `${name}-${suffix}`, namespace: ns },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 5,
        ...spec,
        containers: [{ name: 'main', image: 'busybox:1.36', ...container }],
      },
    });
    const create = (p: V1Pod) => target.core.createNamespacedPod({ namespace: ns, body: p });

    beforeAll(async () => {
      target = await makeTarget();
      engine = await startEngine({
        nodes: [
          {
            count: 2,
            prefix: `vk-${suffix}`,
            capacity: Resources.fromQuantities({ cpu: '4', memory: '4Gi' }),
            zones: 2,
          },
        ],
      });
      [nodeA, nodeB] = engine.nodes().map((n) => n.id) as [string, string];
      kubelet = await startVirtualKubelet({
        kubeConfig: target.kubeConfig,
        engine,
        leaseDurationSeconds: 4,
        heartbeatSeconds: 1,
        statusUpdateSeconds: 2,
        backoff: { initialMs: 300, maxMs: 2_000 },
        metricsIntervalSeconds: 1,
        onError: (e) => errors.push(e),
      });
      target.attach(kubelet);
    }, 60_000);

    afterAll(async () => {
      await kubelet?.close({ deleteNodes: true });
      await engine?.stop();
      await target?.close();
    }, 60_000);

    it('registers each engine node as a Ready Node with capacity, labels, addresses and the kubelet port', async () => {
      const node = await target.core.readNode({ name: nodeA });
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status).toBe('True');
      expect(node.status?.conditions?.map((c) => c.type).sort()).toEqual([
        'DiskPressure',
        'MemoryPressure',
        'PIDPressure',
        'Ready',
      ]);
      expect(node.status?.capacity).toMatchObject({ cpu: '4', memory: '4Gi', pods: '110' });
      expect(node.status?.allocatable).toMatchObject({ cpu: '4', memory: '4Gi' });
      expect(node.metadata?.labels).toMatchObject({
        'kubernetes.io/hostname': nodeA,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': 'zone-a',
        'topology.kubernetes.io/region': 'devcluster',
      });
      expect(node.metadata?.labels?.['kubernetes.io/arch']).toMatch(/^[a-z0-9]+$/);
      expect(node.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('berth-4cpu-4gi');
      expect(node.status?.addresses).toEqual([
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: 'localhost' },
      ]);
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(kubelet.port);
      expect(node.status?.nodeInfo?.kubeletVersion).toMatch(/^v1\.\d+\.\d+/);
      expect(node.spec?.taints ?? []).not.toContainEqual(
        expect.objectContaining({ key: 'node.kubernetes.io/not-ready' }),
      );
    });

    it('renews each node Lease in kube-node-lease every heartbeat', async () => {
      const first = await target.coordination.readNamespacedLease({
        name: nodeB,
        namespace: 'kube-node-lease',
      });
      expect(first.spec?.holderIdentity).toBe(nodeB);
      expect(first.spec?.leaseDurationSeconds).toBe(4);
      expect(first.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: nodeB });
      const renewed = await until(
        'lease renewed',
        async () => {
          const l = await target.coordination.readNamespacedLease({
            name: nodeB,
            namespace: 'kube-node-lease',
          });
          return renewMs(l) > renewMs(first) ? l : undefined;
        },
        5_000,
      );
      expect(String(renewed.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    });

    it('runs a pod with a command to Running, then Succeeded or Failed with its exit code', async () => {
      await create(pod('ok', nodeA, sh('echo started; sleep 1; echo done'), { restartPolicy: 'Never' }));
      await create(pod('bad', nodeB, sh('echo oops >&2; sleep 1; exit 3'), { restartPolicy: 'Never' }));
      const running = await until('ok Running', async () => {
        const p = await readPod(target, `ok-${suffix}`);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      expect(running.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
      expect(running.status?.podIP).toBe('127.0.0.1');
      expect(running.status?.hostIP).toBe('127.0.0.1');
      expect(running.status?.startTime).toBeInstanceOf(Date);
      expect(running.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      const ok = await until('ok Succeeded', async () => {
        const p = await readPod(target, `ok-${suffix}`);
        return p.status?.phase === 'Succeeded' ? p : undefined;
      });
      const okState = ok.status?.containerStatuses?.[0];
      expect(okState?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(okState?.state?.terminated?.finishedAt).toBeInstanceOf(Date);
      expect(okState?.containerID).toMatch(/^berth:\/\//);
      expect(okState?.image).toBe('busybox:1.36');
      expect(ok.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'False',
        reason: 'PodCompleted',
      });
      const bad = await until('bad Failed', async () => {
        const p = await readPod(target, `bad-${suffix}`);
        return p.status?.phase === 'Failed' ? p : undefined;
      });
      expect(bad.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
        exitCode: 3,
        reason: 'Error',
      });
      expect(bad.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    });

    it('serves the container log through the kubelet API and kubectl logs', async () => {
      const name = `ok-${suffix}`;
      const direct = await kubeletGet(kubelet, `/containerLogs/${ns}/${name}/main`);
      expect(direct).toEqual({ status: 200, text: 'started\ndone\n' });
      const tail = await kubeletGet(kubelet, `/containerLogs/${ns}/${name}/main?tailLines=1`);
      expect(tail.text).toBe('done\n');
      const stamped = await kubeletGet(kubelet, `/containerLogs/${ns}/${name}/main?timestamps=true`);
      expect(stamped.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z started\n\S+ done\n$/);
      const stderr = await kubeletGet(kubelet, `/containerLogs/${ns}/bad-${suffix}/main`);
      expect(stderr.text).toBe('oops\n');
      const missing = await kubeletGet(kubelet, `/containerLogs/${ns}/nope-${suffix}/main`);
      expect(missing.status).toBe(404);
      const logs = await kubectl(target.kubeconfigPath, ['logs', '-n', ns, name]);
      expect(logs.stderr).toBe('');
      expect(logs.stdout).toBe('started\ndone\n');
    });

    it('follows a running container log to its end', async () => {
      await create(
        pod('follow', nodeA, sh('for i in 1 2 3; do echo line $i; sleep 0.3; done'), {
          restartPolicy: 'Never',
        }),
      );
      await until(
        'follow Running',
        async () => (await readPod(target, `follow-${suffix}`)).status?.phase === 'Running',
      );
      const followed = await kubectl(target.kubeconfigPath, ['logs', '-f', '-n', ns, `follow-${suffix}`]);
      expect(followed.stdout).toBe('line 1\nline 2\nline 3\n');
    });

    it('deleting a running pod sends SIGTERM, waits at most the grace period, then deletes it with grace 0', async () => {
      // Ignores SIGTERM, so only the SIGKILL after the 2 s grace period ends it.
      await create(
        pod('stubborn', nodeB, sh("trap '' TERM; echo up; while :; do sleep 0.1; done"), {
          terminationGracePeriodSeconds: 2,
        }),
      );
      // Exits on SIGTERM at once.
      await create(
        pod('polite', nodeB, sh("trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.1; done")),
      );
      for (const n of ['stubborn', 'polite']) {
        await until(
          `${n} Running`,
          async () => (await readPod(target, `${n}-${suffix}`)).status?.phase === 'Running',
        );
      }
      const task = (n: string) =>
        engine.tasks().find((t) => t.labels['berth.dev/pod'] === `${ns}/${n}-${suffix}`);
      expect(task('stubborn')?.state).toBe('RUNNING');
      const started = Date.now();
      await target.core.deleteNamespacedPod({ name: `stubborn-${suffix}`, namespace: ns });
      await target.core.deleteNamespacedPod({ name: `polite-${suffix}`, namespace: ns });
      const gone = async (n: string) =>
        until(`${n} deleted`, async () => {
          try {
            await readPod(target, `${n}-${suffix}`);
            return false;
          } catch {
            return Date.now() - started;
          }
        });
      const [stubbornMs, politeMs] = await Promise.all([gone('stubborn'), gone('polite')]);
      expect(politeMs).toBeLessThan(1_500);
      expect(stubbornMs).toBeGreaterThanOrEqual(1_900);
      expect(stubbornMs).toBeLessThan(4_000);
      expect(task('stubborn')?.state).toBe('KILLED');
      expect(task('polite')?.exitCode).toBe(0);
      const events = await target.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: `involvedObject.name=stubborn-${suffix}`,
      });
      expect(events.items.map((e) => e.reason)).toEqual(
        expect.arrayContaining(['Pulled', 'Created', 'Started', 'Killing']),
      );
    });

    it('restarts a crashing container with back-off: CrashLoopBackOff and a rising restartCount', async () => {
      await create(pod('crash', nodeA, sh('echo crash; exit 1')));
      const seen = new Set<string>();
      const final = await until(
        'restartCount ≥ 3',
        async () => {
          const p = await readPod(target, `crash-${suffix}`);
          const s = p.status?.containerStatuses?.[0];
          if (s?.state?.waiting?.reason) seen.add(s.state.waiting.reason);
          return (s?.restartCount ?? 0) >= 3 ? p : undefined;
        },
        15_000,
      );
      expect(seen).toContain('CrashLoopBackOff');
      const status = final.status?.containerStatuses?.[0];
      expect(status?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
      expect(final.status?.phase).toBe('Running');
      const previous = await kubeletGet(kubelet, `/containerLogs/${ns}/crash-${suffix}/main?previous=true`);
      expect(previous.text).toBe('crash\n');
      const events = await target.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: `involvedObject.name=crash-${suffix}`,
      });
      expect(events.items.some((e) => e.reason === 'BackOff' && e.type === 'Warning')).toBe(true);
      await target.core.deleteNamespacedPod({
        name: `crash-${suffix}`,
        namespace: ns,
        gracePeriodSeconds: 0,
      });
    });

    it('gates readiness on exec and httpGet probes and restarts a container whose tcpSocket liveness probe fails', async () => {
      await create(
        pod('probed', nodeA, {
          ...sh('sleep 0.6; touch ready; while :; do sleep 0.1; done'),
          readinessProbe: { exec: { command: ['test', '-f', 'ready'] }, periodSeconds: 1 },
        }),
      );
      const notReadyYet = await until('probed Running', async () => {
        const p = await readPod(target, `probed-${suffix}`);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      expect(notReadyYet.status?.containerStatuses?.[0]?.ready).toBe(false);
      await until(
        'probed Ready',
        async () =>
          (await readPod(target, `probed-${suffix}`)).status?.conditions?.find((c) => c.type === 'Ready')
            ?.status === 'True',
      );

      // httpGet on a named port: the probe dials the host port the engine gave that container port.
      await create(
        pod('web-probe', nodeA, {
          command: [
            process.execPath,
            '-e',
            "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT0), '127.0.0.1')",
          ],
          ports: [{ containerPort: 8080, name: 'http' }],
          readinessProbe: { httpGet: { port: 'http', path: '/healthz' }, periodSeconds: 1 },
        }),
      );
      await until(
        'web-probe Ready',
        async () =>
          (await readPod(target, `web-probe-${suffix}`)).status?.containerStatuses?.[0]?.ready === true,
      );

      await create(
        pod(
          'unlive',
          nodeB,
          {
            ...sh('while :; do sleep 0.1; done'),
            ports: [{ containerPort: 8080, name: 'http' }],
            livenessProbe: {
              tcpSocket: { port: 'http' },
              periodSeconds: 1,
              failureThreshold: 1,
              timeoutSeconds: 1,
            },
          },
          { terminationGracePeriodSeconds: 1 },
        ),
      );
      await until(
        'unlive restarted',
        async () =>
          ((await readPod(target, `unlive-${suffix}`)).status?.containerStatuses?.[0]?.restartCount ?? 0) >=
          1,
        15_000,
      );
      const events = await target.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: `involvedObject.name=unlive-${suffix}`,
      });
      expect(
        events.items.some((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Liveness probe failed')),
      ).toBe(true);
      for (const n of ['probed', 'web-probe', 'unlive'])
        await target.core.deleteNamespacedPod({
          name: `${n}-${suffix}`,
          namespace: ns,
          gracePeriodSeconds: 0,
        });
    });

    it('runs every replica of a Deployment-like set (pods bound with spec.nodeName), env from the downward API and PORT0', async () => {
      const names = [0, 1, 2, 3].map((i) => `web-${i}`);
      for (const [i, n] of names.entries()) {
        await create(
          pod(n, i % 2 === 0 ? nodeA : nodeB, {
            ...sh(
              'echo "$MY_POD on $MY_NODE at $POD_IP port $PORT0 greeting $(GREETING)"; while :; do sleep 0.2; done',
            ),
            args: [],
            env: [
              { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'GREETING', value: 'hi' },
            ],
            ports: [{ containerPort: 80 }],
            resources: { requests: { cpu: '100m', memory: '32Mi' } },
          }),
        );
      }
      for (const n of names) {
        await until(
          `${n} Running`,
          async () => (await readPod(target, `${n}-${suffix}`)).status?.phase === 'Running',
        );
      }
      const log = await until('web-1 log', async () => {
        const r = await kubeletGet(kubelet, `/containerLogs/${ns}/web-1-${suffix}/main`);
        return r.text === '' ? undefined : r.text;
      });
      expect(log).toMatch(
        new RegExp(`^web-1-${suffix} on ${nodeB} at 127\\.0\\.0\\.1 port 3\\d{4} greeting hi\\n$`),
      );
      expect(engine.node(nodeA)?.allocated.cpu).toBeGreaterThanOrEqual(200);
      await kubelet.refreshMetrics();
      const summary = JSON.parse((await kubeletGet(kubelet, `/stats/summary?node=${nodeA}`)).text) as {
        node: { nodeName: string };
        pods: { podRef: { name: string } }[];
      };
      expect(summary.node.nodeName).toBe(nodeA);
      expect(summary.pods.map((p) => p.podRef.name)).toEqual(
        expect.arrayContaining([`web-0-${suffix}`, `web-2-${suffix}`]),
      );
      expect(kubelet.metrics().pods.some((p) => p.name === `web-3-${suffix}`)).toBe(true);
      for (const n of names)
        await target.core.deleteNamespacedPod({
          name: `${n}-${suffix}`,
          namespace: ns,
          gracePeriodSeconds: 0,
        });
    });

    // Registered only where controllers and a scheduler run (the real control plane): the face has none.
    if (makeTarget !== faceTarget) {
      it('runs every pod of a Deployment the scheduler places on the virtual nodes', async () => {
        const apps = target.kubeConfig.makeApiClient(AppsV1Api);
        const name = `deploy-${suffix}`;
        await apps.createNamespacedDeployment({
          namespace: ns,
          body: {
            metadata: { name },
            spec: {
              replicas: 3,
              selector: { matchLabels: { app: name } },
              template: {
                metadata: { labels: { app: name } },
                spec: {
                  terminationGracePeriodSeconds: 1,
                  nodeSelector: { 'berth.dev/virtual-kubelet': 'true' },
                  containers: [
                    {
                      name: 'main',
                      image: 'busybox:1.36',
                      command: ['/bin/sh', '-c', 'while :; do sleep 0.2; done'],
                    },
                  ],
                },
              },
            },
          },
        });
        const pods = await until(
          'deployment pods Running',
          async () => {
            const list = await target.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` });
            const running = list.items.filter((p) => p.status?.phase === 'Running');
            return running.length === 3 ? running : undefined;
          },
          30_000,
        );
        expect(pods.every((p) => [nodeA, nodeB].includes(p.spec?.nodeName ?? ''))).toBe(true);
        const deployment = await until('deployment available', async () => {
          const d = await apps.readNamespacedDeployment({ name, namespace: ns });
          return d.status?.availableReplicas === 3 ? d : undefined;
        });
        expect(deployment.status?.readyReplicas).toBe(3);
        await apps.deleteNamespacedDeployment({ name, namespace: ns });
      }, 40_000);
    }

    it('runs init containers in order before the app container, and fails the pod when one fails under Never', async () => {
      // Containers share no filesystem (no volumes here): the steps meet in a directory of this machine.
      const dir = join(tmpdir(), `berth-vk-init-${suffix}`);
      await mkdir(dir, { recursive: true });
      await create(
        pod('init', nodeA, sh(`cat ${dir}/first ${dir}/second; while :; do sleep 0.2; done`), {
          initContainers: [
            { name: 'one', image: 'busybox:1.36', ...sh(`sleep 0.3; echo 1 > ${dir}/first`) },
            { name: 'two', image: 'busybox:1.36', ...sh(`test -f ${dir}/first && echo 2 > ${dir}/second`) },
          ],
        }),
      );
      const initializing = await readPod(target, `init-${suffix}`);
      expect(['Pending', undefined]).toContain(initializing.status?.phase);
      const running = await until('init Running', async () => {
        const p = await readPod(target, `init-${suffix}`);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      expect(
        running.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason]),
      ).toEqual([
        ['one', 'Completed'],
        ['two', 'Completed'],
      ]);
      expect(running.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
      const log = await until('init log', async () => {
        const r = await kubeletGet(kubelet, `/containerLogs/${ns}/init-${suffix}/main`);
        return r.text === '' ? undefined : r.text;
      });
      expect(log).toBe('1\n2\n');

      await create(
        pod('init-fail', nodeB, sh('echo never'), {
          restartPolicy: 'Never',
          initContainers: [{ name: 'setup', image: 'busybox:1.36', ...sh('exit 4') }],
        }),
      );
      const failed = await until('init-fail Failed', async () => {
        const p = await readPod(target, `init-fail-${suffix}`);
        return p.status?.phase === 'Failed' ? p : undefined;
      });
      expect(failed.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(4);
      expect(failed.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
      expect(failed.status?.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({
        status: 'False',
        reason: 'ContainersNotInitialized',
      });
      await target.core.deleteNamespacedPod({ name: `init-${suffix}`, namespace: ns, gracePeriodSeconds: 0 });
      await rm(dir, { recursive: true, force: true });
    });

    it('rejects a pod bound to a node it does not fit with OutOfcpu, as kubelet admission does', async () => {
      await create(
        pod(
          'huge',
          nodeA,
          { ...sh('true'), resources: { requests: { cpu: '64' } } },
          { restartPolicy: 'Never' },
        ),
      );
      const failed = await until('huge Failed', async () => {
        const p = await readPod(target, `huge-${suffix}`);
        return p.status?.phase === 'Failed' ? p : undefined;
      });
      expect(failed.status?.reason).toBe('OutOfcpu');
      expect(failed.status?.message).toMatch(
        /^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000/,
      );
      expect(engine.tasks().some((t) => t.labels['berth.dev/pod'] === `${ns}/huge-${suffix}`)).toBe(false);
    });

    it('simulates a container without a command and says the image is not pulled', async () => {
      await create(pod('sim', nodeA, {}));
      await until(
        'sim Running',
        async () => (await readPod(target, `sim-${suffix}`)).status?.phase === 'Running',
      );
      const events = await target.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: `involvedObject.name=sim-${suffix}`,
      });
      const pulled = events.items.find((e) => e.reason === 'Pulled');
      expect(pulled?.message).toMatch(/not pulled.*simulates/);
      await target.core.deleteNamespacedPod({ name: `sim-${suffix}`, namespace: ns });
      await until('sim deleted', async () => {
        try {
          await readPod(target, `sim-${suffix}`);
          return false;
        } catch {
          return true;
        }
      });
    });

    it('stops renewing the Lease of a failed engine node, and resumes when it recovers', async () => {
      engine.failNode(nodeB, { mode: 'unreachable' });
      await new Promise((r) => setTimeout(r, 300));
      const frozen = await target.coordination.readNamespacedLease({
        name: nodeB,
        namespace: 'kube-node-lease',
      });
      await new Promise((r) => setTimeout(r, 2_500));
      const later = await target.coordination.readNamespacedLease({
        name: nodeB,
        namespace: 'kube-node-lease',
      });
      expect(renewMs(later)).toBe(renewMs(frozen));
      const other = await target.coordination.readNamespacedLease({
        name: nodeA,
        namespace: 'kube-node-lease',
      });
      expect(Date.now() - renewMs(other)).toBeLessThan(2_500);
      engine.recoverNode(nodeB);
      await until(
        'lease renewed again',
        async () => {
          const l = await target.coordination.readNamespacedLease({
            name: nodeB,
            namespace: 'kube-node-lease',
          });
          return renewMs(l) > renewMs(frozen);
        },
        3_000,
      );
      expect(errors).toEqual([]);
    });
  },
  20_000,
);
