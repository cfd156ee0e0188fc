/**
 * The real kubectl (v1.32) against devcluster's Kubernetes face, through the generated
 * kubeconfig: each case is one thing a user does, checked on kubectl's own output.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../src/index.ts';
import { eventually, kubectl } from './helpers.ts';

let server: KubeApiServer;
let dir: string;
let core: CoreV1Api;
const run = (...args: string[]) => kubectl(server.kubeconfigPath, join(dir, 'cache'), args);

async function manifest(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-kubectl-'));
  server = await startKubeApiServer({
    stateDir: join(dir, 'state'),
    podLogs: async function* (request) {
      yield `hello from ${request.pod.metadata && (request.pod.metadata as { name: string }).name}/${request.container}\n`;
      yield 'second line\n';
    },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  for (const name of ['node-a', 'node-b']) {
    await core.createNode({
      body: {
        metadata: { name, labels: { 'node-role.kubernetes.io/worker': '' } },
        status: {
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
          addresses: [{ type: 'InternalIP', address: name === 'node-a' ? '10.0.0.1' : '10.0.0.2' }],
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          nodeInfo: {
            kubeletVersion: 'v1.32.4',
            osImage: 'Berth devcluster',
            kernelVersion: '6.1',
            containerRuntimeVersion: 'berth://1',
            architecture: 'amd64',
            bootID: '',
            kubeProxyVersion: '',
            machineID: '',
            operatingSystem: 'linux',
            systemUUID: '',
          },
        },
      },
    });
  }
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kubectl against the devcluster Kubernetes face', () => {
  it('reports the server version', async () => {
    const r = await run('version');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Server Version: v1\.32\.\d+/);
  });

  it('lists nodes created through the API with status, roles and version', async () => {
    const r = await run('get', 'nodes');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines[1]).toMatch(/^node-a\s+Ready\s+worker\s+\d+s\s+v1\.32\.4$/);
    expect(lines).toHaveLength(3);
  });

  it('creates a pod from a manifest, validated by the server', async () => {
    const path = await manifest(
      'pod.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n  - name: nginx\n    image: nginx:1.27\n    ports: [{containerPort: 80}]\n',
    );
    const r = await run('create', '-f', path);
    expect(r).toMatchObject({ code: 0, stdout: 'pod/web created\n' });
  });

  it('rejects unknown fields in a manifest (strict server-side validation)', async () => {
    const path = await manifest(
      'typo.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers:\n  - {name: c, image: busybox, imagee: x}\n',
    );
    const r = await run('create', '-f', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.containers[0].imagee"');
  });

  it('prints a pod as JSON with the defaults the apiserver fills in', async () => {
    const r = await run('get', 'pod', 'web', '-o', 'json');
    expect(r.code).toBe(0);
    const pod = JSON.parse(r.stdout);
    expect(pod).toMatchObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: {
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        schedulerName: 'default-scheduler',
        containers: [
          { name: 'nginx', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }] },
        ],
      },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    });
    expect(pod.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(pod.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('lists pods in all namespaces with the wide columns, including the bound node', async () => {
    await core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'web',
      body: { metadata: { name: 'web' }, target: { kind: 'Node', name: 'node-a' } },
    });
    const r = await run('get', 'pods', '-A', '-o', 'wide');
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(
      /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    expect(row).toMatch(/^default\s+web\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+node-a\s+<none>\s+<none>$/);
  });

  it('describes a pod with its events', async () => {
    const pod = await core.readNamespacedPod({ namespace: 'default', name: 'web' });
    await core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: 'web.scheduled' },
        involvedObject: {
          kind: 'Pod',
          namespace: 'default',
          name: 'web',
          uid: pod.metadata?.uid ?? '',
          apiVersion: 'v1',
        },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web to node-a',
        type: 'Normal',
        source: { component: 'default-scheduler' },
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
        count: 1,
      },
    });
    const r = await run('describe', 'pod', 'web');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+web$/m);
    // kubectl prints node/hostIP; status.hostIP is the kubelet's to report, so it is empty here.
    expect(r.stdout).toMatch(/^Node:\s+node-a\/$/m);
    expect(r.stdout).toMatch(/^Status:\s+Pending$/m);
    expect(r.stdout).toMatch(
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to node-a/,
    );
  });

  it('streams a pod log through the pluggable log provider', async () => {
    const r = await run('logs', 'web');
    expect(r).toMatchObject({ code: 0, stdout: 'hello from web/nginx\nsecond line\n' });
  });

  it('labels, annotates and merge-patches a pod', async () => {
    expect((await run('label', 'pod', 'web', 'tier=frontend')).stdout).toBe('pod/web labeled\n');
    expect((await run('annotate', 'pod', 'web', 'berth.dev/note=hello')).stdout).toBe('pod/web annotated\n');
    const patched = await run(
      'patch',
      'pod',
      'web',
      '--type=merge',
      '-p',
      '{"metadata":{"labels":{"app":null,"track":"stable"}}}',
    );
    expect(patched.stdout).toBe('pod/web patched\n');
    const pod = await core.readNamespacedPod({ namespace: 'default', name: 'web' });
    expect(pod.metadata?.labels).toEqual({ tier: 'frontend', track: 'stable' });
    expect(pod.metadata?.annotations).toEqual({ 'berth.dev/note': 'hello' });
    const selected = await run('get', 'pods', '-l', 'tier in (frontend,backend),!app', '-o', 'name');
    expect(selected.stdout).toBe('pod/web\n');
  });

  it('scales a deployment through the scale subresource', async () => {
    const path = await manifest(
      'deploy.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: api, image: "ghcr.io/berth/api:1"}]\n',
    );
    expect((await run('create', '-f', path)).code).toBe(0);
    const r = await run('scale', 'deployment', 'api', '--replicas=3');
    expect(r).toMatchObject({ code: 0, stdout: 'deployment.apps/api scaled\n' });
    const json = JSON.parse((await run('get', 'deployment', 'api', '-o', 'json')).stdout);
    expect(json.spec.replicas).toBe(3);
    expect(json.metadata.generation).toBe(2);
    const all = await run('get', 'all');
    expect(all.stdout).toMatch(/^deployment\.apps\/api\s+0\/3\s/m);
    expect(all.stdout).toMatch(/^service\/kubernetes\s+ClusterIP\s+10\.96\.0\.1\s/m);
    const table = await run('get', 'deployments');
    expect(table.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(table.stdout).toMatch(/^api\s+0\/3\s+0\s+0\s+\d+s$/m);
  });

  it('accepts the protobuf bodies of typed commands: create namespace/deployment, expose', async () => {
    expect((await run('create', 'namespace', 'team-a')).stdout).toBe('namespace/team-a created\n');
    const created = await run(
      'create',
      'deployment',
      'shop',
      '-n',
      'team-a',
      '--image=nginx:1.27',
      '--replicas=2',
      '--port=80',
    );
    expect(created).toMatchObject({ code: 0, stdout: 'deployment.apps/shop created\n' });
    expect(
      (await run('expose', 'deployment', 'shop', '-n', 'team-a', '--port=8080', '--target-port=80')).code,
    ).toBe(0);
    const svc = JSON.parse((await run('get', 'service', 'shop', '-n', 'team-a', '-o', 'json')).stdout);
    expect(svc.spec).toMatchObject({
      selector: { app: 'shop' },
      ports: [{ port: 8080, targetPort: 80, protocol: 'TCP' }],
      clusterIP: expect.stringMatching(/^10\.96\./),
    });
    const deploy = JSON.parse((await run('get', 'deployment', 'shop', '-n', 'team-a', '-o', 'json')).stdout);
    expect(deploy.spec).toMatchObject({
      replicas: 2,
      strategy: { type: 'RollingUpdate' },
      template: {
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      },
    });
  });

  it('autoscales a deployment through autoscaling/v1, stored and served as autoscaling/v2', async () => {
    const r = await run('autoscale', 'deployment', 'api', '--min=1', '--max=4', '--cpu-percent=60');
    expect(r).toMatchObject({ code: 0, stdout: 'horizontalpodautoscaler.autoscaling/api autoscaled\n' });
    const v2 = JSON.parse((await run('get', 'hpa', 'api', '-o', 'json')).stdout);
    expect(v2).toMatchObject({
      apiVersion: 'autoscaling/v2',
      spec: {
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
          },
        ],
      },
    });
    expect((await run('get', 'hpa', 'api')).stdout).toMatch(
      /^api\s+Deployment\/api\s+cpu: <unknown>\/60%\s+1\s+4\s+0\s/m,
    );
  });

  it('drains a node: cordons it and evicts its pods', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'on-b' },
        spec: { nodeName: 'node-b', containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    const r = await run('drain', 'node-b', '--force', '--grace-period=0', '--timeout=10s');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node/node-b cordoned');
    expect(r.stdout).toContain('pod/on-b evicted');
    expect((await run('get', 'nodes', 'node-b')).stdout).toMatch(/node-b\s+Ready,SchedulingDisabled/);
  });

  it('watches pods and sees ADDED, MODIFIED and DELETED', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'watched' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    const child = spawn(
      'kubectl',
      [
        '--kubeconfig',
        server.kubeconfigPath,
        '--cache-dir',
        join(dir, 'cache'),
        'get',
        'pods',
        '-w',
        '--output-watch-events',
        '--field-selector',
        'metadata.name=watched',
      ],
      { env: { ...process.env, KUBECONFIG: '' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await eventually(() => /ADDED\s+watched/.test(out), 10_000);
      await core.patchNamespacedPod({
        namespace: 'default',
        name: 'watched',
        body: [{ op: 'add', path: '/metadata/labels', value: { seen: 'yes' } }],
      });
      await eventually(() => /MODIFIED\s+watched/.test(out), 10_000);
      expect((await run('delete', 'pod', 'watched')).code).toBe(0);
      await eventually(() => /DELETED\s+watched/.test(out), 10_000);
    } finally {
      child.kill();
    }
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('deletes a pod bound to a node and returns once it is gone', async () => {
    const r = await run('delete', 'pod', 'web');
    expect(r).toMatchObject({ code: 0, stdout: 'pod "web" deleted\n' });
    const after = await run('get', 'pod', 'web');
    expect(after.code).toBe(1);
  });

  it('lists the API resources with short names, versions and kinds', async () => {
    const r = await run('api-resources');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
    expect(r.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(r.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(r.stdout).toMatch(
      /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m,
    );
    expect(r.stdout).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
  });

  it('reports a missing pod as NotFound with exit code 1', async () => {
    const r = await run('get', 'pod', 'missing');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): pods "missing" not found');
  });

  it('reports a wrong token as Unauthorized', async () => {
    const bad = join(dir, 'bad-kubeconfig');
    await server.writeKubeconfig(bad);
    const { readFile } = await import('node:fs/promises');
    const text = (await readFile(bad, 'utf8')).replace(server.token, 'not-the-token');
    await writeFile(bad, text);
    const r = await kubectl(bad, join(dir, 'cache-bad'), ['get', 'pods']);
    expect(r.code).toBe(1);
    // kubectl 1.32 words a 401 Status from discovery this way against a real apiserver too.
    expect(r.stderr).toContain(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
  });
});
